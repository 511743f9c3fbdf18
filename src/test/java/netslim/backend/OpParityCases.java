package netslim.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Parity cases of every op outside the convolution family: memory, BatchNorm, activations, pools, elementwise and
 * data movement, dropout, loss, SGD. Some tensors exceed 32k elements so the CPU backend's parallel split runs.
 */
final class OpParityCases {
    private OpParityCases() {
    }

    static List<ParityCase> all() {
        List<ParityCase> cases = new ArrayList<>();
        cases.addAll(memory());
        cases.addAll(batchNorm(new int[] {3, 5, 4, 3}));
        cases.addAll(batchNorm(new int[] {2, 6, 40, 40}));
        // planes of at least 256 floats are summed in vector blocks on the CPU: 323 = 20 vectors of 16 and 3 more
        cases.addAll(batchNorm(new int[] {3, 4, 17, 19}));
        cases.addAll(batchNorm(new int[] {7, 9}));
        // planes of 16–255 floats are summed across a channel's planes on the CPU (CpuBatchNorm.sumPlanes): 196 (one
        // plane a block, 4 left over per plane), 49 (blocks of 5 planes, then 4; 1 left over), 16 (every plane in
        // one block, none left over), 18 (2 left over)
        cases.addAll(batchNorm(new int[] {8, 5, 14, 14}));
        cases.addAll(batchNorm(new int[] {9, 3, 7, 7}));
        cases.addAll(batchNorm(new int[] {5, 4, 4, 4}));
        cases.addAll(batchNorm(new int[] {3, 2, 3, 6}));
        cases.addAll(activations(new int[] {2, 3, 5, 7}));
        cases.addAll(activations(new int[] {2, 8, 64, 65}));
        cases.addAll(pools());
        cases.addAll(elementwise());
        cases.addAll(lossAndSgd());
        return cases;
    }

    private static List<ParityCase> memory() {
        return List.of(
                new ParityCase("upload/copy/download", Set.of("upload", "download", "copy"), c -> {
                    Tensor a = c.in(3, 70, 200), b = c.out(3 * 70 * 200);
                    c.b.copy(a, b);
                    c.keep("b", b);
                }),
                new ParityCase("fill", Set.of("fill"), c -> {
                    Tensor a = c.out(2, 3, 5), big = c.out(5, 100, 101);
                    c.b.fill(a, 1.5f);
                    c.b.fill(big, -0.25f);
                    c.keep("a", a);
                    c.keep("big", big);
                }));
    }

    /** Train (y, saved and running statistics), eval, backward into pre-filled gradients. */
    /** batchNormTrain, or batchNormTrainRelu when relu: y, the saved and the running statistics. */
    private static ParityCase batchNormTrain(int[] dims, boolean relu) {
        int ch = dims[1];
        String op = relu ? "batchNormTrainRelu" : "batchNormTrain";
        return new ParityCase(op + " " + Shape.of(dims), Set.of(op), c -> {
            Tensor x = c.uniform(-2f, 3f, dims), gamma = c.in(ch), beta = c.in(ch);
            Tensor runMean = c.in(ch), runVar = c.uniform(0.5f, 2f, ch);
            Tensor y = c.out(dims), mean = c.out(ch), invStd = c.out(ch);
            if (relu) c.b.batchNormTrainRelu(x, gamma, beta, runMean, runVar, 0.1f, 1e-5f, y, mean, invStd);
            else c.b.batchNormTrain(x, gamma, beta, runMean, runVar, 0.1f, 1e-5f, y, mean, invStd);
            c.keep("y", y);
            c.keep("saveMean", mean);
            c.keep("saveInvStd", invStd);
            c.keep("runMean", runMean);
            c.keep("runVar", runVar);
        });
    }

