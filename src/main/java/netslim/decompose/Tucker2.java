package netslim.decompose;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Tucker-2 of a conv kernel W (T, S, kh, kw) on its channel modes: W ≈ G ×₀ U ×₁ V with U (T×R4) and V (S×R3)
 * orthonormal and core G (R4, R3, kh, kw) = W ×₀ Uᵀ ×₁ Vᵀ. HOSVD initialises U and V from the leading left singular
 * vectors of the mode-0 and mode-1 unfoldings; HOOI then alternates — project W by one factor, take the leading
 * singular vectors of the other unfolding — while the relative error drops by at least {@value #HOOI_TOLERANCE} per
 * sweep, up to a cap. Everything runs in double precision. Relative error is √(‖W‖² − ‖G‖²)/‖W‖, exact for
 * orthonormal factors.
 */
public final class Tucker2 {
    /** HOOI stops when a sweep improves the relative error by less than this. */
    public static final double HOOI_TOLERANCE = 1e-4;

    private final Svd svd;

    public Tucker2(Svd svd) {
        this.svd = svd;
    }

    /**
     * The full spectra of both unfoldings of a kernel, with their left singular vectors: what rank selection (the
     * singular values) and HOSVD (the leading vectors) need, computed once.
     */
    public record Spectra(Svd.Result mode0, int mode0Cols, Svd.Result mode1, int mode1Cols) {
        /** All min(T, S·kh·kw) singular values of the mode-0 (output-channel) unfolding, descending. */
        public double[] outSingularValues() { return mode0.singularValues(); }

        /** All min(S, T·kh·kw) singular values of the mode-1 (input-channel) unfolding, descending. */
        public double[] inSingularValues() { return mode1.singularValues(); }
    }

    /**
     * A Tucker-2 factorisation: factors {@code u} (T×R4), {@code v} (S×R3), core (R4, R3, kh, kw), the relative
     * error after HOOI (the best sweep's) and after the HOSVD initialisation, and the number of HOOI sweeps run.
     */
    public record Result(DMatrixRMaj u, DMatrixRMaj v, ConvKernel core, double relError, double hosvdRelError,
                         int hooiSweeps) {
        public int r3() { return v.numCols; }

        public int r4() { return u.numCols; }

        /** Weight of the first 1x1 conv, S → R3: Vᵀ as (R3, S, 1, 1). */
        public Tensor inWeight() {
            return transposedAsConv(v);
        }

        /** Weight of the kh×kw conv, R3 → R4: the core G (R4, R3, kh, kw). */
        public Tensor coreWeight() {
            return core.toTensor();
        }

        /** Weight of the last 1x1 conv, R4 → T: U as (T, R4, 1, 1). */
        public Tensor outWeight() {
            float[] f = new float[u.data.length];
            for (int i = 0; i < f.length; i++) f[i] = (float) u.data[i];
            return Tensor.of(Shape.of(u.numRows, u.numCols, 1, 1), f);
        }

        /** G ×₀ U ×₁ V in double, shape (T, S, kh, kw), C order. */
        public double[] reconstruct() {
            return core.expandMode0(u).expandMode1(v).data();
        }

        private static Tensor transposedAsConv(DMatrixRMaj m) {
            float[] f = new float[m.data.length];
            for (int i = 0; i < m.numRows; i++) {
                for (int j = 0; j < m.numCols; j++) f[j * m.numRows + i] = (float) m.get(i, j);
            }
            return Tensor.of(Shape.of(m.numCols, m.numRows, 1, 1), f);
        }
    }

    /** Spectra of both unfoldings of a conv weight (T, S, kh, kw). */
    public Spectra spectra(Tensor weight) {
        return spectra(ConvKernel.of(weight));
    }

    Spectra spectra(ConvKernel w) {
        DMatrixRMaj m0 = w.mode0(), m1 = w.mode1();
        return new Spectra(svd.decompose(m0, true, false), m0.numCols, svd.decompose(m1, true, false), m1.numCols);
    }

    /** The largest ranks Tucker-2 can have: R4 ≤ min(T, S·k, R3·k) and R3 ≤ min(S, T·k, R4·k), k = kh·kw. */
    public static boolean feasible(Shape weight, int r3, int r4) {
        int t = weight.dim(0), s = weight.dim(1), k = weight.dim(2) * weight.dim(3);
        return r3 >= 1 && r4 >= 1 && r4 <= Math.min(t, (long) s * k) && r3 <= Math.min(s, (long) t * k)
                && r4 <= (long) r3 * k && r3 <= (long) r4 * k;
    }

    /** Decomposes a conv weight (T, S, kh, kw) at ranks (R3, R4) with at most {@code hooiSweeps} HOOI sweeps. */
    public Result decompose(Tensor weight, int r3, int r4, int hooiSweeps) {
        ConvKernel w = ConvKernel.of(weight);
        return decompose(w, spectra(w), r3, r4, hooiSweeps);
    }

    /** As {@link #decompose(Tensor, int, int, int)}, reusing spectra already computed for rank selection. */
    public Result decompose(Tensor weight, Spectra spectra, int r3, int r4, int hooiSweeps) {
        return decompose(ConvKernel.of(weight), spectra, r3, r4, hooiSweeps);
    }

    private Result decompose(ConvKernel w, Spectra spectra, int r3, int r4, int hooiSweeps) {
        if (!feasible(Shape.of(w.a(), w.b(), w.kh(), w.kw()), r3, r4)) {
            throw new IllegalArgumentException("infeasible Tucker-2 ranks (" + r3 + ", " + r4 + ") for a "
                    + w.a() + "x" + w.b() + "x" + w.kh() + "x" + w.kw() + " kernel");
        }
        if (hooiSweeps < 0) throw new IllegalArgumentException("negative HOOI sweep count " + hooiSweeps);
        double normSq = w.normSq();
        DMatrixRMaj u = leadingColumns(spectra.mode0().u(), r4);
        DMatrixRMaj v = leadingColumns(spectra.mode1().u(), r3);
        ConvKernel core = w.projectMode0(u).projectMode1(v);
        double hosvdError = relError(normSq, core), error = hosvdError;
        // Keep the best factors seen: each sweep cannot increase the error in exact arithmetic, and keeping the best
        // makes "HOOI is never worse than HOSVD" hold under rounding too.
        DMatrixRMaj bestU = u, bestV = v;
        ConvKernel bestCore = core;
        double bestError = error;
        int sweep = 0;
        while (sweep < hooiSweeps) {
            sweep++;
            u = leadingColumns(svd.decompose(w.projectMode1(v).mode0(), true, false).u(), r4);
            ConvKernel projected = w.projectMode0(u);
            v = leadingColumns(svd.decompose(projected.mode1(), true, false).u(), r3);
            core = projected.projectMode1(v);
            double next = relError(normSq, core);
            if (next < bestError) {
                bestU = u;
                bestV = v;
                bestCore = core;
                bestError = next;
            }
            boolean converged = Math.abs(error - next) < HOOI_TOLERANCE;
            error = next;
            if (converged) break;
        }
        return new Result(bestU, bestV, bestCore, bestError, hosvdError, sweep);
    }

    /** √(‖W‖² − ‖G‖²)/‖W‖ (0 for a zero kernel); the difference is clamped at 0 against rounding. */
    static double relError(double normSq, ConvKernel core) {
        if (normSq == 0) return 0;
        return Math.sqrt(Math.max(0, normSq - core.normSq()) / normSq);
    }

    private static DMatrixRMaj leadingColumns(DMatrixRMaj m, int r) {
        DMatrixRMaj out = new DMatrixRMaj(m.numRows, r);
        CommonOps_DDRM.extract(m, 0, m.numRows, 0, r, out, 0, 0);
        return out;
    }
}
