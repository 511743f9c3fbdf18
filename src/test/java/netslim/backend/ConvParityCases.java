package netslim.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import netslim.tensor.Tensor;

/**
 * Parity cases of the convolution family (conv2d forward / backward, im2col, col2im, gemm, linear). Shapes are
 * chosen to reach every path of the fast backends: odd sizes, batches of one and three, groups, depthwise,
 * stride, dilation, padding, non-square kernels, 1x1; feature maps both below and above the CPU backend's
 * image-batching threshold (512 output positions), so both the batched and the per-image GEMM paths run.
 */
final class ConvParityCases {
    private ConvParityCases() {
    }

    /** One convolution geometry under test: input (n, c, h, w), spec, with or without bias. */
    record ConvShape(String label, int n, int h, int w, ConvSpec spec, boolean bias) {
        int[] x() {
            return new int[] {n, spec.inChannels(), h, w};
        }

        int[] weight() {
            return new int[] {spec.outChannels(), spec.inChannels() / spec.groups(), spec.kh(), spec.kw()};
        }

        int[] y() {
            return new int[] {n, spec.outChannels(), spec.outH(h), spec.outW(w)};
        }
    }

    private static ConvSpec spec(int in, int out, int kh, int kw, int stride, int padH, int padW, int dilation,
                                 int groups) {
        return new ConvSpec(in, out, kh, kw, stride, stride, padH, padW, dilation, dilation, groups);
    }

    static List<ConvShape> shapes() {
        return List.of(
                new ConvShape("3x3 pad1 1x3x7x5", 1, 7, 5, spec(3, 4, 3, 3, 1, 1, 1, 1, 1), true),
                new ConvShape("3x3 pad1 batch3", 3, 7, 5, spec(3, 4, 3, 3, 1, 1, 1, 1, 1), false),
                new ConvShape("3x3 stride2", 2, 11, 10, spec(5, 6, 3, 3, 2, 1, 1, 1, 1), true),
                new ConvShape("3x3 dilation2", 1, 12, 10, spec(3, 4, 3, 3, 1, 2, 2, 2, 1), true),
                new ConvShape("1x7 non-square", 2, 6, 9, spec(4, 5, 1, 7, 1, 0, 3, 1, 1), false),
                new ConvShape("5x2 non-square stride2", 2, 9, 8, spec(3, 4, 5, 2, 2, 2, 0, 1, 1), true),
                new ConvShape("groups2", 3, 9, 9, spec(4, 6, 3, 3, 1, 1, 1, 1, 2), true),
                new ConvShape("groups4 channel-multiplier2", 2, 6, 6, spec(4, 8, 3, 3, 1, 1, 1, 1, 4), false),
                new ConvShape("depthwise8", 2, 9, 7, spec(8, 8, 3, 3, 1, 1, 1, 1, 8), true),
                new ConvShape("depthwise8 stride2 dilation2", 2, 11, 10, spec(8, 8, 3, 3, 2, 2, 2, 2, 8), false),
                // more than 8 channels in and out: the GEMM paths (fewer go to the CPU's SkinnyPointwise)
                new ConvShape("1x1 batched", 3, 5, 5, spec(12, 10, 1, 1, 1, 0, 0, 1, 1), true),
                new ConvShape("1x1 direct 24x24", 2, 24, 24, spec(12, 9, 1, 1, 1, 0, 0, 1, 1), false),
                // per image on 2 threads: shares of 3 and 2 images, each its own dW (CpuConv.perImagePointwise)
                new ConvShape("1x1 per-image shares 5x7x9", 5, 7, 9, spec(20, 17, 1, 1, 1, 0, 0, 1, 1), true),
                // low-rank Tucker ends: few channels in or out, pixel counts with and without a partial block
                new ConvShape("1x1 skinny 2->40 13x11", 2, 13, 11, spec(2, 40, 1, 1, 1, 0, 0, 1, 1), true),
                new ConvShape("1x1 skinny 40->3 8x8", 3, 8, 8, spec(40, 3, 1, 1, 1, 0, 0, 1, 1), false),
                new ConvShape("1x1 skinny 6->5 24x24", 1, 24, 24, spec(6, 5, 1, 1, 1, 0, 0, 1, 1), true),
                new ConvShape("1x1 direct groups2", 2, 24, 24, spec(6, 4, 1, 1, 1, 0, 0, 1, 2), true),
                new ConvShape("1x1 stride2", 2, 9, 9, spec(4, 5, 1, 1, 2, 0, 0, 1, 1), false),
                new ConvShape("3x3 per-image 25x23", 2, 25, 23, spec(3, 4, 3, 3, 1, 1, 1, 1, 1), true),
                new ConvShape("3x3 per-image groups2", 1, 24, 24, spec(4, 4, 3, 3, 1, 1, 1, 1, 2), false),
                new ConvShape("7x7 stride2 pad3 stem", 1, 48, 46, spec(3, 8, 7, 7, 2, 3, 3, 1, 1), true),
                // >= 4096 output positions and K <= 256: the CPU backend's banded path (bands of output rows)
                new ConvShape("7x7 stride2 pad3 banded stem", 2, 130, 128, spec(3, 12, 7, 7, 2, 3, 3, 1, 1), true),
                // GoogLeNet's 64 outputs on bands of 6 rows x 73 columns (438: a 22-column last panel), the last
                // band 3 rows: on AVX-512 the band's columns are read in place (DirectPointwise.product)
                new ConvShape("7x7 stride2 pad3 banded stem 64 outputs", 1, 150, 146, spec(3, 64, 7, 7, 2, 3, 3, 1, 1),
                        true),
                // the same with 2 output channels (a low-rank Tucker core): SkinnyPointwise on the unfolded bands
                new ConvShape("7x7 stride2 pad3 banded skinny", 1, 130, 128, spec(1, 2, 7, 7, 2, 3, 3, 1, 1), true));
    }

