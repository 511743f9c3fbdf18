package netslim.io;

import netslim.backend.ConvSpec;
import netslim.backend.PoolSpec;
import netslim.backend.cpu.ReferenceKernels;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.nn.GraphBuilder;
import netslim.nn.Layer;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/** Small seeded graphs and inputs shared by the io tests. */
final class TestModels {
    private TestModels() {
    }

    /** A model using every layer kind, with seeded random parameters and non-trivial BatchNorm statistics. */
    static Graph everyKind(long seed) {
        GraphBuilder b = new GraphBuilder("input", Shape.of(3, 9, 9));
        String x = b.conv("conv1", b.input(), new ConvSpec(3, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1), false);
        x = b.bn("bn1", x, 8);
        x = b.relu("relu1", x);
        String branchA = b.conv("conv_a", x, new ConvSpec(8, 8, 3, 3, 1, 1, 2, 2, 2, 2, 4), true);
        branchA = b.add("clip_a", new Layer.Clip(0f, 6f), branchA);
        String branchB = b.maxPool("pool_b", x, 3, 1, 1, true);
        String cat = b.concat("cat", branchA, branchB);
        String proj = b.conv("proj", cat, 16, 8, 1, 1, 0, true);
        String sum = b.sum("residual", proj, x);
        x = b.add("avg", new Layer.AvgPool2d(new PoolSpec(3, 3, 2, 2, 1, 1, true, false)), sum);
        x = b.add("ident", new Layer.Identity(), x);
        x = b.add("unbounded", new Layer.Clip(Float.NEGATIVE_INFINITY, 3.5f), x);
        x = b.globalAvgPool("gap", x);
        x = b.flatten("flat", x);
        x = b.dropout("drop", x, 0.25f);
        x = b.linear("fc", x, 8, 5, true);
        Graph g = b.build(x);
        randomize(g, seed);
        g.metadata().put("provenance", "{\"source\":\"test\",\"seed\":" + seed + "}");
        g.metadata().put("pruning_history", "[1, 2.5, null, \"x\"]");
        return g;
    }

    static void randomize(Graph g, long seed) {
        Rng rng = new Rng(seed);
        g.params().values().forEach((name, t) -> {
            for (int i = 0; i < t.size(); i++) {
                float u = rng.nextFloat();
                t.set(i, name.endsWith("running_var") || name.endsWith("bn1.weight") ? 0.5f + u : u - 0.5f);
            }
        });
    }

    static Tensor randomInput(Shape s, long seed) {
        Rng rng = new Rng(seed);
        Tensor t = Tensor.zeros(s);
        for (int i = 0; i < t.size(); i++) t.set(i, rng.nextFloat() * 2 - 1);
        return t;
    }

    /** Runs the graph in inference mode on the reference kernels. */
    static Tensor run(Graph g, Tensor input) {
        try (Executor ex = new Executor(g, ReferenceKernels.create(), input.shape().dim(0), Executor.Mode.INFERENCE)) {
            return ex.forwardToHost(input);
        }
    }
}
