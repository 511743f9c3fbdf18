package netslim.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import netslim.NetslimException;
import netslim.backend.cpu.ReferenceKernels;
import netslim.nn.Graph;
import netslim.nn.GraphBuilder;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.Close;

/**
 * Taylor importance on a tiny model against a hand computation in double: conv a (3x3, bias) → BN (training mode,
 * batch statistics) → ReLU → conv b (1x1) → global pool → Linear → mean cross-entropy. Θ_a uses the BN output (a
 * feeds only the BN), Θ_b the conv-b output (no BN); both averaged over two batches.
 */
class TaylorImportanceTest {
    private static final int N = 3, H = 4, W = 4, HW = H * W, CA = 2, CB = 3, K = 4;
    private static final double EPS = 1e-5;

    static Graph model() {
        GraphBuilder b = new GraphBuilder("input", Shape.of(1, H, W));
        String x = b.conv("a", b.input(), 1, CA, 3, 1, 1, true);
        x = b.relu("relu", b.bn("bn", x, CA));
        x = b.conv("b", x, CA, CB, 1, 1, 0, true);
        x = b.flatten("flat", b.globalAvgPool("gap", x));
        Graph g = b.build(b.linear("fc", x, CB, K, true));
        PruneFixtures.randomizeAll(g, 8, 0.8f);
        return g;
    }