    static List<ParityCase> all() {
        List<ParityCase> cases = new ArrayList<>();
        for (ConvShape s : shapes()) {
            cases.add(forward(s));
            cases.add(forwardRelu(s));
            cases.add(backward(s));
        }
        ConvShape first = shapes().get(2);
        cases.add(backwardPartial(first, true));
        cases.add(backwardPartial(first, false));
        ConvShape shares = shapes().stream().filter(s -> s.label().startsWith("1x1 per-image shares")).findFirst()
                .orElseThrow();
        cases.add(backwardPartial(shares, true));
        cases.add(backwardPartial(shares, false));
        cases.add(im2col(spec(3, 1, 3, 3, 1, 1, 1, 1, 1), 7, 5));
        cases.add(im2col(spec(2, 1, 3, 2, 2, 2, 1, 2, 1), 9, 8));
        for (ConvShape s : preparedShapes()) cases.add(prepared(s));
        for (ConvShape s : perCallWinogradShapes()) cases.addAll(unprepared(s));
        for (ConvShape s : unfoldedShapes()) cases.add(prepared(s));
        cases.add(slice(preparedShapes().get(0), 8, 5));
        cases.add(slice(preparedShapes().get(3), 16, 8));
        cases.add(slice(new ConvShape("pointwise 3x40x9x9", 3, 9, 9, spec(40, 24, 1, 1, 1, 0, 0, 1, 1), true), 24, 0));
        cases.add(siblings(3, 24, new int[] {8, 13, 3}, 7, 9, true));
        cases.add(siblings(4, 17, new int[] {16, 5}, 14, 14, false));
        cases.add(siblings(1, 12, new int[] {6, 10}, 5, 5, true));
        cases.add(splitSlices(2, 40, 9, 11));
        cases.add(split(3, 40, new int[] {16, 24, 8}, 5, 7, true));
        cases.add(split(1, 64, new int[] {32, 48}, 9, 9, false));
        cases.addAll(gemm());
        cases.addAll(linear());
        return cases;
    }