    private static List<ParityCase> batchNorm(int[] dims) {
        int ch = dims[1];
        String shape = Shape.of(dims).toString();
        List<ParityCase> cases = new ArrayList<>(List.of(
                batchNormTrain(dims, false),
                batchNormTrain(dims, true),
                new ParityCase("batchNormEval " + shape, Set.of("batchNormEval"), c -> {
                    Tensor x = c.in(dims), gamma = c.in(ch), beta = c.in(ch);
                    Tensor mean = c.in(ch), var = c.uniform(0.1f, 2f, ch), y = c.out(dims);
                    c.b.batchNormEval(x, gamma, beta, mean, var, 1e-5f, y);
                    c.keep("y", y);
                }),
                bnBackward(shape, dims, ch, false),
                bnBackward(shape, dims, ch, true),
                bnReluBackward(shape, dims, ch)));
        if (dims.length == 4) cases.add(bnReluSlices(shape, dims, ch)); // NCHW: what concats hold
        return cases;
    }

    /**
     * The slice forms a training plan uses for a branch end feeding a concat: batchNormTrainReluSlice into channels
     * [2, 2 + C) of a random buffer of C + 3 channels, then batchNormReluBackwardIntoSlice with dy at the same channels
     * of a random gradient buffer (masked there; dx overwritten, dgamma and dbeta added into). Backends without them
     * (batchNormReluSlices false: the reference, CUDA) run the whole-tensor ops and copy the channels in and out.
     * NCHW shapes only (rank-2 BatchNorms, after a linear layer, feed no concat).
     */
    private static ParityCase bnReluSlices(String shape, int[] dims, int ch) {
        return new ParityCase("batchNormReluSlices " + shape, Set.of("batchNormReluSlices",
                "batchNormTrainReluSlice", "batchNormReluBackwardIntoSlice"), 1e-4, 1e-4, c -> {
            int[] big = {dims[0], ch + 3, dims[2], dims[3]};
            Tensor x = c.uniform(-2f, 3f, dims), gamma = c.in(ch), beta = c.in(ch);
            Tensor runMean = c.in(ch), runVar = c.uniform(0.5f, 2f, ch);
            Tensor buffer = c.out(big), mean = c.out(ch), invStd = c.out(ch);
            Tensor grads = c.in(big), dx = c.out(dims), dgamma = c.out(ch), dbeta = c.out(ch);
            if (c.b.batchNormReluSlices()) {
                c.b.batchNormTrainReluSlice(x, gamma, beta, runMean, runVar, 0.1f, 1e-5f, buffer, 2, mean, invStd);
                c.b.batchNormReluBackwardIntoSlice(x, grads, 2, gamma, beta, mean, invStd, dx, dgamma, dbeta);
            } else {
                Tensor y = c.out(dims), dy = c.out(dims);
                c.b.batchNormTrainRelu(x, gamma, beta, runMean, runVar, 0.1f, 1e-5f, y, mean, invStd);
                c.b.copyChannels(y, 0, buffer, 2, ch, false);
                c.b.copyChannels(grads, 2, dy, 0, ch, false);
                c.b.batchNormReluBackwardInto(x, y, dy, gamma, beta, mean, invStd, dx, dgamma, dbeta);
                c.b.copyChannels(dy, 0, grads, 2, ch, false);
            }
            c.keep("buffer", buffer);
            c.keep("mean", mean);
            c.keep("invStd", invStd);
            c.keep("running mean", runMean);
            c.keep("running var", runVar);
            c.keep("gradient buffer", grads);
            c.keep("dx", dx);
            c.keep("dgamma", dgamma);
            c.keep("dbeta", dbeta);
        });
    }