    /** Per-batch values: [0] = Θ_a (CA), [1] = Θ_b (CB), [2] = Σ_c (W_b·∂L/∂W_b)² per out-channel (CB). */
    static double[][] byHand(Graph g, Tensor xt, int[] labels) {
        float[] x = xt.toArray(), wa = g.params().get("a.weight").toArray(), ba = g.params().get("a.bias").toArray();
        float[] gamma = g.params().get("bn.weight").toArray(), beta = g.params().get("bn.bias").toArray();
        float[] wb = g.params().get("b.weight").toArray(), bb = g.params().get("b.bias").toArray();
        float[] wf = g.params().get("fc.weight").toArray(), bf = g.params().get("fc.bias").toArray();
        double[][][] za = new double[N][CA][HW], y = new double[N][CA][HW], r = new double[N][CA][HW];
        for (int n = 0; n < N; n++) {
            for (int c = 0; c < CA; c++) {
                for (int i = 0; i < H; i++) {
                    for (int j = 0; j < W; j++) {
                        double s = ba[c];
                        for (int di = 0; di < 3; di++) {
                            for (int dj = 0; dj < 3; dj++) {
                                int ii = i + di - 1, jj = j + dj - 1;
                                if (ii >= 0 && ii < H && jj >= 0 && jj < W) s += wa[c * 9 + di * 3 + dj] * x[n * HW + ii * W + jj];
                            }
                        }
                        za[n][c][i * W + j] = s;
                    }
                }
            }
        }
        for (int c = 0; c < CA; c++) { // BatchNorm with batch statistics (biased variance)
            double mean = 0, var = 0;
            for (int n = 0; n < N; n++) for (int p = 0; p < HW; p++) mean += za[n][c][p] / (N * HW);
            for (int n = 0; n < N; n++) for (int p = 0; p < HW; p++) var += Math.pow(za[n][c][p] - mean, 2) / (N * HW);
            for (int n = 0; n < N; n++) {
                for (int p = 0; p < HW; p++) {
                    y[n][c][p] = gamma[c] * (za[n][c][p] - mean) / Math.sqrt(var + EPS) + beta[c];
                    r[n][c][p] = Math.max(0, y[n][c][p]);
                }
            }
        }
        double[][][] zb = new double[N][CB][HW];
        double[][] pooled = new double[N][CB];
        for (int n = 0; n < N; n++) {
            for (int o = 0; o < CB; o++) {
                for (int p = 0; p < HW; p++) {
                    double s = bb[o];
                    for (int c = 0; c < CA; c++) s += wb[o * CA + c] * r[n][c][p];
                    zb[n][o][p] = s;
                    pooled[n][o] += s / HW;
                }
            }
        }
        double[][] dPooled = new double[N][CB];
        for (int n = 0; n < N; n++) {
            double[] logits = new double[K];
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int k = 0; k < K; k++) {
                logits[k] = bf[k];
                for (int o = 0; o < CB; o++) logits[k] += wf[k * CB + o] * pooled[n][o];
                max = Math.max(max, logits[k]);
            }
            for (int k = 0; k < K; k++) sum += Math.exp(logits[k] - max);
            for (int k = 0; k < K; k++) {
                double dl = (Math.exp(logits[k] - max) / sum - (k == labels[n] ? 1 : 0)) / N; // mean loss
                for (int o = 0; o < CB; o++) dPooled[n][o] += wf[k * CB + o] * dl;
            }
        }
        double[] thetaA = new double[CA], thetaB = new double[CB], weightB = new double[CB];
        double[][] dwb = new double[CB][CA];
        for (int o = 0; o < CB; o++) {
            double s = 0;
            for (int n = 0; n < N; n++) {
                for (int p = 0; p < HW; p++) {
                    double dz = dPooled[n][o] / HW;
                    s += dz * zb[n][o][p];
                    for (int c = 0; c < CA; c++) dwb[o][c] += dz * r[n][c][p];
                }
            }
            thetaB[o] = Math.abs(s / (N * HW));
            for (int c = 0; c < CA; c++) weightB[o] += Math.pow(wb[o * CA + c] * dwb[o][c], 2);
        }
        for (int c = 0; c < CA; c++) {
            double s = 0;
            for (int n = 0; n < N; n++) {
                for (int p = 0; p < HW; p++) {
                    double dr = 0;
                    for (int o = 0; o < CB; o++) dr += wb[o * CA + c] * dPooled[n][o] / HW;
                    double dy = y[n][c][p] > 0 ? dr : 0;
                    s += dy * y[n][c][p];
                }
            }
            thetaA[c] = Math.abs(s / (N * HW));
        }
        return new double[][] {thetaA, thetaB, weightB};
    }

    @Test
    void taylorEqualsHandComputedActivationTimesGradient() {
        Graph g = model();
        Rng rng = new Rng(4);
        List<LabeledBatch> batches = List.of(new LabeledBatch(rng.uniform(Shape.of(N, 1, H, W)), new int[] {0, 3, 1}),
                new LabeledBatch(rng.uniform(Shape.of(N, 1, H, W)), new int[] {2, 2, 0}));
        double[][] h1 = byHand(g, batches.get(0).x(), batches.get(0).labels());
        double[][] h2 = byHand(g, batches.get(1).x(), batches.get(1).labels());
        ChannelGroups groups = ChannelGroups.of(g);
        int ga = groups.groupOfProducer("a").id(), gb = groups.groupOfProducer("b").id();
        Tensor runningMean = g.params().get("bn.running_mean").copy();

        Map<Integer, double[]> taylor = Importance.taylor(batches, 10, ReferenceKernels.create()).scores(g, groups);
        assertClose(mean(h1[0], h2[0]), taylor.get(ga), "Θ of conv a (BN output)");
        assertClose(mean(h1[1], h2[1]), taylor.get(gb), "Θ of conv b");
        Map<Integer, double[]> weight = Importance.taylorWeight(batches, 10, ReferenceKernels.create()).scores(g, groups);
        assertClose(mean(h1[2], h2[2]), weight.get(gb), "(w·dL/dw)² of conv b");
        // one batch only when capped
        assertClose(h1[1], Importance.taylor(batches, 1, ReferenceKernels.create()).scores(g, groups).get(gb), "1 batch");
        // training-mode passes ran on a copy: the model's running statistics are untouched
        Close.assertClose(g.params().get("bn.running_mean"), runningMean, 0, 0, "running mean");
    }

    @Test
    void dataCriteriaNeedBatches() {
        Graph g = model();
        ChannelGroups groups = ChannelGroups.of(g);
        assertThrows(NetslimException.class, () -> Importance.of(Importance.Criterion.TAYLOR, null, 4, null));
        assertThrows(NetslimException.class,
                () -> Importance.taylor(List.of(), 4, ReferenceKernels.create()).scores(g, groups));
        assertEquals(Importance.Criterion.TAYLOR_WEIGHT, Importance.Criterion.parse("taylor-weight"));
        assertThrows(NetslimException.class, () -> Importance.Criterion.parse("l2"));
    }

    private static double[] mean(double[] a, double[] b) {
        double[] m = new double[a.length];
        for (int i = 0; i < a.length; i++) m[i] = (a[i] + b[i]) / 2;
        return m;
    }

    private static void assertClose(double[] expected, double[] actual, String what) {
        float[] e = new float[expected.length], a = new float[actual.length];
        for (int i = 0; i < e.length; i++) e[i] = (float) expected[i];
        for (int i = 0; i < a.length; i++) a[i] = (float) actual[i];
        // float32 forward/backward against a double computation of O(1e-2) quantities
        Close.assertClose(a, e, 1e-7, 1e-4, what);
    }
}