    /**
     * 3x3 stride-1 convs for which the CPU backend prepares Winograd weights under its automatic rule (at least 48
     * output tiles, 16 channels in and out): odd sizes, padding 0 / 1 / 2, one and several images; the last one is
     * big enough for F(4x4, 3x3) (≥ 196 tiles of 4x4, ≥ 28 columns, ≥ 32 channels), with a cropped last tile.
     */
    /**
     * Batch-1 convs the CPU backend prepares for its unfolded in-place product (not Winograd: 16 tiles, stride 2,
     * 5x5): a 49-column image (one full and one narrow panel read in place from the zero-padded columns), 40 outputs
     * (a 5-row tile), bias or not.
     */
    static List<ConvShape> unfoldedShapes() {
        return List.of(
                new ConvShape("unfolded 1x24x7x7 3x3 pad1", 1, 7, 7, spec(24, 40, 3, 3, 1, 1, 1, 1, 1), true),
                new ConvShape("unfolded 1x16x9x11 3x3 stride2", 1, 9, 11, spec(16, 24, 3, 3, 2, 1, 1, 1, 1), false),
                new ConvShape("unfolded 1x12x10x10 5x5 pad2", 1, 10, 10, spec(12, 20, 5, 5, 1, 2, 2, 1, 1), true));
    }

    static List<ConvShape> preparedShapes() {
        return List.of(
                new ConvShape("winograd 2x16x13x15 pad1", 2, 13, 15, spec(16, 18, 3, 3, 1, 1, 1, 1, 1), true),
                new ConvShape("winograd 1x20x18x18 pad0", 1, 18, 18, spec(20, 16, 3, 3, 1, 0, 0, 1, 1), false),
                new ConvShape("winograd 3x17x9x11 pad2", 3, 9, 11, spec(17, 23, 3, 3, 1, 2, 2, 1, 1), true),
                new ConvShape("winograd4 1x32x57x57 pad1", 1, 57, 57, spec(32, 40, 3, 3, 1, 1, 1, 1, 1), true));
    }

    /**
     * Weights prepared once (a snapshot: w is changed afterwards and must not matter), then the prepared conv with
     * and without ReLU. A backend without a prepared path (null) runs conv2d / conv2dRelu on the original weights.
     * Tolerance: Winograd's transforms round the inputs and weights before the sum of 9·C products, so the absolute
     * error grows with √(9·C) (as in CpuWinogradTest); F(4x4, 3x3)'s larger coefficients need it at C = 32.
     */
    private static ParityCase prepared(ConvShape s) {
        double atol = ParityCase.ATOL * Math.sqrt(9.0 * s.spec().inChannels());
        return new ParityCase("conv2dPrepared " + s.label(), Set.of("prepareConvWeights", "conv2dPrepared"), atol,
                ParityCase.RTOL, c -> {
            Tensor x = c.in(s.x()), w = c.in(s.weight());
            Tensor bias = s.bias() ? c.in(s.spec().outChannels()) : null;
            netslim.tensor.Shape xs = netslim.tensor.Shape.of(s.x());
            Tensor p = c.b.prepareConvWeights(w, s.spec(), xs);
            Tensor host = Tensor.zeros(w.shape());
            c.b.download(w, host);
            Tensor original = c.upload(host);
            c.b.fill(w, 0.5f); // the prepared weights are a snapshot
            for (boolean relu : new boolean[] {false, true}) {
                Tensor y = c.out(s.y());
                if (p != null) {
                    c.b.conv2dPrepared(x, p, bias, y, s.spec(), relu);
                } else if (relu) {
                    c.b.conv2dRelu(x, original, bias, y, s.spec());
                } else {
                    c.b.conv2d(x, original, bias, y, s.spec());
                }
                c.keep(relu ? "relu" : "y", y);
            }
        });
    }

