package netslim.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuGetErrorName;
import static jcuda.driver.JCudaDriver.cuGetErrorString;
import static jcuda.driver.JCudaDriver.cuGraphDestroy;
import static jcuda.driver.JCudaDriver.cuGraphExecDestroy;
import static jcuda.driver.JCudaDriver.cuGraphInstantiate;
import static jcuda.driver.JCudaDriver.cuGraphLaunch;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;
import static jcuda.driver.JCudaDriver.cuStreamBeginCapture;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamEndCapture;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.io.IOException;
import java.io.InputStream;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import netslim.NetslimException;

/**
 * The driver-API side of the CUDA backend: device 0's primary context (made current on every thread that calls in,
 * so JCuda, cuBLAS and later cuSOLVER share memory and the stream), one blocking stream, our kernel modules loaded
 * from the classpath fatbins, launches, raw allocations. Every CUDA return code is checked: an error becomes a
 * {@link NetslimException} naming the operation and the CUDA error. With {@code -Dnetslim.cuda.sync=true} every
 * launch is followed by a stream synchronisation, so an asynchronous kernel fault is reported against its kernel.
 */
final class CudaContext implements AutoCloseable, DeviceScratch.Device {
    private static final ThreadLocal<CUcontext> CURRENT = new ThreadLocal<>();

    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final Map<CudaKernel, CUfunction> functions = new EnumMap<>(CudaKernel.class);
    private final boolean syncEveryLaunch = Boolean.getBoolean("netslim.cuda.sync");
    private final int maxGrid;
    private boolean closed;
    /** Non-null while the stream is being captured into a CUDA graph: what is being captured. */
    private String capturing;
    /** Instantiated graphs not yet destroyed (their kernels hold scratch addresses: see DeviceScratch). */
    private int liveGraphs;

