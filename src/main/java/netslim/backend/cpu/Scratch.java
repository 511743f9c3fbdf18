package netslim.backend.cpu;

/**
 * Reusable float buffers of one calling thread (im2col columns, gathered GEMM operands), grown on demand and never
 * shrunk, so the hot paths of convolution allocate nothing after the first (largest) layer.
 */
final class Scratch {
    /** Buffer slots: each is an independent array. */
    static final int COLUMNS = 0;
    static final int GATHER = 1;

    private final float[][] buffers = new float[2][];

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
