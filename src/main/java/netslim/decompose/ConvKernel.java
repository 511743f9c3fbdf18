package netslim.decompose;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * A conv weight (A, B, kh, kw) in double precision, C order, with the unfoldings and mode products Tucker-2 needs.
 * Mode 0 is the output-channel axis (T for a conv weight), mode 1 the input-channel axis (S).
 */
public record ConvKernel(double[] data, int a, int b, int kh, int kw) {

    public ConvKernel {
        if (data.length != (long) a * b * kh * kw) throw new IllegalArgumentException("kernel data size mismatch");
    }

    /** A conv weight tensor (out, in, kh, kw) widened to double. */
    public static ConvKernel of(Tensor w) {
        if (w.shape().rank() != 4) throw new IllegalArgumentException("conv weight must be 4-D, got " + w.shape());
        float[] f = w.toArray();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return new ConvKernel(d, w.shape().dim(0), w.shape().dim(1), w.shape().dim(2), w.shape().dim(3));
    }

    int spatial() {
        return kh * kw;
    }

    public double normSq() {
        return Evbmf.sumOfSquares(data);
    }

    /** Mode-0 unfolding A × (B·kh·kw): in C order it is the data itself. */
    DMatrixRMaj mode0() {
        return DMatrixRMaj.wrap(a, b * spatial(), data.clone());
    }

    /** Mode-1 unfolding B × (A·kh·kw): row j holds W[:, j, :, :] with the A index slowest. */
    DMatrixRMaj mode1() {
        int k = spatial();
        DMatrixRMaj m = new DMatrixRMaj(b, a * k);
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                System.arraycopy(data, (i * b + j) * k, m.data, j * a * k + i * k, k);
            }
        }
        return m;
    }

    /** W ×₀ Mᵀ for M (A × r): result (r, B, kh, kw), result[p] = Σ_i M[i, p]·W[i]. */
    ConvKernel projectMode0(DMatrixRMaj m) {
        if (m.numRows != a) throw new IllegalArgumentException("mode-0 factor has " + m.numRows + " rows, need " + a);
        DMatrixRMaj out = new DMatrixRMaj(m.numCols, b * spatial());
        CommonOps_DDRM.multTransA(m, DMatrixRMaj.wrap(a, b * spatial(), data), out);
        return new ConvKernel(out.data, m.numCols, b, kh, kw);
    }

    /** W ×₁ Mᵀ for M (B × r): result (A, r, kh, kw), result[:, q] = Σ_j M[j, q]·W[:, j]. */
    ConvKernel projectMode1(DMatrixRMaj m) {
        if (m.numRows != b) throw new IllegalArgumentException("mode-1 factor has " + m.numRows + " rows, need " + b);
        int k = spatial(), r = m.numCols;
        double[] out = new double[a * r * k];
        DMatrixRMaj slice = new DMatrixRMaj(b, k), result = new DMatrixRMaj(r, k);
        for (int i = 0; i < a; i++) {
            // Slice i of W is the B × k matrix W[i]; Mᵀ·W[i] is slice i of the result.
            System.arraycopy(data, i * b * k, slice.data, 0, b * k);
            CommonOps_DDRM.multTransA(m, slice, result);
            System.arraycopy(result.data, 0, out, i * r * k, r * k);
        }
        return new ConvKernel(out, a, r, kh, kw);
    }

    /** W ×₀ M for M (A' × A): result (A', B, kh, kw); the inverse direction of {@link #projectMode0}. */
    public ConvKernel expandMode0(DMatrixRMaj m) {
        DMatrixRMaj mt = new DMatrixRMaj(m.numCols, m.numRows);
        CommonOps_DDRM.transpose(m, mt);
        return projectMode0(mt);
    }

    /** W ×₁ M for M (B' × B): result (A, B', kh, kw). */
    public ConvKernel expandMode1(DMatrixRMaj m) {
        DMatrixRMaj mt = new DMatrixRMaj(m.numCols, m.numRows);
        CommonOps_DDRM.transpose(m, mt);
        return projectMode1(mt);
    }

    public Shape shape() {
        return Shape.of(a, b, kh, kw);
    }

    /** The data rounded to a float tensor of shape (A, B, kh, kw). */
    public Tensor toTensor() {
        float[] f = new float[data.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) data[i];
        return Tensor.of(shape(), f);
    }
}
