package netslim.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import netslim.io.OnnxImporter;
import netslim.nn.Graph;
import netslim.nn.Layer;
import netslim.nn.models.Zoo;
import netslim.prune.ChannelGroups.Group;
import netslim.prune.ChannelGroups.Role;
import netslim.report.ModelStats;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.Close;

/**
 * Masks, then compaction: on every zoo model and on imported ONNX graphs (BN folded into conv biases; mobilenet_v2
 * with depthwise convs and residual adds), the masked model and the compacted model compute the same logits, with
 * every group kind losing channels — Inception concats, residual adds, depthwise chains, the Linear after a global
 * pool and after a flattened spatial map.
 */
class MaskCompactTest {
    @TempDir
    static Path dir;

    /** Masked and compacted differ only in float summation order (zero terms dropped): ~1e-7 relative. */
    private static final double MAX_REL_L2 = 1e-5;

    static Stream<Arguments> models() {
        List<Arguments> cases = new ArrayList<>();
        cases.add(zoo("googlenet", Shape.of(3, 64, 64), 1.0));
        cases.add(zoo("googlenet-cifar", null, 0.25));
        cases.add(zoo("vgg11-cifar", null, 1.0));
        cases.add(zoo("resnet18", Shape.of(3, 64, 64), 1.0));
        cases.add(zoo("resnet20-cifar", null, 1.0));
        for (String f : new String[] {"mobilenet_v2.onnx.gz", "googlenet-cifar.folded.onnx.gz",
                "resnet20-cifar.folded.onnx.gz", "vgg11-cifar.folded.onnx.gz"}) {
            cases.add(Arguments.of(f, (Supplier<Graph>) () -> OnnxImporter.load(PruneFixtures.golden(f, dir))));
        }
        cases.add(Arguments.of("mobilenet-like (GraphBuilder)", (Supplier<Graph>) () -> PruneFixtures.mobileNetLike(3)));
        return cases.stream();
    }

    private static Arguments zoo(String name, Shape input, double width) {
        return Arguments.of(name, (Supplier<Graph>) () -> Zoo.create(name, new Zoo.Options(10, input, width, 5)));
    }

    /** Captures each round's masked model (a copy: the pruner compacts it next). */
    static final class Capture implements FilterPruner.Listener {
        final List<Graph> masked = new ArrayList<>();
        final List<ChannelGroups> groups = new ArrayList<>();
        final List<ChannelMask> masks = new ArrayList<>();