    /**
     * Sibling pointwise convs (members of couts outputs) as one product writing each member's tensor; a backend
     * without that path (null) runs each member's conv2d / conv2dRelu on its own rows of the weights. The prepared
     * weights are a snapshot (w is changed afterwards).
     */
    /**
     * A prepared conv (+ bias, ReLU) into channels [c0, c0 + cout) of a bigger tensor holding random values — a
     * concat's buffer at batch > 1: conv2dPreparedSlice where the backend writes slices (writesChannelSlices),
     * else the conv into a tensor of its own copied in, as a concat does. The whole buffer is compared: the slice
     * holds the conv, the rest is untouched. Winograd's tolerance as {@link #prepared}.
     */
    private static ParityCase slice(ConvShape s, int c0, int after) {
        int cout = s.spec().outChannels(), oh = s.spec().outH(s.h()), ow = s.spec().outW(s.w());
        return new ParityCase("conv2dPreparedSlice " + s.label() + " at channel " + c0,
                Set.of("writesChannelSlices", "conv2dPreparedSlice"),
                ParityCase.ATOL * Math.sqrt(9.0 * s.spec().inChannels()), ParityCase.RTOL, c -> {
            Tensor x = c.in(s.x()), w = c.in(s.weight());
            Tensor bias = s.bias() ? c.in(cout) : null;
            Tensor p = c.b.prepareConvWeights(w, s.spec(), netslim.tensor.Shape.of(s.x()));
            Tensor buffer = c.in(s.n(), c0 + cout + after, oh, ow);
            if (p != null && c.b.writesChannelSlices(p, s.spec())) {
                c.b.conv2dPreparedSlice(x, p, bias, buffer, c0, s.spec(), true);
            } else {
                Tensor own = c.out(s.y());
                if (p != null) c.b.conv2dPrepared(x, p, bias, own, s.spec(), true);
                else c.b.conv2dRelu(x, w, bias, own, s.spec());
                c.b.copyChannels(own, 0, buffer, c0, cout, false);
            }
            c.keep("buffer", buffer);
        });
    }

    /**
     * Split pointwise members of 16, 24 and 8 outputs: the first and last into one random-filled buffer of 64
     * channels at channels 8 and 40, the second into a tensor of its own (conv2dPreparedSplitSlices where the backend
     * writes slices; else the members one by one, copied in).
     */
    private static ParityCase splitSlices(int n, int cin, int h, int w) {
        int[] couts = {16, 24, 8}, c0s = {8, 0, 40};
        ConvSpec stacked = new ConvSpec(cin, 48, 1, 1, 1, 1, 0, 0, 1, 1, 1);
        return new ParityCase("conv2dPreparedSplitSlices " + n + "x" + cin + "x" + h + "x" + w,
                Set.of("writesChannelSlices", "conv2dPreparedSplitSlices"), ParityCase.ATOL * Math.sqrt(cin),
                ParityCase.RTOL, c -> {
            Tensor x = c.in(n, cin, h, w), wt = c.in(48, cin, 1, 1), bias = c.in(48);
            Tensor p = c.b.prepareSplitPointwise(wt, stacked, couts, netslim.tensor.Shape.of(n, cin, h, w));
            Tensor buffer = c.in(n, 64, h, w), second = c.out(n, 24, h, w);
            Tensor[] ys = {buffer, second, buffer};
            if (p != null && c.b.writesChannelSlices(p, stacked)) {
                c.b.conv2dPreparedSplitSlices(x, p, bias, ys, c0s, couts, stacked, true);
            } else {
                Tensor hw = Tensor.zeros(wt.shape()), hb = Tensor.zeros(bias.shape());
                c.b.download(wt, hw);
                c.b.download(bias, hb);
                for (int m = 0, r = 0; m < couts.length; r += couts[m], m++) {
                    Tensor own = c.out(n, couts[m], h, w);
                    memberConv(c, x, hw, hb, r, couts[m], cin, own, true);
                    c.b.copyChannels(own, 0, ys[m], c0s[m], couts[m], false);
                }
            }
            c.keep("buffer", buffer);
            c.keep("second", second);
        });
    }