    /**
     * batchNormReluBackwardInto on the output of each backend's own batchNormTrainRelu (a backend may recompute the
     * ReLU's mask from x and the saved statistics): dy overwritten with the masked gradient, dx overwritten, dgamma
     * and dbeta added into.
     */
    private static ParityCase bnReluBackward(String shape, int[] dims, int ch) {
        String op = "batchNormReluBackwardInto";
        return new ParityCase(op + " " + shape, Set.of(op), 1e-4, 1e-4, c -> {
            Tensor x = c.uniform(-2f, 3f, dims), gamma = c.in(ch), beta = c.in(ch);
            Tensor runMean = c.in(ch), runVar = c.uniform(0.5f, 2f, ch);
            Tensor y = c.out(dims), mean = c.out(ch), invStd = c.out(ch);
            c.b.batchNormTrainRelu(x, gamma, beta, runMean, runVar, 0.1f, 1e-5f, y, mean, invStd);
            Tensor dy = c.in(dims), dx = c.out(dims), dgamma = c.out(ch), dbeta = c.out(ch);
            c.b.batchNormReluBackwardInto(x, y, dy, gamma, beta, mean, invStd, dx, dgamma, dbeta);
            c.keep("dy", dy);
            c.keep("dx", dx);
            c.keep("dgamma", dgamma);
            c.keep("dbeta", dbeta);
        });
    }

    /**
     * batchNormBackward (adds into dx, dgamma, dbeta, which start random) or, with into, batchNormBackwardInto (dx
     * overwritten, dgamma and dbeta still added into). dx = γ·invStd·(dy − mean(dy) − x̂·mean(dy·x̂)) subtracts
     * nearly equal sums: looser atol.
     */
    private static ParityCase bnBackward(String shape, int[] dims, int ch, boolean into) {
        String op = into ? "batchNormBackwardInto" : "batchNormBackward";
        return new ParityCase(op + " " + shape, Set.of(op), 1e-4, 1e-4, c -> {
            Tensor x = c.in(dims), dy = c.in(dims), gamma = c.in(ch);
            Tensor mean = c.in(ch), invStd = c.uniform(0.5f, 2f, ch);
            Tensor dx = c.out(dims), dgamma = c.out(ch), dbeta = c.out(ch);
            if (into) c.b.batchNormBackwardInto(x, dy, gamma, mean, invStd, dx, dgamma, dbeta);
            else c.b.batchNormBackward(x, dy, gamma, mean, invStd, dx, dgamma, dbeta);
            c.keep("dx", dx);
            c.keep("dgamma", dgamma);
            c.keep("dbeta", dbeta);
        });
    }

    private static List<ParityCase> activations(int[] dims) {
        String shape = Shape.of(dims).toString();
        return List.of(
                new ParityCase("relu " + shape, Set.of("relu"), c -> {
                    Tensor x = c.in(dims), y = c.out(dims);
                    c.b.relu(x, y);
                    c.keep("y", y);
                }),
                new ParityCase("reluBackward " + shape, Set.of("reluBackward"), c -> {
                    Tensor y = c.in(dims), dy = c.in(dims), dx = c.out(dims);
                    c.b.reluBackward(y, dy, dx);
                    c.keep("dx", dx);
                }),
                new ParityCase("reluBackwardInto " + shape, Set.of("reluBackwardInto"), c -> {
                    Tensor y = c.in(dims), dy = c.in(dims), dx = c.out(dims); // dx random: overwritten
                    c.b.reluBackwardInto(y, dy, dx);
                    c.keep("dx", dx);
                }),
                new ParityCase("clip " + shape, Set.of("clip"), c -> {
                    Tensor x = c.uniform(-2f, 8f, dims), y = c.out(dims);
                    c.b.clip(x, 0f, 6f, y);
                    c.keep("y", y);
                }),
                new ParityCase("clipBackward " + shape, Set.of("clipBackward"), c -> {
                    Tensor x = c.uniform(-2f, 8f, dims), dy = c.in(dims), dx = c.out(dims);
                    c.b.clipBackward(x, 0f, 6f, dy, dx);
                    c.keep("dx", dx);
                }));
    }

