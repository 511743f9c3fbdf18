package netslim.backend.cuda;

/**
 * Every kernel the CUDA backend launches: the {@code native/<module>.cu} file (packaged as
 * {@code /native/<module>.fatbin}) and its {@code extern "C"} name. The one list both the backend and
 * {@code NativeBuildTest} (which checks each name is in the built fatbin) read.
 */
public enum CudaKernel {
    IM2COL("conv", "im2col_batch"),
    COL2IM("conv", "col2im_batch"),
    NCHW_TO_CNHW("conv", "nchw_to_cnhw"),
    CHANNEL_BIAS("conv", "channel_bias"),
    CHANNEL_SUM("conv", "channel_sum"),
    RELU("act", "relu_fwd"),
    RELU_BACKWARD("act", "relu_bwd"),
    CLIP("act", "clip_fwd"),
    CLIP_BACKWARD("act", "clip_bwd"),
    BIAS_RELU("act", "bias_relu"),
    BN_TRAIN("bn", "bn_train"),
    BN_EVAL("bn", "bn_eval"),
    BN_BACKWARD("bn", "bn_backward"),
    MAX_POOL("pool", "max_pool_fwd"),
    MAX_POOL_BACKWARD("pool", "max_pool_bwd"),
    AVG_POOL("pool", "avg_pool_fwd"),
    AVG_POOL_BACKWARD("pool", "avg_pool_bwd"),
    GLOBAL_AVG_POOL("pool", "gap_fwd"),
    GLOBAL_AVG_POOL_BACKWARD("pool", "gap_bwd"),
    XENT("loss", "xent_fwd"),
    XENT_BACKWARD("loss", "xent_bwd"),
    SGD("sgd", "sgd_step"),
    ADD("elementwise", "add2"),
    AXPY("elementwise", "axpy"),
    COPY_CHANNELS("elementwise", "copy_channels"),
    DROPOUT("elementwise", "dropout_fwd"),
    DROPOUT_BACKWARD("elementwise", "dropout_bwd");

    /** Threads per block of every 1-D launch (THREADS in native/common.cuh). */
    public static final int THREADS = 256;
    /**
     * Threads per block of the one-block-per-channel reductions (bn_train, bn_backward, channel_sum; REDUCE_THREADS
     * in native/common.cuh): large, since the grid has only C blocks.
     */
    public static final int REDUCE_THREADS = 1024;

    private final String module;
    private final String symbol;

    CudaKernel(String module, String symbol) {
        this.module = module;
        this.symbol = symbol;
    }

    /** The .cu file (without extension) that defines the kernel. */
    public String module() {
        return module;
    }

    /** The kernel's unmangled name. */
    public String symbol() {
        return symbol;
    }

    /** Classpath resource of the module's fatbin. */
    public static String resource(String module) {
        return "/native/" + module + ".fatbin";
    }
}