    /**
     * Member conv of stacked pointwise weights (host hw, bias hb or null): rows [r, r + cout) as a conv of its own
     * into y (conv2dRelu or conv2d).
     */
    private static void memberConv(ParityCase.Ctx c, Tensor x, Tensor hw, Tensor hb, int r, int cout, int cin, Tensor y,
                                   boolean relu) {
        Tensor wm = Tensor.zeros(cout, cin, 1, 1);
        System.arraycopy(hw.data(), r * cin, wm.data(), 0, cout * cin);
        Tensor bm = null;
        if (hb != null) {
            bm = Tensor.zeros(cout);
            System.arraycopy(hb.data(), r, bm.data(), 0, cout);
            bm = c.upload(bm);
        }
        ConvSpec own = new ConvSpec(cin, cout, 1, 1, 1, 1, 0, 0, 1, 1, 1);
        if (relu) c.b.conv2dRelu(x, c.upload(wm), bm, y, own);
        else c.b.conv2d(x, c.upload(wm), bm, y, own);
    }

    private static ParityCase split(int n, int cin, int[] couts, int h, int w, boolean withBias) {
        int cout = java.util.Arrays.stream(couts).sum();
        ConvSpec stacked = new ConvSpec(cin, cout, 1, 1, 1, 1, 0, 0, 1, 1, 1);
        String label = "conv2dPreparedSplit " + n + "x" + cin + "x" + h + "x" + w + " " + java.util.Arrays.toString(couts);
        return new ParityCase(label, Set.of("prepareSplitPointwise", "conv2dPreparedSplit"),
                ParityCase.ATOL * Math.sqrt(cin), ParityCase.RTOL, c -> {
            Tensor x = c.in(n, cin, h, w), wt = c.in(cout, cin, 1, 1);
            Tensor bias = withBias ? c.in(cout) : null;
            Tensor p = c.b.prepareSplitPointwise(wt, stacked, couts, netslim.tensor.Shape.of(n, cin, h, w));
            Tensor hw = Tensor.zeros(wt.shape()), hb = withBias ? Tensor.zeros(bias.shape()) : null;
            c.b.download(wt, hw);
            if (withBias) c.b.download(bias, hb);
            c.b.fill(wt, 0.5f); // the prepared weights are a snapshot
            for (boolean relu : new boolean[] {false, true}) {
                Tensor[] ys = new Tensor[couts.length];
                for (int m = 0; m < couts.length; m++) ys[m] = c.out(n, couts[m], h, w);
                if (p != null) {
                    c.b.conv2dPreparedSplit(x, p, bias, ys, stacked, relu);
                } else {
                    for (int m = 0, r = 0; m < couts.length; r += couts[m], m++) {
                        memberConv(c, x, hw, hb, r, couts[m], cin, ys[m], relu);
                    }
                }
                for (int m = 0; m < couts.length; m++) c.keep((relu ? "relu" : "y") + m, ys[m]);
            }
        });
    }

    private static ParityCase forward(ConvShape s) {
        return new ParityCase("conv2d " + s.label(), Set.of("conv2d"), c -> {
            Tensor x = c.in(s.x()), w = c.in(s.weight());
            Tensor bias = s.bias() ? c.in(s.spec().outChannels()) : null;
            Tensor y = c.out(s.y());
            c.b.conv2d(x, w, bias, y, s.spec());
            c.keep("y", y);
        });
    }

    /** The fused conv + ReLU (inference plans); inputs centred on 0 so about half the outputs are clamped. */
    private static ParityCase forwardRelu(ConvShape s) {
        return new ParityCase("conv2dRelu " + s.label(), Set.of("conv2dRelu"), c -> {
            Tensor x = c.in(s.x()), w = c.in(s.weight());
            Tensor bias = s.bias() ? c.in(s.spec().outChannels()) : null;
            Tensor y = c.out(s.y());
            c.b.conv2dRelu(x, w, bias, y, s.spec());
            c.keep("y", y);
        });
    }

