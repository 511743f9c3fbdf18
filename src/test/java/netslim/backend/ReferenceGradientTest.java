package netslim.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.stream.Stream;

import netslim.backend.cpu.ReferenceKernels;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.GradCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every backward op of ReferenceKernels against central finite differences of its forward op (see
 * {@link GradCheck}: L = Σ y·r in double, float perturbations, gradient buffers pre-filled so "adds into" is
 * checked too). Step sizes: for ops that are linear in the perturbed element (conv and linear in x or w, pools,
 * copies, dropout) the central difference is exact for any h, so h is large (0.5) to make the float rounding of
 * y small against the difference; for piecewise-linear ops (ReLU, clip, max pool) inputs keep a margin larger
 * than h from every kink; for smooth non-linear ops (BatchNorm, softmax cross-entropy) h balances truncation
 * error O(h²) against rounding error O(ulp(y)/h).
 */
class ReferenceGradientTest {
    private final ReferenceKernels ref = new ReferenceKernels();

    // ---- convolution and linear ---------------------------------------------------------------------------

    static Stream<Arguments> convCases() {
        return Stream.of(
                Arguments.of("1x1", ConvSpec.of(5, 3, 1, 1, 0), Shape.of(2, 5, 4, 3), true),
                Arguments.of("3x3 pad 1", ConvSpec.of(3, 4, 3, 1, 1), Shape.of(2, 3, 5, 6), true),
                Arguments.of("3x3 stride 2 odd input", ConvSpec.of(3, 4, 3, 2, 1), Shape.of(1, 3, 7, 7), false),
                Arguments.of("dilation 2", new ConvSpec(3, 2, 3, 3, 1, 1, 2, 2, 2, 2, 1), Shape.of(1, 3, 7, 6), true),
                Arguments.of("groups 2", ConvSpec.of(4, 6, 3, 1, 1).withGroups(2), Shape.of(2, 4, 5, 5), true),
                Arguments.of("depthwise stride 2", ConvSpec.of(4, 4, 3, 2, 1).withGroups(4), Shape.of(2, 4, 6, 7), false),
                Arguments.of("non-square 1x3 stride (1,2)", new ConvSpec(3, 4, 1, 3, 1, 2, 0, 1, 1, 1, 1),
                        Shape.of(1, 3, 5, 7), true),
                Arguments.of("non-square 5x3 pad (2,0)", new ConvSpec(2, 3, 5, 3, 2, 1, 2, 0, 1, 1, 1),
                        Shape.of(2, 2, 6, 5), false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("convCases")
    void conv2dBackwardMatchesFiniteDifferences(String name, ConvSpec s, Shape xShape, boolean withBias) {
        Rng rng = new Rng(name.hashCode());
        Tensor x = rng.uniform(xShape);
        Tensor w = rng.uniform(Shape.of(s.outChannels(), s.inChannels() / s.groups(), s.kh(), s.kw()));
        Tensor b = withBias ? rng.uniform(Shape.of(s.outChannels())) : null;
        Tensor y = Tensor.zeros(xShape.n(), s.outChannels(), s.outH(xShape.h()), s.outW(xShape.w()));
        GradCheck check = GradCheck.of("conv " + name, () -> {
            ref.conv2d(x, w, b, y, s);
            return y;
        }, (dy, g) -> ref.conv2dBackward(x, w, dy, g[0], g[1], withBias ? g[2] : null, s));
        check.input("x", x).input("w", w);
        if (withBias) check.input("b", b);
        // Linear in each perturbed element, so h = 0.5 is exact; the error left is the float rounding of the few
        // dozen outputs a tap touches (≲ 1e-5 for |y| ~ 2), well inside atol 1e-4.
        check.step(0.5).tolerance(1e-4, 1e-4).run(1);
    }

    @Test
    void convBackwardSkipsNullGradients() {
        ConvSpec s = ConvSpec.of(2, 3, 3, 1, 1);
        Rng rng = new Rng(5);
        Tensor x = rng.uniform(Shape.of(1, 2, 4, 4)), w = rng.uniform(Shape.of(3, 2, 3, 3));
        Tensor dy = rng.uniform(Shape.of(1, 3, 4, 4)), dw = Tensor.zeros(w.shape()), dwAll = Tensor.zeros(w.shape());
        ref.conv2dBackward(x, w, dy, null, dw, null, s);
        ref.conv2dBackward(x, w, dy, Tensor.zeros(x.shape()), dwAll, Tensor.zeros(3), s);
        netslim.testing.Close.assertClose(dw, dwAll, 0, 0, "dw alone equals dw computed with dx and db");
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void linearBackwardMatchesFiniteDifferences(boolean withBias) {
        Rng rng = new Rng(11);
        // x carries trailing 1s (a flattened N x C x 1 x 1 activation), which linear accepts.
        Tensor x = rng.uniform(Shape.of(3, 7, 1, 1)), w = rng.uniform(Shape.of(5, 7));
        Tensor b = withBias ? rng.uniform(Shape.of(5)) : null;
        Tensor y = Tensor.zeros(3, 5);
        GradCheck check = GradCheck.of("linear", () -> {
            ref.linear(x, w, b, y);
            return y;
        }, (dy, g) -> ref.linearBackward(x, w, dy, g[0], g[1], withBias ? g[2] : null));
        check.input("x", x).input("w", w);
        if (withBias) check.input("b", b);
        check.step(0.5).tolerance(1e-5, 1e-5).run(2); // linear in each element: exact up to rounding
    }

    // ---- BatchNorm ----------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"3x4x3x5", "2x3x1x7", "5x2x2x2"})
    void batchNormTrainBackwardMatchesFiniteDifferences(String shape) {
        Shape xs = Shape.parse(shape);
        int c = xs.c();
        Rng rng = new Rng(xs.hashCode());
        Tensor x = rng.uniform(xs), gamma = Tensor.zeros(c), beta = rng.uniform(Shape.of(c));
        rng.fillUniform(gamma, 0.5f, 1.5f);
        Tensor runMean = Tensor.zeros(c), runVar = Tensor.zeros(c), mean = Tensor.zeros(c), invStd = Tensor.zeros(c);
        Tensor y = Tensor.zeros(xs);
        GradCheck.of("batch norm " + shape, () -> {
            ref.batchNormTrain(x, gamma, beta, runMean, runVar, 0.1f, 1e-5f, y, mean, invStd);
            return y;
        }, (dy, g) -> ref.batchNormBackward(x, dy, gamma, mean, invStd, g[0], g[1], g[2]))
                .input("x", x).input("gamma", gamma).input("beta", beta)
                // Non-linear in x only through the batch mean and variance (curvature ~ 1/n); h = 1e-2 keeps the
                // truncation error ~1e-6, and the rounding of the n outputs that move is ~n·1e-7/2h (random-walk
                // ~1e-5, measured worst 2e-5), under atol 1e-4.
                .step(1e-2).tolerance(1e-4, 1e-3).run(3);
    }

    // ---- activations ----------------------------------------------------------------------------------------

    /** Uniform values in [lo, hi) that stay at least {@code margin} away from every kink. */
    private static Tensor awayFromKinks(Shape shape, float lo, float hi, float margin, long seed, float... kinks) {
        Rng rng = new Rng(seed);
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.size(); i++) {
            float v;
            boolean near;
            do {
                v = lo + (hi - lo) * rng.nextFloat();
                near = false;
                for (float k : kinks) near |= Math.abs(v - k) < margin;
            } while (near);
            t.set(i, v);
        }
        return t;
    }

    @Test
    void reluBackwardMatchesFiniteDifferences() {
        Tensor x = awayFromKinks(Shape.of(2, 3, 5, 3), -1, 1, 0.1f, 21, 0f);
        Tensor y = Tensor.zeros(x.shape());
        GradCheck.of("relu", () -> {
            ref.relu(x, y);
            return y;
        }, (dy, g) -> ref.reluBackward(y, dy, g[0])).input("x", x)
                .step(0.05).tolerance(1e-6, 1e-6).run(4); // h < the 0.1 margin: locally linear, y = x exactly
    }

    @Test
    void clipBackwardMatchesFiniteDifferences() {
        Tensor x = awayFromKinks(Shape.of(2, 4, 3, 5), -3, 9, 0.1f, 22, 0f, 6f);
        Tensor y = Tensor.zeros(x.shape());
        GradCheck.of("relu6 clip", () -> {
            ref.clip(x, 0f, 6f, y);
            return y;
        }, (dy, g) -> ref.clipBackward(x, 0f, 6f, dy, g[0])).input("x", x)
                .step(0.05).tolerance(1e-6, 1e-6).run(5); // h < the 0.1 margin from both bounds
    }

    // ---- pooling --------------------------------------------------------------------------------------------

    /**
     * Distinct values on the dyadic grid k·2⁻⁷ in a seeded order: every window has a unique maximum with a gap of
     * at least 2⁻⁷, so a perturbation of h = 2⁻⁹ never changes an arg-max, and x ± h is exact in float.
     */
    private static Tensor distinctGrid(Shape shape, long seed) {
        int[] perm = new Rng(seed).permutation(shape.size());
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < perm.length; i++) t.set(i, (perm[i] - perm.length / 2) * 0x1p-7f);
        return t;
    }

    static Stream<Arguments> poolCases() {
        return Stream.of(
                Arguments.of("3x3 s2 ceil on 7x7", PoolSpec.of(3, 2, 0, true), Shape.of(1, 2, 7, 7)),
                Arguments.of("3x3 s2 pad 1 ceil on 7x7", PoolSpec.of(3, 2, 1, true), Shape.of(1, 2, 7, 7)),
                Arguments.of("3x3 s2 ceil on 14x14 (GoogLeNet 112->56 shape class)", PoolSpec.of(3, 2, 0, true),
                        Shape.of(1, 2, 14, 14)),
                Arguments.of("3x3 s2 ceil on odd 13x11", PoolSpec.of(3, 2, 0, true), Shape.of(2, 1, 13, 11)),
                Arguments.of("2x2 s2 ceil on 7x7", PoolSpec.of(2, 2, 0, true), Shape.of(1, 3, 7, 7)),
                Arguments.of("3x3 s1 pad 1 (Inception branch)", PoolSpec.of(3, 1, 1, false), Shape.of(2, 2, 6, 5)),
                Arguments.of("3x2 s(2,1) pad 1 ceil", new PoolSpec(3, 2, 2, 1, 1, 1, true, true), Shape.of(1, 2, 6, 5)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("poolCases")
    void maxPoolBackwardMatchesFiniteDifferences(String name, PoolSpec s, Shape xs) {
        Tensor x = distinctGrid(xs, name.hashCode());
        Tensor y = Tensor.zeros(xs.n(), xs.c(), s.outH(xs.h()), s.outW(xs.w()));
        GradCheck.of("max pool " + name, () -> {
            ref.maxPool(x, y, s);
            return y;
        }, (dy, g) -> ref.maxPoolBackward(x, dy, g[0], s)).input("x", x)
                .step(0x1p-9).tolerance(1e-6, 1e-6).maxSamples(400).run(6); // y copies x: exact
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("poolCases")
    void avgPoolBackwardMatchesFiniteDifferences(String name, PoolSpec s, Shape xs) {
        for (boolean countPad : new boolean[] {true, false}) {
            PoolSpec p = new PoolSpec(s.kh(), s.kw(), s.strideH(), s.strideW(), s.padH(), s.padW(), s.ceilMode(),
                    countPad);
            Tensor x = new Rng(name.hashCode()).uniform(xs);
            Tensor y = Tensor.zeros(xs.n(), xs.c(), p.outH(xs.h()), p.outW(xs.w()));
            GradCheck.of("avg pool " + name + " count_include_pad=" + countPad, () -> {
                ref.avgPool(x, y, p);
                return y;
            }, (dy, g) -> ref.avgPoolBackward(dy, g[0], p)).input("x", x)
                    .step(0.5).tolerance(1e-5, 1e-5).maxSamples(400).run(7); // linear: exact up to rounding
        }
    }

    @Test
    void globalAvgPoolBackwardMatchesFiniteDifferences() {
        Tensor x = new Rng(8).uniform(Shape.of(2, 3, 5, 3));
        Tensor y = Tensor.zeros(2, 3, 1, 1);
        GradCheck.of("global avg pool", () -> {
            ref.globalAvgPool(x, y);
            return y;
        }, (dy, g) -> ref.globalAvgPoolBackward(dy, g[0])).input("x", x).step(0.5).tolerance(1e-6, 1e-5).run(8);
    }

    // ---- elementwise and data movement ------------------------------------------------------------------------

    @Test
    void dropoutBackwardMatchesFiniteDifferences() {
        Tensor x = new Rng(9).uniform(Shape.of(2, 3, 4, 5));
        Tensor mask = Tensor.zeros(x.shape()), y = Tensor.zeros(x.shape());
        GradCheck.of("dropout p=0.3", () -> {
            ref.dropout(x, 0.3f, 1234L, mask, y); // same seed every call: the same mask
            return y;
        }, (dy, g) -> ref.dropoutBackward(dy, mask, g[0])).input("x", x).step(0.5).tolerance(1e-6, 1e-6).run(9);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void copyChannelsBackwardIsAnAccumulatingCopyBack(boolean accumulate) {
        Rng rng = new Rng(10);
        for (Shape[] shapes : new Shape[][] {{Shape.of(2, 5, 3, 4), Shape.of(2, 7, 3, 4)}, {Shape.of(3, 4), Shape.of(3, 6)}}) {
            Tensor src = rng.uniform(shapes[0]), dstInit = rng.uniform(shapes[1]), dst = Tensor.zeros(shapes[1]);
            GradCheck.of("copyChannels " + shapes[0] + " -> " + shapes[1] + " accumulate=" + accumulate, () -> {
                dst.copyFrom(dstInit);
                ref.copyChannels(src, 1, dst, 2, 3, accumulate); // channels 1..3 of src into 2..4 of dst
                return dst;
            }, (dy, g) -> ref.copyChannels(dy, 2, g[0], 1, 3, true)).input("src", src)
                    .step(0.5).tolerance(1e-6, 1e-6).run(10);
        }
    }

    @Test
    void addAndAxpyBackwardMatchFiniteDifferences() {
        Rng rng = new Rng(12);
        Tensor a = rng.uniform(Shape.of(2, 3, 4, 3)), b = rng.uniform(a.shape()), y = Tensor.zeros(a.shape());
        GradCheck.of("add", () -> {
            ref.add(a, b, y);
            return y;
        }, (dy, g) -> {
            ref.axpy(1f, dy, g[0]);
            ref.axpy(1f, dy, g[1]);
        }).input("a", a).input("b", b).step(0.5).tolerance(1e-6, 1e-6).run(11);

        float alpha = -0.75f;
        Tensor out = Tensor.zeros(a.shape());
        GradCheck.of("axpy", () -> {
            out.copyFrom(b);
            ref.axpy(alpha, a, out); // out = b + alpha·a
            return out;
        }, (dy, g) -> {
            ref.axpy(alpha, dy, g[0]);
            ref.axpy(1f, dy, g[1]);
        }).input("src", a).input("dst", b).step(0.5).tolerance(1e-6, 1e-6).run(12);
    }

    // ---- loss -----------------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(floats = {0f, 0.1f, 0.3f})
    void softmaxCrossEntropyBackwardMatchesFiniteDifferences(float smoothing) {
        Rng rng = new Rng(13);
        for (int[] nk : new int[][] {{4, 5}, {3, 10}, {1, 2}}) {
            Tensor logits = Tensor.zeros(nk[0], nk[1]);
            rng.fillUniform(logits, -3f, 3f);
            int[] labels = new int[nk[0]];
            for (int i = 0; i < labels.length; i++) labels[i] = rng.nextInt(nk[1]);
            Tensor probs = Tensor.zeros(logits.shape()), loss = Tensor.zeros(1);
            GradCheck.of("softmax CE " + nk[0] + "x" + nk[1] + " smoothing " + smoothing, () -> {
                loss.set(0, ref.softmaxCrossEntropy(logits, labels, smoothing, probs));
                return loss;
            }, (dy, g) -> ref.softmaxCrossEntropyBackward(probs, labels, smoothing, dy.get(0), g[0]))
                    .input("logits", logits)
                    // Smooth; third derivative of log-softmax is O(1): h = 1e-2 gives truncation ~2e-5 and the
                    // float-rounded loss (ulp ~2e-7) contributes ~1e-5 after dividing by 2h.
                    .step(1e-2).tolerance(1e-4, 1e-3).run(14);
        }
    }

    // ---- im2col / col2im ------------------------------------------------------------------------------------

    static Stream<Arguments> unfoldCases() {
        return Stream.of(
                Arguments.of(ConvSpec.of(3, 1, 3, 1, 1), Shape.of(2, 3, 5, 6)),
                Arguments.of(ConvSpec.of(2, 1, 3, 2, 0), Shape.of(1, 2, 7, 7)),
                Arguments.of(new ConvSpec(2, 1, 3, 2, 2, 1, 2, 1, 2, 1, 1), Shape.of(3, 2, 6, 5)),
                Arguments.of(new ConvSpec(4, 4, 1, 3, 1, 2, 0, 1, 1, 2, 4), Shape.of(1, 4, 4, 7)));
    }

    /** ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for random x, c: col2im is the adjoint (checked per image). */
    @ParameterizedTest
    @MethodSource("unfoldCases")
    void col2imIsTheAdjointOfIm2col(ConvSpec s, Shape xs) {
        Rng rng = new Rng(15);
        Tensor x = rng.uniform(xs);
        int oh = s.outH(xs.h()), ow = s.outW(xs.w());
        for (int image = 0; image < xs.n(); image++) {
            Tensor col = Tensor.zeros(xs.c() * s.kh() * s.kw(), oh * ow), c = rng.uniform(col.shape());
            ref.im2col(x, image, s, col);
            Tensor before = rng.uniform(xs), folded = before.copy();
            ref.col2im(c, s, folded, image);
            double lhs = 0, rhs = 0, scale = 0;
            for (int i = 0; i < col.size(); i++) {
                lhs += (double) col.get(i) * c.get(i);
                scale += Math.abs((double) col.get(i) * c.get(i));
            }
            int plane = xs.c() * xs.h() * xs.w();
            for (int i = 0; i < folded.size(); i++) {
                double added = (double) folded.get(i) - before.get(i);
                if (i / plane == image) rhs += x.get(i) * added;
                else assertEquals(0.0, added, "col2im touched image " + i / plane + " instead of " + image);
            }
            // col2im adds in float into values ~1: each sum carries a few ulps (≲ 1e-6 relative to Σ|terms|).
            assertEquals(lhs, rhs, 1e-6 * scale + 1e-9, "adjoint identity, image " + image + ", " + s);
        }
    }
}
