package netslim.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector-API micro-kernel: a 6 x (2 vectors) tile of C held in 12 accumulator registers (6 x 16 floats with
 * AVX2's 256-bit vectors), the classic Haswell/Zen SGEMM shape: per p it loads 2 B vectors and broadcasts 6 A
 * values for 12 FMAs, so with 16 ymm registers nothing spills. FLOPs per call 2·6·16·kc; bytes read from the
 * packed panels (6 + 16)·4·kc, mostly from L1 (B panel) and L2 (A panel).
 */
final class VectorMicroKernel implements MicroKernel {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int V = S.length();
    static final int MR = 6;
    static final int NR = 2 * V;

    @Override
    public int mr() {
        return MR;
    }

    @Override
    public int nr() {
        return NR;
    }

    @Override
    public void run(int kc, float[] pa, int aOff, float[] pb, int bOff, float[] c, int cOff, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * NR;
            int ai = aOff + p * MR;
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + V);
            FloatVector a0 = FloatVector.broadcast(S, pa[ai + 0]);
            c00 = a0.fma(b0, c00);
            c01 = a0.fma(b1, c01);
            FloatVector a1 = FloatVector.broadcast(S, pa[ai + 1]);
            c10 = a1.fma(b0, c10);
            c11 = a1.fma(b1, c11);
            FloatVector a2 = FloatVector.broadcast(S, pa[ai + 2]);
            c20 = a2.fma(b0, c20);
            c21 = a2.fma(b1, c21);
            FloatVector a3 = FloatVector.broadcast(S, pa[ai + 3]);
            c30 = a3.fma(b0, c30);
            c31 = a3.fma(b1, c31);
            FloatVector a4 = FloatVector.broadcast(S, pa[ai + 4]);
            c40 = a4.fma(b0, c40);
            c41 = a4.fma(b1, c41);
            FloatVector a5 = FloatVector.broadcast(S, pa[ai + 5]);
            c50 = a5.fma(b0, c50);
            c51 = a5.fma(b1, c51);
        }
        addInto(c, cOff + 0 * ldc, c00, c01);
        addInto(c, cOff + 1 * ldc, c10, c11);
        addInto(c, cOff + 2 * ldc, c20, c21);
        addInto(c, cOff + 3 * ldc, c30, c31);
        addInto(c, cOff + 4 * ldc, c40, c41);
        addInto(c, cOff + 5 * ldc, c50, c51);
    }

    private static void addInto(float[] c, int off, FloatVector lo, FloatVector hi) {
        FloatVector.fromArray(S, c, off).add(lo).intoArray(c, off);
        FloatVector.fromArray(S, c, off + V).add(hi).intoArray(c, off + V);
    }
}
