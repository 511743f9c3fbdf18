package netslim.api;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import netslim.NetslimException;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import netslim.backend.cuda.CudaBackend;
import netslim.io.ModelFiles;
import netslim.nn.BatchNormFolding;
import netslim.nn.Graph;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * A model ready for inference inside a Java application: load once, call {@link #predict} from any number of
 * threads, {@link #close} when done.
 *
 * <pre>{@code
 * try (NetslimModel model = NetslimModel.load(Path.of("pruned.nsm"), Device.AUTO)) {
 *     float[] logits = model.predict(images, 8);           // 8 images, NCHW, 8 * C * H * W floats
 *     List<Prediction> top5 = model.topK(oneImage, 5);     // C * H * W floats
 * }
 * }</pre>
 *
 * <p><b>Thread safety.</b> Every method may be called concurrently. Each {@code predict} borrows an inference
 * executor planned for its batch size from a lock-free pool and gives it back afterwards (the pool grows to the
 * peak number of concurrent calls per batch size; all executors read the same immutable weights). On the CPU all
 * executors share one CPU backend with {@link Options#threads} worker threads: a calling thread works on its own
 * call and the workers help whichever calls are running, so one caller gets all cores and many callers share them
 * without oversubscription. On CUDA each executor owns its backend (stream, cuBLAS handle, device copy of the
 * weights), because the CUDA backend is not thread-safe. Results do not depend on how many threads call at once:
 * the same input at the same batch size gives bit-identical logits whether the model is used by one thread or
 * many (another batch size may differ in the last bits: the GEMMs are blocked differently).
 *
 * <p><b>Inputs</b> are float32 NCHW, preprocessed as the model was trained (e.g. normalised); a wrong size is a
 * {@link NetslimException} that says what was expected. By default BatchNorms that follow convs are folded into them
 * at load ({@link BatchNormFolding}), which changes logits only by float rounding (about 1e-6 relative).
 *
 * <p><b>Lifecycle.</b> {@link #close} waits for calls in flight, then releases every executor, worker thread and
 * device buffer; later calls throw a {@link NetslimException} saying the model is closed.
 */
public final class NetslimModel implements AutoCloseable {

    /**
     * Load options. {@code threads}: CPU worker threads shared by all calls, 0 = one per core. {@code foldBatchNorm}:
     * fold BatchNorms into the preceding convs at load (faster, same function).
     *
     * <pre>{@code
     * NetslimModel m = NetslimModel.load(file, Device.CPU, new NetslimModel.Options(1, true));
     * }</pre>
     */
    public record Options(int threads, boolean foldBatchNorm) {
        public Options {
            if (threads < 0) throw new NetslimException("threads must be ≥ 0 (0 = one per core), got " + threads);
        }

        public static Options defaults() {
            return new Options(0, true);
        }
    }

    private final String name;
    private final Graph graph;
    private final Shape outputShape; // at batch 1
    private final ExecutorPool pool;
    private final String device;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean closed;

    private NetslimModel(String name, Graph graph, Device device, Options options) {
        this.name = name;
        this.graph = options.foldBatchNorm() ? BatchNormFolding.fold(graph).graph() : graph;
        this.graph.validateParams();
        this.outputShape = this.graph.shapes(1).get(this.graph.outputName());
        ExecutorPool opened = null;
        if (device == Device.AUTO && CudaBackend.probe().available()) {
            try {
                opened = open(this.graph, null, Device.CUDA);
            } catch (NetslimException e) { // the GPU is there but the backend does not start: run on the CPU
                opened = null;
            }
        }
        this.pool = opened != null ? opened : open(this.graph, options, device == Device.AUTO ? Device.CPU : device);
        ExecutorPool.Slot first = pool.borrow(1);
        this.device = first.executor().backend().toString();
        pool.release(first);
    }

    /** A pool on the CPU (one shared backend) or CUDA (a backend per executor), with a batch-1 executor planned. */
    private static ExecutorPool open(Graph g, Options options, Device device) {
        ExecutorPool p;
        if (device == Device.CPU) {
            int t = options.threads() > 0 ? options.threads() : Runtime.getRuntime().availableProcessors();
            p = new ExecutorPool(g, CpuBackend.create(t, Gemm.select(System.getProperty("netslim.gemm", "auto"), t)), null);
        } else {
            p = new ExecutorPool(g, null, () -> CudaBackend.create(CudaBackend.Options.fp32()));
        }
        try {
            p.release(p.create(1)); // plans now: errors (no GPU, a model that does not fit) surface at load
            return p;
        } catch (RuntimeException | Error e) {
            p.close();
            throw e;
        }
    }

    /** Loads a {@code .nsm} or {@code .onnx} model with {@link Options#defaults()}. */
    public static NetslimModel load(Path file, Device device) {
        return load(file, device, Options.defaults());
    }

    /**
     * Loads a {@code .nsm} or {@code .onnx} model. A missing, corrupt or unsupported file is a
     * {@link NetslimException} naming the file; {@link Device#CUDA} without a working GPU is one saying why.
     */
    public static NetslimModel load(Path file, Device device, Options options) {
        if (file == null || device == null || options == null) throw new NullPointerException("file, device, options");
        return new NetslimModel(String.valueOf(file.getFileName()), ModelFiles.load(file), device, options);
    }

    /** Wraps a graph built in memory (a zoo model, a pruned result); the graph must not be changed afterwards. */
    public static NetslimModel of(Graph graph, Device device, Options options) {
        if (graph == null || device == null || options == null) throw new NullPointerException("graph, device, options");
        return new NetslimModel("graph", graph, device, options);
    }

    /** The file name the model came from ("graph" for {@link #of}). */
    public String name() {
        return name;
    }

    /** One image's shape, C x H x W. */
    public Shape inputShape() {
        return graph.inputShape();
    }

    /** Floats per image: C·H·W. */
    public int inputSize() {
        return graph.inputShape().size();
    }

    /** Outputs per image (the number of classes for a classifier). */
    public int numClasses() {
        return outputShape.size();
    }

    /** What the model runs on, e.g. "cpu (2 threads, gemm java)". */
    public String device() {
        return device;
    }

    /** The graph the model runs (BatchNorms folded unless disabled); read-only. */
    public Graph graph() {
        return graph;
    }

    /**
     * Logits of {@code batch} images given as {@code batch·C·H·W} floats in NCHW order; returns
     * {@code batch·numClasses()} floats, image after image. The array is only read.
     */
    public float[] predict(float[] nchw, int batch) {
        if (nchw == null) throw new NetslimException(name + ": input is null");
        if (batch < 1) throw new NetslimException(name + ": batch must be ≥ 1, got " + batch);
        long need = (long) batch * inputSize();
        if (nchw.length != need) {
            throw new NetslimException(name + ": input has " + nchw.length + " floats, but a batch of " + batch
                    + " images of " + inputShape() + " needs " + need + " (" + batch + " x " + inputSize() + ")");
        }
        Shape in = Shape.of(batch, inputShape().dim(0), inputShape().dim(1), inputShape().dim(2));
        return run(Tensor.of(in, nchw)).toArray();
    }

    /** Logits of a host tensor (N, C, H, W): a new host tensor of shape (N, classes) (or the model's output rank). */
    public Tensor predict(Tensor input) {
        if (input == null) throw new NetslimException(name + ": input is null");
        Shape s = input.shape();
        boolean fits = s.rank() == 4 && s.dim(0) >= 1 && Shape.of(s.dim(1), s.dim(2), s.dim(3)).equals(inputShape());
        if (!fits) throw new NetslimException(name + ": input has shape " + s + ", the model takes Nx" + inputShape());
        if (!input.isHost()) throw new NetslimException(name + ": input must be a host tensor");
        return run(input);
    }

    /** The {@code k} most likely classes of one image ({@code C·H·W} floats), highest first. */
    public List<Prediction> topK(float[] chw, int k) {
        return topK(chw, 1, k).get(0);
    }

    /** The {@code k} most likely classes of each of {@code batch} images, highest first. */
    public List<List<Prediction>> topK(float[] nchw, int batch, int k) {
        float[] logits = predict(nchw, batch);
        int classes = numClasses();
        List<List<Prediction>> out = new ArrayList<>(batch);
        for (int i = 0; i < batch; i++) out.add(Prediction.topK(logits, i * classes, classes, k));
        return out;
    }

    private Tensor run(Tensor hostInput) {
        enter();
        try {
            ExecutorPool.Slot slot = pool.borrow(hostInput.shape().dim(0));
            try {
                return slot.executor().forwardToHost(hostInput);
            } finally {
                pool.release(slot);
            }
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /**
     * Counts a call in; refused once closed. With close() setting {@code closed} before reading {@code inFlight}
     * and a call incrementing {@code inFlight} before reading {@code closed} (both sequentially consistent), either
     * close() waits for the call or the call sees the model closed.
     */
    private void enter() {
        inFlight.incrementAndGet();
        if (closed) {
            inFlight.decrementAndGet();
            throw new NetslimException(name + ": the model is closed");
        }
    }

    /** Executors planned so far (diagnostics: how many concurrent calls the pool has served at once). */
    int executors() {
        return pool.size();
    }

    /** Waits for calls in flight, then releases executors, worker threads and device memory. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        while (inFlight.get() > 0) LockSupport.parkNanos(100_000);
        pool.close();
    }

    @Override
    public String toString() {
        return "NetslimModel(" + name + ", input Nx" + inputShape() + ", " + numClasses() + " outputs, " + device + ")";
    }
}