    /**
     * dx, dw, db start random: the backward pass must add to them; then conv2dBackwardInto on another random dx,
     * which it must overwrite (dw still added into). Sums over N·HW terms: looser atol.
     */
    private static ParityCase backward(ConvShape s) {
        return new ParityCase("conv2dBackward " + s.label(), Set.of("conv2dBackward", "conv2dBackwardInto"), 1e-4,
                1e-4, c -> {
            Tensor x = c.in(s.x()), w = c.in(s.weight()), dy = c.in(s.y());
            Tensor dx = c.out(s.x()), dw = c.out(s.weight()), db = c.out(s.spec().outChannels());
            c.b.conv2dBackward(x, w, dy, dx, dw, db, s.spec());
            c.keep("dx", dx);
            c.keep("dw", dw);
            c.keep("db", db);
            Tensor into = c.out(s.x()), dw2 = c.out(s.weight());
            c.b.conv2dBackwardInto(x, w, dy, into, dw2, null, s.spec());
            c.keep("dx written", into);
            c.keep("dw beside it", dw2);
        });
    }

    /**
     * 3x3 stride-1 convs the CPU backend runs on Winograd without prepared weights (training): the serving rule and
     * at least {@code CpuBackend.PER_CALL_WINOGRAD_MIN_PIXELS} (196) output pixels in the call for y, and for dx at
     * least {@code INPUT_GRADIENT_WINOGRAD_MIN_PIXELS} (784) pixels at least 14 wide (the third one's dx: 6·9·15 =
     * 810); padding 1 / 0 / 2, odd sizes; the fourth one F(4x4, 3x3); the last one 7x7 maps at batch 8 (392 pixels:
     * y on Winograd, dx on im2col + GEMM).
     */
    static List<ConvShape> perCallWinogradShapes() {
        return List.of(
                new ConvShape("winograd 5x16x17x15 pad1", 5, 17, 15, spec(16, 18, 3, 3, 1, 1, 1, 1, 1), true),
                new ConvShape("winograd 4x20x18x18 pad0", 4, 18, 18, spec(20, 16, 3, 3, 1, 0, 0, 1, 1), false),
                new ConvShape("winograd 6x17x9x15 pad2", 6, 9, 15, spec(17, 23, 3, 3, 1, 2, 2, 1, 1), true),
                new ConvShape("winograd4 1x32x57x57 pad1", 1, 57, 57, spec(32, 40, 3, 3, 1, 1, 1, 1, 1), true),
                new ConvShape("winograd 8x20x7x7 pad1", 8, 7, 7, spec(20, 24, 3, 3, 1, 1, 1, 1, 1), false));
    }

