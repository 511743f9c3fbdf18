package netslim.decompose;

import java.util.function.DoubleUnaryOperator;

/**
 * Minimises a function of one variable on a closed interval: a grid scan (so that a function with several local
 * minima or jumps, as the EVBMF objective has, is bracketed around its lowest grid value) followed by Brent's method
 * (golden section with parabolic steps; Brent 1973, "Algorithms for Minimization without Derivatives", ch. 5 — the
 * algorithm behind SciPy's {@code minimize_scalar(method="bounded")}) inside that bracket.
 */
final class BoundedMinimizer {
    private static final double GOLDEN = 0.5 * (3 - Math.sqrt(5));
    private static final int MAX_EVALUATIONS = 500;

    private BoundedMinimizer() {
    }

    /** The argmin of {@code f} on [lo, hi]: {@code gridPoints} evenly spaced probes, then Brent to {@code xtol}. */
    static double minimize(DoubleUnaryOperator f, double lo, double hi, int gridPoints, double xtol) {
        if (!(lo <= hi)) throw new IllegalArgumentException("empty interval [" + lo + ", " + hi + "]");
        if (lo == hi) return lo;
        int best = 0;
        double bestValue = Double.POSITIVE_INFINITY;
        double step = (hi - lo) / (gridPoints - 1);
        for (int i = 0; i < gridPoints; i++) {
            double v = f.applyAsDouble(lo + i * step);
            if (v < bestValue) {
                bestValue = v;
                best = i;
            }
        }
        double a = lo + Math.max(0, best - 1) * step;
        double b = best + 1 >= gridPoints ? hi : lo + (best + 1) * step;
        double x = brent(f, a, b, xtol);
        // Brent only probes interior points; keep the grid point if it is lower (a minimum on the boundary).
        double gridX = lo + best * step;
        return f.applyAsDouble(x) <= bestValue ? x : gridX;
    }

    /** Brent's bounded minimisation of {@code f} on [a, b] to absolute tolerance {@code xtol}. */
    static double brent(DoubleUnaryOperator f, double a, double b, double xtol) {
        // x: best point so far, w: second best, v: previous w (names as in Brent's book).
        double x = a + GOLDEN * (b - a), w = x, v = x;
        double fx = f.applyAsDouble(x), fw = fx, fv = fx;
        double d = 0, e = 0;
        for (int evals = 1; evals < MAX_EVALUATIONS; evals++) {
            double mid = 0.5 * (a + b);
            double tol1 = xtol / 3 + Math.ulp(x) * 4;
            double tol2 = 2 * tol1;
            if (Math.abs(x - mid) <= tol2 - 0.5 * (b - a)) break;
            boolean golden = true;
            if (Math.abs(e) > tol1) {
                // Parabola through (v, fv), (w, fw), (x, fx): step p/q from x, accepted if inside and shrinking.
                double r = (x - w) * (fx - fv);
                double q = (x - v) * (fx - fw);
                double p = (x - v) * q - (x - w) * r;
                q = 2 * (q - r);
                if (q > 0) p = -p;
                q = Math.abs(q);
                double previousE = e;
                e = d;
                if (Math.abs(p) < Math.abs(0.5 * q * previousE) && p > q * (a - x) && p < q * (b - x)) {
                    d = p / q;
                    double u = x + d;
                    if (u - a < tol2 || b - u < tol2) d = mid >= x ? tol1 : -tol1;
                    golden = false;
                }
            }
            if (golden) {
                e = x >= mid ? a - x : b - x;
                d = GOLDEN * e;
            }
            double u = x + (Math.abs(d) >= tol1 ? d : Math.copySign(tol1, d == 0 ? 1 : d));
            double fu = f.applyAsDouble(u);
            if (fu <= fx) {
                if (u >= x) a = x; else b = x;
                v = w; fv = fw;
                w = x; fw = fx;
                x = u; fx = fu;
            } else {
                if (u < x) a = u; else b = u;
                if (fu <= fw || w == x) {
                    v = w; fv = fw;
                    w = u; fw = fu;
                } else if (fu <= fv || v == x || v == w) {
                    v = u; fv = fu;
                }
            }
        }
        return x;
    }
}
