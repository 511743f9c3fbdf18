package netslim.prune;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

import netslim.backend.Backend;
import netslim.backend.ConvSpec;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.nn.GraphBuilder;
import netslim.nn.Layer;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/** Small seeded graphs, parameter randomisation and inference shared by the pruning tests. */
final class PruneFixtures {
    private PruneFixtures() {
    }

    /**
     * Non-trivial BatchNorm (γ ∈ [0.5, 1.5], β and running mean ∈ [−0.5, 0.5], running var ∈ [0.5, 1.5]) and conv
     * biases ∈ [−0.1, 0.1], so that a masked channel which still emitted its BN shift would show.
     */
    static void randomizeBatchNormAndBias(Graph g, long seed) {
        Rng rng = new Rng(seed);
        g.params().values().forEach((name, t) -> {
            boolean bn = g.node(name.substring(0, name.lastIndexOf('.'))).layer() instanceof Layer.BatchNorm2d;
            if (bn && (name.endsWith(".weight") || name.endsWith(".running_var"))) rng.fillUniform(t, 0.5f, 1.5f);
            else if (bn) rng.fillUniform(t, -0.5f, 0.5f);
            else if (name.endsWith(".bias")) rng.fillUniform(t, -0.1f, 0.1f);
        });
    }

    /** Every parameter uniform in [−a, a] (BN variances in [0.5, 1.5]). */
    static void randomizeAll(Graph g, long seed, float a) {
        Rng rng = new Rng(seed);
        g.params().values().forEach((name, t) -> {
            if (name.endsWith(".running_var")) rng.fillUniform(t, 0.5f, 1.5f);
            else rng.fillUniform(t, -a, a);
        });
    }

    static Tensor input(Graph g, int batch, long seed) {
        Shape in = g.inputShape();
        return new Rng(seed).uniform(Shape.of(batch, in.dim(0), in.dim(1), in.dim(2)));
    }

    /** Inference on a 2-thread CPU backend (Java GEMM: deterministic and available everywhere). */
    static Tensor run(Graph g, Tensor x) {
        try (Backend b = CpuBackend.create(2, Gemm.select("java", 2));
             Executor ex = new Executor(g, b, x.shape().dim(0), Executor.Mode.INFERENCE)) {
            return ex.forwardToHost(x);
        }
    }

    /**
     * MobileNet-like, every group kind in a few nodes: a grouped (not depthwise) conv on the input, then stem conv →
     * BN → ReLU6; an inverted residual (1x1 expand → BN → ReLU6 → depthwise 3x3 → BN → ReLU6 → 1x1 project → BN)
     * added to the stem; a strided conv and a max pool to a 2x2 map, flattened into a Linear (4 columns a channel).
     */
    static Graph mobileNetLike(long seed) {
        GraphBuilder b = new GraphBuilder("input", Shape.of(3, 8, 8));
        String x = b.conv("grouped", b.input(), ConvSpec.of(3, 6, 3, 1, 1).withGroups(3), true);
        x = b.relu("grouped_relu", x);
        x = b.conv("stem", x, 6, 8, 3, 1, 1, false);
        x = b.bn("stem_bn", x, 8);
        String stem = b.add("stem_relu6", new Layer.Clip(0f, 6f), x);
        String e = b.conv("expand", stem, 8, 16, 1, 1, 0, false);
        e = b.bn("expand_bn", e, 16);
        e = b.add("expand_relu6", new Layer.Clip(0f, 6f), e);
        String d = b.conv("dw", e, ConvSpec.of(16, 16, 3, 1, 1).withGroups(16), false);
        d = b.bn("dw_bn", d, 16);
        d = b.add("dw_relu6", new Layer.Clip(0f, 6f), d);
        String p = b.conv("project", d, 16, 8, 1, 1, 0, false);
        p = b.bn("project_bn", p, 8);
        String sum = b.sum("add", p, stem);
        String tail = b.conv("tail", sum, 8, 12, 3, 2, 1, true);
        tail = b.relu("tail_relu", tail);
        String pooled = b.maxPool("pool", tail, 2, 2, 0, false); // 4x4 → 2x2
        String flat = b.flatten("flatten", pooled);
        String fc = b.linear("fc", flat, 12 * 4, 5, true);
        Graph g = b.build(fc);
        randomizeAll(g, seed, 0.5f);
        return g;
    }

    /** Unzips a golden ONNX file into {@code dir} and returns its path. */
    static Path golden(String file, Path dir) {
        Path out = dir.resolve(file.replace(".gz", ""));
        if (Files.exists(out)) return out;
        try (InputStream in = new GZIPInputStream(PruneFixtures.class.getResourceAsStream("/golden/" + file))) {
            Files.copy(in, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }
}
