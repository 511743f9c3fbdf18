package netslim.backend.cuda;

import java.util.ArrayList;
import java.util.List;

import jcuda.driver.CUdeviceptr;

/**
 * A growable device buffer reused across calls (im2col columns, labels, per-row losses). Every use is on the one
 * stream, so reuse is ordered; growing synchronises first so no queued kernel still reads the old buffer.
 *
 * <p>A captured CUDA graph holds the address the buffer had at capture time. So while any graph of this context is
 * alive, growing does not free the old buffer: it is retired and freed by {@link #release} (backend close), and an
 * executor's graph captured before another executor grew the buffer keeps writing memory it owns. Growth is
 * geometric, so the retired buffers together are smaller than the live one.
 */
final class DeviceScratch {
    /** What the scratch needs from its context (an interface so the retire rule is tested without a GPU). */
    interface Device {
        CUdeviceptr allocate(long bytes);

        void free(CUdeviceptr p);

        void synchronize(String what);

        /** Captured graphs not yet destroyed. */
        int liveGraphs();
    }

    private final Device device;
    private final String what;
    private final List<CUdeviceptr> retired = new ArrayList<>();
    private CUdeviceptr ptr;
    private long bytes;

    DeviceScratch(Device device, String what) {
        this.device = device;
        this.what = what;
    }

    /** A buffer of at least {@code need} bytes (contents undefined). */
    CUdeviceptr get(long need) {
        if (need > bytes) {
            if (ptr != null) {
                device.synchronize("scratch " + what);
                if (device.liveGraphs() > 0) retired.add(ptr);
                else device.free(ptr);
            }
            long size = Math.max(need, Math.min(2 * bytes, need + (64L << 20))); // grow with some headroom
            ptr = null;
            bytes = 0;
            ptr = device.allocate(size);
            bytes = size;
        }
        return ptr;
    }

    /** Buffers kept alive for captured graphs (for tests). */
    int retiredCount() {
        return retired.size();
    }

    /** Frees the buffer and every retired one (the backend is closing: its graphs are gone). */
    void release() {
        if (ptr == null && retired.isEmpty()) return;
        device.synchronize("scratch " + what);
        if (ptr != null) device.free(ptr);
        for (CUdeviceptr p : retired) device.free(p);
        retired.clear();
        ptr = null;
        bytes = 0;
    }
}