        @Override
        public void masked(int round, Graph g, ChannelGroups grp, ChannelMask mask) {
            masked.add(g.copy());
            groups.add(grp);
            masks.add(mask);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void maskedAndCompactedModelsAgree(String name, Supplier<Graph> model) {
        Graph original = model.get();
        PruneFixtures.randomizeBatchNormAndBias(original, 11);
        Capture capture = new Capture();
        PruneOptions o = PruneOptions.ratio(0.3).withPerLayer(true);
        Graph pruned = new FilterPruner(o, Importance.l1(), FineTuner.NONE).listener(capture).prune(original).graph();

        Tensor x = PruneFixtures.input(original, 2, 7);
        Tensor before = PruneFixtures.run(original, x);
        Tensor masked = PruneFixtures.run(capture.masked.get(0), x);
        Tensor compacted = PruneFixtures.run(pruned, x);
        double err = Close.relL2(compacted.toArray(), masked.toArray());
        assertTrue(err <= MAX_REL_L2, name + ": compacted vs masked relative L2 " + err);
        assertTrue(Close.relL2(masked.toArray(), before.toArray()) > 1e-3, name + ": masking changed nothing");

        // every prunable group of width ≥ 2 lost channels, so every group kind the model has was exercised
        ChannelGroups groups = capture.groups.get(0);
        ChannelMask mask = capture.masks.get(0);
        for (Group g : groups.prunable()) {
            if (g.width() >= 2) assertTrue(mask.removed(g.id()).length > 0, name + ": " + g + " lost nothing");
        }
        assertTrue(ModelStats.of(name, pruned).params() < ModelStats.of(name, original).params());
        assertTrue(ModelStats.of(name, pruned).macs() < ModelStats.of(name, original).macs());
    }

    /**
     * Why fine-tuning the compacted model equals fine-tuning the masked one (with masks held): in training mode
     * (BatchNorm on batch statistics) both give the same logits, and every kept weight gets the same gradient.
     */
    @Test
    void maskedAndCompactedModelsTrainAlike() {
        Graph original = PruneFixtures.mobileNetLike(8);
        PruneFixtures.randomizeBatchNormAndBias(original, 9);
        Capture capture = new Capture();
        Graph compacted = new FilterPruner(PruneOptions.ratio(0.3).withPerLayer(true), Importance.l1(), FineTuner.NONE)
                .listener(capture).prune(original).graph();
        Graph masked = capture.masked.get(0);
        Tensor x = PruneFixtures.input(original, 4, 2);
        Tensor dLogits = new netslim.tensor.Rng(3).uniform(Shape.of(4, 5));
        Tensor[] m = trainStep(masked, x, dLogits), c = trainStep(compacted, x, dLogits);
        Close.assertClose(c[0], m[0], 1e-6, 1e-5, "training-mode logits");
        ChannelGroups groups = capture.groups.get(0);
        ChannelMask mask = capture.masks.get(0);
        for (String conv : List.of("stem", "expand", "project", "tail")) {
            String in = masked.node(conv).inputs().get(0);
            Tensor g = masked.params().grad(conv + ".weight");
            Tensor kept = Slices.select(Slices.select(g, 0, kept(groups, mask, conv)), 1, kept(groups, mask, in));
            Close.assertClose(compacted.params().grad(conv + ".weight"), kept, 1e-6, 1e-5, conv + " weight gradient");
        }
        Tensor fc = Slices.select(masked.params().grad("fc.weight"), 1, Slices.columns(kept(groups, mask, "flatten"), 4));
        Close.assertClose(compacted.params().grad("fc.weight"), fc, 1e-6, 1e-5, "fc weight gradient");
    }

    /** Training-mode forward and backward of dLogits on the reference kernels: logits, with gradients in the graph. */
    private static Tensor[] trainStep(Graph g, Tensor x, Tensor dLogits) {
        try (netslim.nn.Executor ex = new netslim.nn.Executor(g, netslim.backend.cpu.ReferenceKernels.create(),
                x.shape().dim(0), netslim.nn.Executor.Mode.TRAINING)) {
            Tensor logits = ex.forwardToHost(x);
            ex.backward(dLogits);
            return new Tensor[] {logits};
        }
    }

    /** Channels of a tensor that the mask keeps. */
    private static int[] kept(ChannelGroups groups, ChannelMask mask, String tensor) {
        ChannelGroups.TensorChannels t = groups.tensor(tensor);
        return java.util.stream.IntStream.range(0, t.channels())
                .filter(c -> java.util.Arrays.binarySearch(mask.removed(t.group()[c]), t.index()[c]) < 0).toArray();
    }

    /** The group kinds the cases above cover: a regression guard on the case list itself. */
    @Test
    void theCasesCoverEveryGroupKind() {
        List<String> kinds = new ArrayList<>();
        models().forEach(a -> {
            @SuppressWarnings("unchecked")
            Graph g = ((Supplier<Graph>) a.get()[1]).get();
            for (Group grp : ChannelGroups.of(g).prunable()) {
                for (var m : grp.members()) {
                    Layer l = g.node(m.node()).layer();
                    if (l instanceof Layer.Concat) kinds.add("concat");
                    if (l instanceof Layer.Add) kinds.add("add");
                    if (m.role() == Role.DEPTHWISE) kinds.add("depthwise");
                    if (m.role() == Role.LINEAR) kinds.add(m.unit() == 1 ? "linear-after-pool" : "linear-after-flatten");
                }
            }
        });
        for (String k : List.of("concat", "add", "depthwise", "linear-after-pool", "linear-after-flatten")) {
            assertTrue(kinds.contains(k), "no prunable group of kind " + k);
        }
    }

    /**
     * The BN-β trap (NNI #2130), shown to be real: zeroing only the conv filters leaves BatchNorm emitting
     * β − γ·μ/σ, and compaction then changes the function. The full mask (γ and β too) does not.
     */
    @Test
    void zeroingOnlyTheConvIsNotEnough() {
        Graph g = Zoo.create("resnet20-cifar", new Zoo.Options(10, null, 1.0, 2));
        PruneFixtures.randomizeBatchNormAndBias(g, 4);
        ChannelGroups groups = ChannelGroups.of(g);
        Group stem = groups.groupOfProducer("conv1");
        ChannelMask mask = ChannelMask.of(java.util.Map.of(stem.id(), new int[] {0, 3, 5}));
        Graph convOnly = g.copy();
        for (var m : stem.members(Role.PRODUCER)) {
            for (int c : mask.removed(stem.id())) Slices.zeroRow(convOnly.params().get(m.node() + ".weight"), c);
        }
        Graph compacted = Compactor.compact(convOnly, groups, mask);
        Tensor x = PruneFixtures.input(g, 2, 1);
        double trapErr = Close.relL2(PruneFixtures.run(compacted, x).toArray(), PruneFixtures.run(convOnly, x).toArray());
        assertTrue(trapErr > 1e-3, "conv-only masking should differ after compaction, got " + trapErr);

        Graph masked = g.copy();
        mask.apply(masked, groups);
        Graph compacted2 = Compactor.compact(masked, groups, mask);
        Close.assertClose(PruneFixtures.run(compacted2, x), PruneFixtures.run(masked, x), 1e-6, 1e-5, "full mask");
        // compact(graph) finds the same channels from the zeros alone
        Graph detected = Compactor.compact(masked);
        assertEquals(compacted2.params().get("conv1.weight").shape(), detected.params().get("conv1.weight").shape());
        assertEquals(13, detected.params().get("conv1.weight").shape().dim(0));
    }
}
