package netslim.backend.cpu;

/** The plain-Java micro-kernel used with {@code -Dnetslim.vector=false}: a 4 x 8 tile, same packing as the vector one. */
final class ScalarMicroKernel implements MicroKernel {
    static final int MR = 4;
    static final int NR = 8;

    @Override
    public int mr() {
        return MR;
    }

    @Override
    public int nr() {
        return NR;
    }

    @Override
    public void run(int kc, float[] a, int aOff, int aRowStride, int aPStride, float alpha, float[] pb, int bOff,
                    float beta, float[] c, int cOff, int ldc) {
        float[] acc = new float[NR];
        for (int i = 0; i < MR; i++) {
            java.util.Arrays.fill(acc, 0f);
            for (int p = 0; p < kc; p++) {
                float aip = a[aOff + i * aRowStride + p * aPStride];
                int bp = bOff + p * NR;
                for (int j = 0; j < NR; j++) {
                    acc[j] += aip * pb[bp + j];
                }
            }
            int row = cOff + i * ldc;
            for (int j = 0; j < NR; j++) {
                c[row + j] = beta == 0f ? alpha * acc[j] : beta * c[row + j] + alpha * acc[j];
            }
        }
    }
}