    private static List<ParityCase> pools() {
        List<ParityCase> cases = new ArrayList<>();
        // (label, input dims, spec): GoogLeNet's 3x3 s2 ceil-mode pool, padded, non-square, overlapping, plain.
        record Pool(String label, int[] x, PoolSpec spec) {
        }
        List<Pool> pools = List.of(
                new Pool("3x3 s2 ceil", new int[] {2, 3, 7, 7}, PoolSpec.of(3, 2, 0, true)),
                new Pool("3x3 s2 pad1 ceil", new int[] {1, 2, 8, 9}, PoolSpec.of(3, 2, 1, true)),
                new Pool("3x3 s1 pad1", new int[] {2, 3, 5, 6}, PoolSpec.of(3, 1, 1, false)),
                new Pool("2x2 s2 odd", new int[] {3, 2, 7, 5}, PoolSpec.of(2, 2, 0, false)),
                new Pool("3x2 s(2,1) pad(1,1) no-count-pad", new int[] {2, 2, 7, 6},
                        new PoolSpec(3, 2, 2, 1, 1, 1, true, false)),
                new Pool("3x3 s2 32x32 planes", new int[] {2, 16, 32, 32}, PoolSpec.of(3, 2, 1, false)),
                // w = 2·outW: the CPU's flat stride-2 pass (GoogLeNet's ceil-mode geometry; 2x2)
                new Pool("3x3 s2 ceil 16x16", new int[] {2, 5, 16, 16}, PoolSpec.of(3, 2, 0, true)),
                new Pool("2x2 s2 14x14", new int[] {2, 3, 14, 14}, PoolSpec.of(2, 2, 0, true)));
        for (Pool p : pools) {
            int[] y = {p.x()[0], p.x()[1], p.spec().outH(p.x()[2]), p.spec().outW(p.x()[3])};
            cases.add(new ParityCase("maxPool " + p.label(), Set.of("maxPool", "maxPoolBackward"), c -> {
                Tensor x = c.in(p.x()), out = c.out(y);
                c.b.maxPool(x, out, p.spec());
                c.keep("y", out);
                Tensor dy = c.in(y), dx = c.out(p.x());
                c.b.maxPoolBackward(x, dy, dx, p.spec());
                c.keep("dx", dx);
            }));
            cases.add(new ParityCase("maxPoolBackwardInto " + p.label(), Set.of("maxPoolBackwardInto"), c -> {
                Tensor x = c.in(p.x()), dy = c.in(y), dx = c.out(p.x()); // dx random: overwritten
                c.b.maxPoolBackwardInto(x, dy, dx, p.spec());
                c.keep("dx", dx);
            }));
            cases.add(new ParityCase("maxPool ties " + p.label(), Set.of("maxPool", "maxPoolBackward"), c -> {
                Tensor x = c.coarse(p.x()), out = c.out(y), dy = c.in(y), dx = c.out(p.x());
                c.b.maxPool(x, out, p.spec());
                c.b.maxPoolBackward(x, dy, dx, p.spec());
                c.keep("y", out);
                c.keep("dx", dx);
            }));
            cases.add(new ParityCase("avgPool " + p.label(), Set.of("avgPool", "avgPoolBackward"), c -> {
                Tensor x = c.in(p.x()), out = c.out(y);
                c.b.avgPool(x, out, p.spec());
                c.keep("y", out);
                Tensor dy = c.in(y), dx = c.out(p.x());
                c.b.avgPoolBackward(dy, dx, p.spec());
                c.keep("dx", dx);
            }));
        }
        for (int[] x : new int[][] {{2, 3, 5, 7}, {4, 32, 17, 16}}) {
            cases.add(new ParityCase("globalAvgPool " + Shape.of(x),
                    Set.of("globalAvgPool", "globalAvgPoolBackward"), c -> {
                        Tensor in = c.in(x), y = c.out(x[0], x[1], 1, 1);
                        c.b.globalAvgPool(in, y);
                        c.keep("y", y);
                        Tensor dy = c.in(x[0], x[1], 1, 1), dx = c.out(x);
                        c.b.globalAvgPoolBackward(dy, dx);
                        c.keep("dx", dx);
                    }));
        }
        return cases;
    }

