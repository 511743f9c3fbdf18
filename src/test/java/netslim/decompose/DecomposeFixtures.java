package netslim.decompose;

import org.ejml.data.DMatrixRMaj;

import netslim.tensor.Rng;

/** Seeded matrices and orthonormal factors for the decomposition tests. */
final class DecomposeFixtures {
    private DecomposeFixtures() {
    }

    static DMatrixRMaj gaussian(Rng rng, int rows, int cols, double std) {
        DMatrixRMaj m = new DMatrixRMaj(rows, cols);
        for (int i = 0; i < m.data.length; i++) m.data[i] = std * rng.nextGaussian();
        return m;
    }

    /** rows × r with orthonormal columns (Q of a Gaussian matrix's SVD). */
    static DMatrixRMaj orthonormal(Rng rng, int rows, int r) {
        return new EjmlSvd().decompose(gaussian(rng, rows, r, 1), true, false).u();
    }

    /**
     * A rank-r matrix U·diag(s)·Vᵀ with singular values from {@code top} down to {@code top / 2}, plus Gaussian noise
     * of standard deviation {@code noise}.
     */
    static DMatrixRMaj planted(Rng rng, int rows, int cols, int r, double top, double noise) {
        DMatrixRMaj u = orthonormal(rng, rows, r), v = orthonormal(rng, cols, r);
        DMatrixRMaj m = gaussian(rng, rows, cols, noise);
        for (int h = 0; h < r; h++) {
            double s = top * (1 - 0.5 * h / Math.max(1, r - 1));
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) m.add(i, j, s * u.get(i, h) * v.get(j, h));
            }
        }
        return m;
    }

    static double[] singularValues(DMatrixRMaj m) {
        return new EjmlSvd().decompose(m, false, false).singularValues();
    }
}