    CudaContext() {
        check(cuDeviceGet(device, 0), "cuDeviceGet");
        check(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        makeCurrent();
        // Blocking (not CU_STREAM_NON_BLOCKING): synchronous cuMemcpyHtoD/DtoH on the legacy default stream are then
        // ordered after our kernels, which is what upload/download rely on.
        check(cuStreamCreate(stream, CUstream_flags.CU_STREAM_DEFAULT), "cuStreamCreate");
        int[] sms = {0};
        check(cuDeviceGetAttribute(sms, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device),
                "cuDeviceGetAttribute(SM count)");
        maxGrid = Math.max(1, sms[0]) * 32; // grid-stride kernels: 32 blocks of 256 per SM saturate any SM
        for (String m : CudaProbe.modules()) modules.put(m, load(m));
        for (CudaKernel k : CudaKernel.values()) {
            CUfunction f = new CUfunction();
            check(cuModuleGetFunction(f, modules.get(k.module()), k.symbol()), "cuModuleGetFunction " + k.symbol());
            functions.put(k, f);
        }
    }

    private static CUmodule load(String module) {
        String res = CudaKernel.resource(module);
        byte[] image;
        try (InputStream in = CudaContext.class.getResourceAsStream(res)) {
            if (in == null) throw new NetslimException("CUDA kernels " + res + " are not in this build (no nvcc)");
            image = in.readAllBytes();
        } catch (IOException e) {
            throw new NetslimException("cannot read CUDA kernels " + res + ": " + e.getMessage());
        }
        CUmodule m = new CUmodule();
        check(cuModuleLoadData(m, image), "cuModuleLoadData " + res);
        return m;
    }

    CUstream stream() {
        return stream;
    }

    CUcontext context() {
        return context;
    }

    /** Makes the primary context current on the calling thread (once per thread). */
    void makeCurrent() {
        if (CURRENT.get() != context) {
            check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
            CURRENT.set(context);
        }
    }

    /** A launch of {@code blocks} x {@code threads} with the given kernel parameters (see {@link KernelArgs}). */
    void launch(CudaKernel k, int blocks, int threads, Pointer... args) {
        if (blocks == 0) return;
        launchGrid(k, blocks, 1, threads, args);
    }

    /** cuLaunchKernel of a gx x gy grid of 1-D blocks; with {@code netslim.cuda.sync}, a sync naming the kernel. */
    private void launchGrid(CudaKernel k, int gx, int gy, int threads, Pointer... args) {
        makeCurrent();
        check(cuLaunchKernel(functions.get(k), gx, gy, 1, threads, 1, 1, 0, stream, Pointer.to(args), null),
                "launch " + k.symbol());
        if (syncEveryLaunch && capturing == null) check(cuStreamSynchronize(stream), "kernel " + k.symbol());
    }

    /**
     * A plane launch (native/common.cuh PLANE_STRIDE / IN_PLANE): {@code planes} planes of {@code planeSize}
     * elements; y blocks walk the planes (at most 65,535, grid-stride beyond), x threads one plane's elements
     * (blocks of 32..256 threads, a multiple of 32 covering small planes without idle warps).
     */
    void launchPlanes(CudaKernel k, long planes, int planeSize, Pointer... args) {
        if (planes == 0 || planeSize == 0) return;
        int threads = Math.min(CudaKernel.THREADS, (planeSize + 31) / 32 * 32);
        int gx = (int) Math.min((planeSize + threads - 1) / threads, 64);
        int gy = (int) Math.min(planes, 65_535);
        launchGrid(k, gx, gy, threads, args);
    }

    /** A grid-stride launch covering {@code n} elements, one thread each. */
    void launch1d(CudaKernel k, long n, Pointer... args) {
        long blocks = Math.min((n + CudaKernel.THREADS - 1) / CudaKernel.THREADS, maxGrid);
        launch(k, (int) blocks, CudaKernel.THREADS, args);
    }

    /** Zero-filled device memory of {@code bytes} bytes. */
    @Override
    public CUdeviceptr allocate(long bytes) {
        makeCurrent();
        if (capturing != null) {
            throw new NetslimException("CUDA graph capture of " + capturing + ": an allocation of " + bytes
                    + " bytes, which a capture cannot contain");
        }
        CUdeviceptr p = new CUdeviceptr();
        int rc = cuMemAlloc(p, Math.max(bytes, 4));
        if (rc != 0) {
            throw new NetslimException(CudaErrors.driver(rc, "cuMemAlloc of " + bytes + " bytes", errorName(rc)));
        }
        check(cuMemsetD32Async(p, 0, Math.max(bytes, 4) / 4, stream), "cuMemsetD32Async (zero)");
        return p;
    }

    @Override
    public void free(CUdeviceptr p) {
        if (closed) return;
        makeCurrent();
        check(cuMemFree(p), "cuMemFree");
    }

    @Override
    public void synchronize(String what) {
        makeCurrent();
        if (capturing != null) {
            throw new NetslimException("CUDA graph capture of " + capturing + ": " + what
                    + " needs a stream synchronisation, which a capture cannot contain");
        }
        check(cuStreamSynchronize(stream), what);
    }

    /**
     * Captures what {@code work} enqueues on the stream into an instantiated CUDA graph (thread-local capture mode:
     * this thread may not allocate or synchronise meanwhile). On failure the capture is ended and discarded and a
     * one-line {@link NetslimException} names {@code what} and the cause.
     */
    CUgraphExec capture(String what, Runnable work) {
        makeCurrent();
        synchronize("before the capture of " + what);
        check(cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
                "cuStreamBeginCapture (" + what + ")");
        capturing = what;
        CUgraph graph = new CUgraph();
        RuntimeException failure = null;
        try {
            work.run();
        } catch (RuntimeException e) {
            failure = e;
        } finally {
            capturing = null;
            int rc = cuStreamEndCapture(stream, graph);
            if (failure == null && rc != 0) {
                failure = new NetslimException(CudaErrors.driver(rc, "cuStreamEndCapture (" + what + ")",
                        errorName(rc)));
            }
        }
        if (failure != null) {
            cuGraphDestroy(graph);
            throw failure instanceof NetslimException ? failure
                    : new NetslimException("CUDA graph capture of " + what + " failed: " + failure);
        }
        CUgraphExec exec = new CUgraphExec();
        try {
            check(cuGraphInstantiate(exec, graph, 0), "cuGraphInstantiate (" + what + ")");
        } finally {
            cuGraphDestroy(graph);
        }
        liveGraphs++;
        return exec;
    }

    /** Enqueues one replay of a captured graph on the stream. */
    void launchGraph(CUgraphExec exec, String what) {
        makeCurrent();
        check(cuGraphLaunch(exec, stream), "cuGraphLaunch (" + what + ")");
        if (syncEveryLaunch) check(cuStreamSynchronize(stream), "graph " + what);
    }

    void destroyGraph(CUgraphExec exec) {
        if (closed) return;
        makeCurrent();
        cuGraphExecDestroy(exec);
        liveGraphs--;
    }

    @Override
    public int liveGraphs() {
        return liveGraphs;
    }

    /** {@code n} timing events (default flags: they record timestamps). */
    CUevent[] events(int n) {
        makeCurrent();
        CUevent[] ev = new CUevent[n];
        for (int i = 0; i < n; i++) {
            ev[i] = new CUevent();
            check(cuEventCreate(ev[i], CUevent_flags.CU_EVENT_DEFAULT), "cuEventCreate");
        }
        return ev;
    }

    void record(CUevent e) {
        makeCurrent();
        check(cuEventRecord(e, stream), "cuEventRecord");
    }

    /** Milliseconds from {@code a} to {@code b}, after waiting for {@code b}. */
    double elapsedMs(CUevent a, CUevent b) {
        makeCurrent();
        check(cuEventSynchronize(b), "cuEventSynchronize (or an earlier asynchronous kernel failed)");
        float[] ms = {0};
        check(cuEventElapsedTime(ms, a, b), "cuEventElapsedTime");
        return ms[0];
    }

    void destroy(CUevent[] events) {
        if (closed) return;
        makeCurrent();
        for (CUevent e : events) cuEventDestroy(e);
    }

    @Override
    public void close() {
        if (closed) return;
        makeCurrent();
        cuStreamSynchronize(stream);
        for (CUmodule m : modules.values()) cuModuleUnload(m);
        cuStreamDestroy(stream);
        closed = true;
        cuDevicePrimaryCtxRelease(device);
        CURRENT.remove();
    }

    /** Throws a one-line {@link NetslimException} for a failed CUDA driver call. */
    static void check(int rc, String what) {
        if (rc != 0) throw new NetslimException(CudaErrors.driver(rc, what, errorName(rc)));
    }

    /** "CUDA_ERROR_X (description)" for a driver result code. */
    static String errorName(int rc) {
        String[] name = {null}, text = {null};
        try {
            cuGetErrorName(rc, name);
            cuGetErrorString(rc, text);
        } catch (Throwable ignored) {
            // the names are a nicety; the code is enough
        }
        return (name[0] != null ? name[0] : "CUresult " + rc) + (text[0] != null ? " (" + text[0] + ")" : "");
    }
}
