package netslim.backend.cpu;

/**
 * Reusable float buffers of one calling thread (im2col columns, gathered GEMM operands, Winograd's transformed
 * tiles, max pooling's row maxima), grown on demand and never shrunk, so the hot paths allocate nothing after the
 * first (largest) layer.
 */
final class Scratch {
    /** Buffer slots of convolution (the default two): each is an independent array. */
    static final int COLUMNS = 0;
    static final int GATHER = 1;
    /** A weight matrix packed for one call (the stem's bands), read by every worker of that call. */
    static final int PACKED = 2;

    private final float[][] buffers;

    /** The two convolution slots. */
    Scratch() {
        this(2);
    }

    /** {@code slots} independent buffers, numbered from 0. */
    Scratch(int slots) {
        buffers = new float[slots][];
    }

    /** A buffer of at least {@code size} floats; its contents are arbitrary. */
    float[] get(int slot, int size) {
        float[] b = buffers[slot];
        if (b == null || b.length < size) {
            b = new float[size];
            buffers[slot] = b;
        }
        return b;
    }
}