    private static List<ParityCase> elementwise() {
        List<ParityCase> cases = new ArrayList<>();
        for (int[] d : new int[][] {{3, 5, 7}, {2, 4, 90, 100}}) {
            String shape = Shape.of(d).toString();
            cases.add(new ParityCase("add " + shape, Set.of("add"), c -> {
                Tensor a = c.in(d), b = c.in(d), y = c.out(d);
                c.b.add(a, b, y);
                c.keep("y", y);
            }));
            cases.add(new ParityCase("axpy " + shape, Set.of("axpy"), c -> {
                Tensor src = c.in(d), dst = c.out(d);
                c.b.axpy(-0.75f, src, dst);
                c.keep("dst", dst);
            }));
            for (float p : new float[] {0f, 0.3f, 1f}) {
                cases.add(new ParityCase("dropout p=" + p + " " + shape, Set.of("dropout", "dropoutBackward"), c -> {
                    Tensor x = c.in(d), mask = c.out(d), y = c.out(d);
                    c.b.dropout(x, p, 12345L, mask, y);
                    c.keep("mask", mask);
                    c.keep("y", y);
                    Tensor dy = c.in(d), dx = c.out(d);
                    c.b.dropoutBackward(dy, mask, dx);
                    c.keep("dx", dx);
                }));
            }
        }
        for (boolean acc : new boolean[] {false, true}) {
            cases.add(new ParityCase("copyChannels accumulate=" + acc, Set.of("copyChannels"), c -> {
                Tensor src = c.in(3, 5, 4, 3), dst = c.out(3, 9, 4, 3);
                c.b.copyChannels(src, 1, dst, 4, 3, acc);
                c.keep("dst", dst);
            }));
        }
        cases.add(new ParityCase("copyChannels large", Set.of("copyChannels"), c -> {
            Tensor src = c.in(4, 64, 28, 28), dst = c.out(4, 128, 28, 28);
            c.b.copyChannels(src, 0, dst, 64, 64, false);
            c.b.copyChannels(src, 32, dst, 0, 32, true);
            c.keep("dst", dst);
        }));
        return cases;
    }

    private static List<ParityCase> lossAndSgd() {
        List<ParityCase> cases = new ArrayList<>();
        for (float eps : new float[] {0f, 0.1f}) {
            cases.add(new ParityCase("softmaxCrossEntropy smoothing=" + eps,
                    Set.of("softmaxCrossEntropy", "softmaxCrossEntropyBackward"), c -> {
                        Tensor logits = c.uniform(-6f, 6f, 6, 11), probs = c.out(6, 11), dl = c.out(6, 11);
                        int[] labels = new int[6];
                        for (int i = 0; i < labels.length; i++) labels[i] = c.rng().nextInt(11);
                        c.keep("loss", c.b.softmaxCrossEntropy(logits, labels, eps, probs));
                        c.keep("probs", probs);
                        c.b.softmaxCrossEntropyBackward(probs, labels, eps, 2f, dl);
                        c.keep("dlogits", dl);
                    }));
        }
        record Sgd(float momentum, float wd, boolean nesterov, boolean velocity) {
        }
        for (Sgd s : List.of(new Sgd(0.9f, 5e-4f, false, true), new Sgd(0.9f, 1e-3f, true, true),
                new Sgd(0f, 1e-4f, false, false), new Sgd(0f, 0f, false, true))) {
            cases.add(new ParityCase("sgdStep " + s, Set.of("sgdStep"), c -> {
                Tensor p = c.in(3, 100, 120), g = c.in(3, 100, 120);
                Tensor v = s.velocity() ? c.in(3, 100, 120) : null;
                c.b.sgdStep(p, g, v, 0.05f, s.momentum(), s.wd(), s.nesterov());
                c.keep("param", p);
                if (v != null) c.keep("velocity", v);
            }));
        }
        return cases;
    }
}
