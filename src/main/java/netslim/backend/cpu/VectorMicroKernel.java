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

    private static final MicroKernel NARROW = new Narrow();

    @Override
    public MicroKernel narrow() {
        return NARROW;
    }

    @Override
    public void run(int kc, float[] pa, int aOff, float[] pb, int bOff, float beta, float[] c, int cOff, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        // The C update is written out inline: a helper taking FloatVector arguments was not inlined by C2 here and
        // forced one vector box (a float[8] allocation) per loop iteration, halving the kernel's speed.
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
        if (beta == 0f) { // overwrite: C is not read, so NaN already there does not survive
            int r = cOff;
            c00.intoArray(c, r);
            c01.intoArray(c, r + V);
            r += ldc;
            c10.intoArray(c, r);
            c11.intoArray(c, r + V);
            r += ldc;
            c20.intoArray(c, r);
            c21.intoArray(c, r + V);
            r += ldc;
            c30.intoArray(c, r);
            c31.intoArray(c, r + V);
            r += ldc;
            c40.intoArray(c, r);
            c41.intoArray(c, r + V);
            r += ldc;
            c50.intoArray(c, r);
            c51.intoArray(c, r + V);
        } else { // C = beta * C + acc (beta = 1 on every k-block after the first)
            FloatVector bv = FloatVector.broadcast(S, beta);
            int r = cOff;
            FloatVector.fromArray(S, c, r).fma(bv, c00).intoArray(c, r);
            FloatVector.fromArray(S, c, r + V).fma(bv, c01).intoArray(c, r + V);
            r += ldc;
            FloatVector.fromArray(S, c, r).fma(bv, c10).intoArray(c, r);
            FloatVector.fromArray(S, c, r + V).fma(bv, c11).intoArray(c, r + V);
            r += ldc;
            FloatVector.fromArray(S, c, r).fma(bv, c20).intoArray(c, r);
            FloatVector.fromArray(S, c, r + V).fma(bv, c21).intoArray(c, r + V);
            r += ldc;
            FloatVector.fromArray(S, c, r).fma(bv, c30).intoArray(c, r);
            FloatVector.fromArray(S, c, r + V).fma(bv, c31).intoArray(c, r + V);
            r += ldc;
            FloatVector.fromArray(S, c, r).fma(bv, c40).intoArray(c, r);
            FloatVector.fromArray(S, c, r + V).fma(bv, c41).intoArray(c, r + V);
            r += ldc;
            FloatVector.fromArray(S, c, r).fma(bv, c50).intoArray(c, r);
            FloatVector.fromArray(S, c, r + V).fma(bv, c51).intoArray(c, r + V);
        }
    }

    /** The 6 x (1 vector) kernel for a last B panel at most one vector wide (e.g. n = 49 = 3·16 + 1). */
    static final class Narrow implements MicroKernel {
        @Override
        public int mr() {
            return MR;
        }

        @Override
        public int nr() {
            return V;
        }

        @Override
        public void run(int kc, float[] pa, int aOff, float[] pb, int bOff, float beta, float[] c, int cOff,
                        int ldc) {
            FloatVector c0 = FloatVector.zero(S);
            FloatVector c1 = FloatVector.zero(S);
            FloatVector c2 = FloatVector.zero(S);
            FloatVector c3 = FloatVector.zero(S);
            FloatVector c4 = FloatVector.zero(S);
            FloatVector c5 = FloatVector.zero(S);
            for (int p = 0; p < kc; p++) {
                FloatVector b0 = FloatVector.fromArray(S, pb, bOff + p * V);
                int ai = aOff + p * MR;
                c0 = FloatVector.broadcast(S, pa[ai + 0]).fma(b0, c0);
                c1 = FloatVector.broadcast(S, pa[ai + 1]).fma(b0, c1);
                c2 = FloatVector.broadcast(S, pa[ai + 2]).fma(b0, c2);
                c3 = FloatVector.broadcast(S, pa[ai + 3]).fma(b0, c3);
                c4 = FloatVector.broadcast(S, pa[ai + 4]).fma(b0, c4);
                c5 = FloatVector.broadcast(S, pa[ai + 5]).fma(b0, c5);
            }
            int r = cOff;
            if (beta == 0f) {
                c0.intoArray(c, r);
                r += ldc;
                c1.intoArray(c, r);
                r += ldc;
                c2.intoArray(c, r);
                r += ldc;
                c3.intoArray(c, r);
                r += ldc;
                c4.intoArray(c, r);
                r += ldc;
                c5.intoArray(c, r);
            } else {
                FloatVector bv = FloatVector.broadcast(S, beta);
                FloatVector.fromArray(S, c, r).fma(bv, c0).intoArray(c, r);
                r += ldc;
                FloatVector.fromArray(S, c, r).fma(bv, c1).intoArray(c, r);
                r += ldc;
                FloatVector.fromArray(S, c, r).fma(bv, c2).intoArray(c, r);
                r += ldc;
                FloatVector.fromArray(S, c, r).fma(bv, c3).intoArray(c, r);
                r += ldc;
                FloatVector.fromArray(S, c, r).fma(bv, c4).intoArray(c, r);
                r += ldc;
                FloatVector.fromArray(S, c, r).fma(bv, c5).intoArray(c, r);
            }
        }
    }
}
