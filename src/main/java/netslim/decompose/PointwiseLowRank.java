package netslim.decompose;

import org.ejml.data.DMatrixRMaj;

import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Low-rank factorisation of a 1x1 conv, W (T, S) ≈ U_R·(Σ_R·V_Rᵀ) by the truncated SVD (the best rank-R
 * approximation, Eckart–Young), as two 1x1 convs S → R → T. The rank comes from the policy's output side (R4 of a
 * {@code fixed:R3,R4}): the matrix is its own mode-0 unfolding.
 */
final class PointwiseLowRank {
    private PointwiseLowRank() {
    }

    /** Weights of the pair, (R, S, 1, 1) and (T, R, 1, 1), the rank choice and the relative error ‖W − Ŵ‖/‖W‖. */
    record Factors(Tensor inWeight, Tensor outWeight, RankPolicy.Choice choice, double relError) {
        int rank() {
            return choice.rank();
        }
    }

    static Factors factor(Svd svd, RankPolicy policy, Tensor weight) {
        int t = weight.shape().dim(0), s = weight.shape().dim(1);
        ConvKernel w = ConvKernel.of(weight);
        Svd.Result d = svd.decompose(w.mode0(), true, true);
        double[] gamma = d.singularValues();
        RankPolicy.Choice choice = policy.choose(RankPolicy.Side.OUT, gamma, t, s);
        int r = choice.rank();
        float[] in = new float[r * s], out = new float[t * r];
        DMatrixRMaj u = d.u(), v = d.v();
        for (int h = 0; h < r; h++) {
            for (int j = 0; j < s; j++) in[h * s + j] = (float) (gamma[h] * v.get(j, h));
            for (int i = 0; i < t; i++) out[i * r + h] = (float) u.get(i, h);
        }
        double total = Evbmf.sumOfSquares(gamma), dropped = 0;
        for (int h = r; h < gamma.length; h++) dropped += gamma[h] * gamma[h];
        double relError = total == 0 ? 0 : Math.sqrt(dropped / total);
        return new Factors(Tensor.of(Shape.of(r, s, 1, 1), in), Tensor.of(Shape.of(t, r, 1, 1), out), choice,
                relError);
    }
}
