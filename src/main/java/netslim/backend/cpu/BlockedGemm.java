package netslim.backend.cpu;

/**
 * One thread's share of the packed GEMM (Goto / BLIS loop nest): for a block of C rows [i0, i1) and columns
 * [j0, j1) it packs op(B) into kc x nc panels of {@code nr} columns (kept in L2/L3, each micro-panel reused from L1)
 * and op(A), scaled by alpha, into mc x kc panels of {@code mr} rows (kept in L2), then sweeps the micro-kernel over
 * the tiles. The first k-block applies beta (no separate pass over C), later ones accumulate. Edge tiles go through
 * a small tile buffer, so the kernel only ever sees full, zero-padded panels.
 */
final class BlockedGemm {
    /** Depth of one packed block: a B micro-panel is KC·nr·4 bytes = 16 KiB for nr = 16, half of L1. */
    static final int KC = 256;
    /** Rows of A per packed block: MC·KC·4 = 96 KiB, a fifth of a 512 KiB L2. Multiple of every kernel's mr. */
    static final int MC = 96;
    /** Columns of B per packed block: KC·NC·4 = 2 MiB, a share of the L3. Multiple of every kernel's nr. */
    static final int NC = 2048;
    /** Up to this many columns of C per thread, the kernel reads A in place instead of packing it. */
    static final int A_IN_PLACE_MAX_N = 192;

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private BlockedGemm() {
    }

    /** Per-thread packing buffers, grown on demand and reused across calls. */
    private static final class Workspace {
        float[] packA = new float[0];
        float[] packB = new float[0];
        float[] tile = new float[0];

        float[] packA(int size) {
            return packA.length >= size ? packA : (packA = new float[size]);
        }

        float[] packB(int size) {
            return packB.length >= size ? packB : (packB = new float[size]);
        }

        float[] tile(int size) {
            return tile.length >= size ? tile : (tile = new float[size]);
        }
    }