    /**
     * The Winograd shapes through the unprepared calls training makes: conv2d and conv2dRelu (the CPU backend
     * transforms the weights per call) and conv2dBackward, whose dx the CPU backend computes as a 3x3 conv of dy
     * with the weights transposed and turned by 180° and padding 2 − pad (0 / 1 / 2 here → 2 / 1 / 0), on F(2x2)
     * and, for the fourth shape, F(4x4), then adds into dx (which starts random; the last shape's dx stays on
     * im2col + GEMM); and whose dw it computes by F(3x3, 2x2) where dy is at least 14 wide with 256 tiles (the first
     * four shapes here; the last stays on im2col). Winograd's tolerance as {@link #prepared}: dx sums 9·K products.
     */
    private static List<ParityCase> unprepared(ConvShape s) {
        double atolFwd = ParityCase.ATOL * Math.sqrt(9.0 * s.spec().inChannels());
        double atolBwd = Math.max(1e-4, ParityCase.ATOL * Math.sqrt(9.0 * s.spec().outChannels()));
        return List.of(
                new ParityCase("conv2d " + s.label(), Set.of("conv2d"), atolFwd, ParityCase.RTOL, c -> {
                    Tensor x = c.in(s.x()), w = c.in(s.weight());
                    Tensor bias = s.bias() ? c.in(s.spec().outChannels()) : null;
                    Tensor y = c.out(s.y()), yr = c.out(s.y());
                    c.b.conv2d(x, w, bias, y, s.spec());
                    c.b.conv2dRelu(x, w, bias, yr, s.spec());
                    c.keep("y", y);
                    c.keep("relu y", yr);
                }),
                new ParityCase("conv2dBackward " + s.label(), Set.of("conv2dBackward", "conv2dBackwardInto"), atolBwd,
                        1e-4, c -> {
                    Tensor x = c.in(s.x()), w = c.in(s.weight()), dy = c.in(s.y());
                    Tensor dx = c.out(s.x()), dw = c.out(s.weight()), db = c.out(s.spec().outChannels());
                    c.b.conv2dBackward(x, w, dy, dx, dw, db, s.spec());
                    c.keep("dx", dx);
                    c.keep("dw", dw);
                    c.keep("db", db);
                    Tensor only = c.out(s.x()); // dx alone (training's convs on the graph input skip it)
                    c.b.conv2dBackward(x, w, dy, only, null, null, s.spec());
                    c.keep("dx alone", only);
                    Tensor into = c.out(s.x()), dw2 = c.out(s.weight()); // dx written (Winograd writes it)
                    c.b.conv2dBackwardInto(x, w, dy, into, dw2, null, s.spec());
                    c.keep("dx written", into);
                    c.keep("dw beside it", dw2);
                }));
    }

    /**
     * Sibling pointwise convs of one input (a training plan's inception branch heads): conv2dSiblings (outputs start
     * random: written whole; the middle member without a bias), then conv2dSiblingsBackward adding into dx, the dws
     * and the dbs (all start random), and once more without dx (members reading the graph input). The CPU backend
     * runs batches of at least its thread count on OpenBLAS as one stacked product (SiblingPointwise); batch 1 and the
     * Java GEMM take the interface's default, member by member.
     */
    private static ParityCase siblings(int n, int cin, int[] couts, int h, int w, boolean bias) {
        String label = "conv2dSiblings " + n + "x" + cin + "x" + h + "x" + w + " -> " + java.util.Arrays.toString(couts)
                + (bias ? " bias" : "");
        return new ParityCase(label, Set.of("conv2dSiblings", "conv2dSiblingsBackward"), 1e-4, 1e-4, c -> {
            int k = couts.length;
            Tensor x = c.in(n, cin, h, w), dx = c.out(n, cin, h, w);
            Tensor[] ws = new Tensor[k], bs = new Tensor[k], ys = new Tensor[k], dys = new Tensor[k],
                    dws = new Tensor[k], dbs = new Tensor[k], dws2 = new Tensor[k];
            ConvSpec[] specs = new ConvSpec[k];
            for (int i = 0; i < k; i++) {
                specs[i] = spec(cin, couts[i], 1, 1, 1, 0, 0, 1, 1);
                ws[i] = c.in(couts[i], cin, 1, 1);
                bs[i] = bias && i != 1 ? c.in(couts[i]) : null;
                ys[i] = c.out(n, couts[i], h, w);
                dys[i] = c.in(n, couts[i], h, w);
                dws[i] = c.out(couts[i], cin, 1, 1);
                dws2[i] = c.out(couts[i], cin, 1, 1);
                dbs[i] = bs[i] == null ? null : c.out(couts[i]);
            }
            c.b.conv2dSiblings(x, ws, bs, ys, specs);
            c.b.conv2dSiblingsBackward(x, ws, dys, dx, dws, dbs, specs);
            c.b.conv2dSiblingsBackward(x, ws, dys, null, dws2, new Tensor[k], specs);
            c.keep("dx", dx);
            for (int i = 0; i < k; i++) {
                c.keep("y" + i, ys[i]);
                c.keep("dw" + i, dws[i]);
                c.keep("dw" + i + " without dx", dws2[i]);
                if (dbs[i] != null) c.keep("db" + i, dbs[i]);
            }
        });
    }

