package netslim.decompose;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/** {@link Svd} on the CPU through EJML's implicit-QR SVD (Golub–Kahan bidiagonalisation), single-threaded. */
public final class EjmlSvd implements Svd {

    @Override
    public Result decompose(DMatrixRMaj a, boolean wantU, boolean wantV) {
        SingularValueDecomposition_F64<DMatrixRMaj> svd =
                DecompositionFactory_DDRM.svd(a.numRows, a.numCols, wantU, wantV, true);
        DMatrixRMaj input = svd.inputModified() ? a.copy() : a;
        if (!svd.decompose(input)) {
            // Implicit QR did not converge: happens only for NaN/Inf input, which a finite model never has.
            throw new ArithmeticException("SVD of a " + a.numRows + "x" + a.numCols + " matrix did not converge"
                    + " (non-finite values?)");
        }
        int k = Math.min(a.numRows, a.numCols);
        double[] s = java.util.Arrays.copyOf(svd.getSingularValues(), k);
        DMatrixRMaj u = wantU ? svd.getU(null, false) : null;
        DMatrixRMaj v = wantV ? svd.getV(null, false) : null;
        // EJML leaves the singular values unordered; sort them (and the matching columns) descending.
        SingularOps_DDRM.descendingOrder(u, false, s, k, v, false);
        return new Result(u, s, v);
    }

    @Override
    public String name() {
        return "cpu (EJML)";
    }
}
