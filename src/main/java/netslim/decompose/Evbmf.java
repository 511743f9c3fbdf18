package netslim.decompose;

/**
 * Empirical variational Bayesian matrix factorisation rank estimate, by the global analytic solution of Nakajima et
 * al. (2013, JMLR 14, "Global analytic solution of fully-observed variational Bayesian matrix factorization"), as
 * ALGORITHMS.md gives it: the noise variance σ² minimises a 1-D objective F(σ²) on [lower, upper], and the rank is the
 * number of singular values above √(M·σ²·x̄). It can be 0 (pure noise); the floor is the {@link RankPolicy}'s job.
 */
public final class Evbmf {
    /** τ̄ = 2.5129·√α: the constant of the EVB threshold (Nakajima et al. 2013, Theorem 13). */
    static final double TAU_BAR_FACTOR = 2.5129;
    private static final int GRID_POINTS = 64;
    /** Absolute tolerance on ln σ², i.e. σ² to about 1e-12 relative (the objective's flatness limits it anyway). */
    private static final double LOG_SIGMA2_TOL = 1e-12;

    private Evbmf() {
    }

    /**
     * Estimate for a matrix with L ≤ M after transposition: {@code rank} (can be 0), the noise variance
     * {@code sigma2}, the singular-value {@code threshold}, and the search interval of σ².
     */
    public record Result(int rank, double sigma2, double threshold, double lowerBound, double upperBound, int l,
                         int m) {
    }

    /**
     * EVBMF of an m×n matrix from all of its min(m, n) singular values (descending). With the full spectrum the
     * formula's residual (‖Y‖² − Σγ²) and (L − H)·ln σ² terms are zero, so they are left out.
     */
    public static Result estimate(double[] singularValues, int rows, int cols) {
        int l = Math.min(rows, cols), m = Math.max(rows, cols); // transposing does not change the singular values
        int h = singularValues.length;
        if (h != l) throw new IllegalArgumentException(h + " singular values for a " + rows + "x" + cols + " matrix");
        for (int i = 1; i < h; i++) {
            if (singularValues[i] > singularValues[i - 1] || singularValues[i] < 0) {
                throw new IllegalArgumentException("singular values must be ≥ 0 and descending");
            }
        }
        double alpha = (double) l / m;
        double tauBar = TAU_BAR_FACTOR * Math.sqrt(alpha);
        double xBar = (1 + tauBar) * (1 + alpha / tauBar);
        double upper = sumOfSquares(singularValues) / ((double) l * m);
        if (upper == 0) return new Result(0, 0, 0, 0, 0, l, m); // the zero matrix: nothing to estimate
        // k = min(⌈L/(1+α)⌉ − 1, H) − 1 (0-based); the lower bound uses γ_{k+1} and the mean of γ²_{k+1..H}.
        int k = Math.min((int) Math.ceil(l / (1 + alpha)) - 1, h) - 1;
        double gammaK1 = singularValues[k + 1];
        double tailMean = 0;
        for (int i = k + 1; i < h; i++) tailMean += singularValues[i] * singularValues[i];
        tailMean /= h - (k + 1);
        double lower = Math.max(gammaK1 * gammaK1 / (m * xBar), tailMean / m);
        // An exactly low-rank matrix can give lower = 0, where ln σ² is undefined; start the search just above it.
        lower = Math.max(lower, upper * 1e-12);
        Objective f = new Objective(singularValues, m, alpha, xBar);
        // Search in t = ln σ²: the objective's scale spans orders of magnitude, and the tolerance becomes relative.
        double t = BoundedMinimizer.minimize(s -> f.value(Math.exp(s)), Math.log(lower), Math.log(upper), GRID_POINTS,
                LOG_SIGMA2_TOL);
        double sigma2 = Math.min(upper, Math.max(lower, Math.exp(t)));
        double threshold = Math.sqrt(m * sigma2 * xBar);
        int rank = 0;
        for (double g : singularValues) if (g > threshold) rank++;
        return new Result(rank, sigma2, threshold, lower, upper, l, m);
    }

    /**
     * F(σ²) of ALGORITHMS.md for H = L (no residual): x_h = γ_h²/(M·σ²), τ(x) = ½·(x − (1+α) + √((x − (1+α))² − 4α)).
     */
    record Objective(double[] gamma, int m, double alpha, double xBar) {
        double value(double sigma2) {
            double sum = 0;
            for (double g : gamma) {
                double x = g * g / (m * sigma2);
                if (x <= xBar) {
                    // x − ln x; for γ = 0 exactly, ln x = −∞ is a constant in σ²: drop ln γ² and keep ln(M σ²).
                    sum += g == 0 ? Math.log(m * sigma2) : x - Math.log(x);
                } else {
                    double tau = tau(x);
                    sum += x - tau + Math.log((tau + 1) / x) + alpha * Math.log(tau / alpha + 1);
                }
            }
            return sum;
        }

        double tau(double x) {
            double b = x - (1 + alpha);
            return 0.5 * (b + Math.sqrt(Math.max(0, b * b - 4 * alpha)));
        }
    }

    static double sumOfSquares(double[] v) {
        double s = 0;
        for (double x : v) s += x * x;
        return s;
    }
}