    /** Null gradient outputs are skipped: only dw, or only dx. */
    private static ParityCase backwardPartial(ConvShape s, boolean onlyDw) {
        return new ParityCase("conv2dBackward " + s.label() + (onlyDw ? " dw only" : " dx only"),
                Set.of("conv2dBackward"), 1e-4, 1e-4, c -> {
                    Tensor x = c.in(s.x()), w = c.in(s.weight()), dy = c.in(s.y());
                    Tensor g = onlyDw ? c.out(s.weight()) : c.out(s.x());
                    c.b.conv2dBackward(x, w, dy, onlyDw ? null : g, onlyDw ? g : null, null, s.spec());
                    c.keep(onlyDw ? "dw" : "dx", g);
                });
    }

    /** im2col of image 1 of a batch of 2, then col2im of random columns into a pre-filled dx. */
    private static ParityCase im2col(ConvSpec s, int h, int w) {
        int rows = s.inChannels() * s.kh() * s.kw(), cols = s.outH(h) * s.outW(w);
        return new ParityCase("im2col/col2im " + s, Set.of("im2col", "col2im"), c -> {
            Tensor x = c.in(2, s.inChannels(), h, w);
            Tensor col = c.out(rows, cols);
            c.b.im2col(x, 1, s, col);
            c.keep("col", col);
            Tensor dcol = c.in(rows, cols), dx = c.out(2, s.inChannels(), h, w);
            c.b.col2im(dcol, s, dx, 1);
            c.keep("dx", dx);
        });
    }

    /** Every transpose combination, offsets and leading dimensions wider than the matrix, beta 0 and not. */
    private static List<ParityCase> gemm() {
        List<ParityCase> cases = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            for (float beta : new float[] {0f, 0.7f}) {
                int m = 13, n = 9, k = 11, pad = 3, off = 5;
                int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
                int aRows = ta ? k : m, bRows = tb ? n : k;
                cases.add(new ParityCase("gemm ta=" + ta + " tb=" + tb + " beta=" + beta, Set.of("gemm"), c -> {
                    Tensor a = c.in(off + aRows * lda), b = c.in(off + bRows * ldb), cm = c.out(off + m * ldc);
                    c.b.gemm(ta, tb, m, n, k, 0.5f, a, off, lda, b, off, ldb, beta, cm, off, ldc);
                    c.keep("c", cm);
                }));
            }
        }
        return cases;
    }

    private static List<ParityCase> linear() {
        return List.of(
                new ParityCase("linear with bias", Set.of("linear"), c -> {
                    Tensor x = c.in(5, 17), w = c.in(10, 17), b = c.in(10), y = c.out(5, 10);
                    c.b.linear(x, w, b, y);
                    c.keep("y", y);
                }),
                new ParityCase("linear 4-D input no bias", Set.of("linear"), c -> {
                    Tensor x = c.in(3, 8, 1, 1), w = c.in(6, 8), y = c.out(3, 6);
                    c.b.linear(x, w, null, y);
                    c.keep("y", y);
                }),
                new ParityCase("linearBackward", Set.of("linearBackward"), c -> {
                    Tensor x = c.in(5, 17), w = c.in(10, 17), dy = c.in(5, 10);
                    Tensor dx = c.out(5, 17), dw = c.out(10, 17), db = c.out(10);
                    c.b.linearBackward(x, w, dy, dx, dw, db);
                    c.keep("dx", dx);
                    c.keep("dw", dw);
                    c.keep("db", db);
                }),
                new ParityCase("linearBackward dw only", Set.of("linearBackward"), c -> {
                    Tensor x = c.in(5, 17), w = c.in(10, 17), dy = c.in(5, 10), dw = c.out(10, 17);
                    c.b.linearBackward(x, w, dy, null, dw, null);
                    c.keep("dw", dw);
                }));
    }
}