    /** C[i0, i1) x [j0, j1) = alpha · op(A)[i0, i1) · op(B)[:, j0, j1) + beta · C on that block. */
    static void run(MicroKernel kernel, GemmCall g, int i0, int i1, int j0, int j1) {
        int mr = kernel.mr();
        int nr = kernel.nr();
        Workspace ws = WORKSPACE.get();
        int kcMax = Math.min(KC, g.k());
        float[] packA = ws.packA(roundUp(Math.min(MC, i1 - i0), mr) * kcMax);
        float[] packB = ws.packB(roundUp(Math.min(NC, j1 - j0), nr) * kcMax);
        float[] tile = ws.tile(mr * nr);
        // For a narrow C, packing A would cost as much as a good part of the product (~2 cycles per element against
        // n/12 cycles of FMAs), so the kernel reads op(A)'s rows in place instead (~9% slower kernel).
        boolean aInPlace = !g.transA() && j1 - j0 <= A_IN_PLACE_MAX_N;
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = 0; pc < g.k(); pc += KC) {
                int kc = Math.min(KC, g.k() - pc);
                float beta = pc == 0 ? g.beta() : 1f; // later k-blocks accumulate onto the first
                packB(g, pc, kc, jc, nc, nr, kernel.narrow().nr(), packB);
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    int packedFrom = aInPlace ? mc - mc % mr : 0; // in place: only a last partial panel is packed
                    packA(g, ic + packedFrom, mc - packedFrom, pc, kc, mr, packA);
                    Block block = new Block(g, ic, pc, kc, packedFrom, packA, packB, beta);
                    sweep(kernel, block, mc, nc, g.offC() + ic * g.ldc() + jc, tile);
                }
            }
        }
    }

    /** One mc x nc block's operands: A rows [ic, ic+packedFrom) read in place, the rest packed in packA. */
    private record Block(GemmCall g, int ic, int pc, int kc, int packedFrom, float[] packA, float[] packB,
                         float beta) {
        /** Runs {@code k} on row panel {@code ir} and B panel {@code jr}, writing C at {@code cOff}. */
        void run(MicroKernel k, int ir, int jr, float beta, float[] c, int cOff, int ldc) {
            if (ir < packedFrom) {
                k.run(kc, g.a(), g.indexA(ic + ir, pc), g.lda(), 1, g.alpha(), packB, jr * kc, beta, c, cOff, ldc);
            } else {
                k.run(kc, packA, (ir - packedFrom) * kc, 1, k.mr(), 1f, packB, jr * kc, beta, c, cOff, ldc);
            }
        }
    }

    /** Runs the kernel over all mr x nr tiles of an mc x nc block of C at {@code cOff}. */
    private static void sweep(MicroKernel kernel, Block block, int mc, int nc, int cOff, float[] tile) {
        int mr = kernel.mr();
        float[] c = block.g().c();
        int ldc = block.g().ldc();
        float beta = block.beta();
        for (int jr = 0; jr < nc; jr += kernel.nr()) {
            int cols = Math.min(kernel.nr(), nc - jr);
            MicroKernel k = panelKernel(kernel, cols);
            int nr = k.nr();
            for (int ir = 0; ir < mc; ir += mr) {
                int rows = Math.min(mr, mc - ir);
                int at = cOff + ir * ldc + jr;
                if (rows == mr && cols == nr) {
                    block.run(k, ir, jr, beta, c, at, ldc);
                } else {
                    block.run(k, ir, jr, 0f, tile, 0, nr);
                    for (int i = 0; i < rows; i++) {
                        int row = at + i * ldc;
                        for (int j = 0; j < cols; j++) {
                            c[row + j] = beta == 0f ? tile[i * nr + j] : beta * c[row + j] + tile[i * nr + j];
                        }
                    }
                }
            }
        }
    }

    /** The kernel for a B panel of {@code cols} columns: the narrow one when the panel fits it. */
    private static MicroKernel panelKernel(MicroKernel kernel, int cols) {
        MicroKernel narrow = kernel.narrow();
        return cols <= narrow.nr() ? narrow : kernel;
    }

    /**
     * Packs alpha · op(A)[ic, ic+mc) x [pc, pc+kc) into panels of mr rows: panel r at r·mr·kc, element (i, p) at
     * p·mr + i; rows past mc are zero.
     */
    static void packA(GemmCall g, int ic, int mc, int pc, int kc, int mr, float[] dst) {
        float[] a = g.a();
        float alpha = g.alpha();
        for (int ir = 0; ir < mc; ir += mr) {
            int rows = Math.min(mr, mc - ir);
            int base = ir * kc;
            if (g.transA()) { // op(A)(i, p) = A[p][i]: the mr values of one p are contiguous
                for (int p = 0; p < kc; p++) {
                    int src = g.indexA(ic + ir, pc + p);
                    int d = base + p * mr;
                    for (int i = 0; i < rows; i++) {
                        dst[d + i] = alpha * a[src + i];
                    }
                }
            } else { // op(A)(i, p) = A[i][p]: walk each row contiguously
                for (int i = 0; i < rows; i++) {
                    int src = g.indexA(ic + ir + i, pc);
                    for (int p = 0; p < kc; p++) {
                        dst[base + p * mr + i] = alpha * a[src + p];
                    }
                }
            }
            for (int i = rows; i < mr; i++) {
                for (int p = 0; p < kc; p++) {
                    dst[base + p * mr + i] = 0f;
                }
            }
        }
    }

    /**
     * Packs op(B)[pc, pc+kc) x [jc, jc+nc) into panels of nr columns: panel q at q·nr·kc, element (p, j) at
     * p·nr + j; columns past nc are zero. A last panel of at most {@code narrowNr} columns is packed that wide
     * (for the narrow kernel) instead.
     */
    static void packB(GemmCall g, int pc, int kc, int jc, int nc, int fullNr, int narrowNr, float[] dst) {
        float[] b = g.b();
        for (int jr = 0; jr < nc; jr += fullNr) {
            int cols = Math.min(fullNr, nc - jr);
            int nr = cols <= narrowNr ? narrowNr : fullNr;
            int base = jr * kc;
            if (g.transB()) { // op(B)(p, j) = B[j][p]: walk each stored row contiguously
                for (int j = 0; j < cols; j++) {
                    int src = g.indexB(pc, jc + jr + j);
                    for (int p = 0; p < kc; p++) {
                        dst[base + p * nr + j] = b[src + p];
                    }
                }
            } else { // op(B)(p, j) = B[p][j]: the nr values of one p are contiguous
                for (int p = 0; p < kc; p++) {
                    System.arraycopy(b, g.indexB(pc + p, jc + jr), dst, base + p * nr, cols);
                }
            }
            if (cols < nr) {
                for (int p = 0; p < kc; p++) {
                    java.util.Arrays.fill(dst, base + p * nr + cols, base + (p + 1) * nr, 0f);
                }
            }
        }
    }

    static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }
}
