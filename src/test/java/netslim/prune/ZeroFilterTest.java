package netslim.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import netslim.backend.cpu.ReferenceKernels;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.nn.models.Zoo;
import netslim.tensor.Tensor;
import netslim.testing.Close;

/**
 * Filters that are exactly zero (zero weights and bias, BN β = 0 and running mean 0, so the channel outputs exactly
 * zero) are the first channels L1 removes, and removing them leaves the logits unchanged.
 */
class ZeroFilterTest {

    /** conv name (googlenet-cifar) → its zeroed out-channels; the convs cover a stem, concat branches, the last module. */
    private static final Map<String, int[]> ZEROED = new LinkedHashMap<>();

    static {
        ZEROED.put("pre_layers.0", new int[] {3, 17});
        ZEROED.put("a3.b1.0", new int[] {0});
        ZEROED.put("a3.b3.6", new int[] {1, 5});
        ZEROED.put("c4.b4.1", new int[] {2});
        ZEROED.put("b5.b2.3", new int[] {7, 8, 40});
    }

    private static Tensor run(Graph g, Tensor x) {
        try (Executor ex = new Executor(g, ReferenceKernels.create(), x.shape().dim(0), Executor.Mode.INFERENCE)) {
            return ex.forwardToHost(x);
        }
    }

    @Test
    void zeroFiltersGoFirstAndChangeNothing() {
        Graph g = Zoo.create("googlenet-cifar", new Zoo.Options(10, null, 0.25, 9));
        PruneFixtures.randomizeBatchNormAndBias(g, 2);
        int count = 0;
        for (Map.Entry<String, int[]> e : ZEROED.entrySet()) {
            String conv = e.getKey(), bn = bnAfter(conv);
            for (int c : e.getValue()) {
                Slices.zeroRow(g.params().get(conv + ".weight"), c);
                g.params().get(conv + ".bias").set(c, 0f);
                g.params().get(bn + ".bias").set(c, 0f);
                g.params().get(bn + ".running_mean").set(c, 0f);
                count++;
            }
        }
        ChannelGroups groups = ChannelGroups.of(g);
        int total = groups.prunable().stream().mapToInt(ChannelGroups.Group::width).sum();
        MaskCompactTest.Capture capture = new MaskCompactTest.Capture();
        PruneOptions o = PruneOptions.ratio((count + 0.25) / total).withFloor(0);
        Graph pruned = new FilterPruner(o, Importance.l1(), FineTuner.NONE).listener(capture).prune(g).graph();

        ChannelMask mask = capture.masks.get(0);
        assertEquals(count, mask.count());
        for (Map.Entry<String, int[]> e : ZEROED.entrySet()) {
            assertArrayEquals(e.getValue(), mask.removed(groups.groupOfProducer(e.getKey()).id()), e.getKey());
        }
        Tensor x = PruneFixtures.input(g, 2, 5);
        Tensor before = run(g, x), after = run(pruned, x);
        // the reference kernels sum in double and round once: dropping exact zero terms is (close to) bit-exact
        Close.assertClose(after, before, 1e-6, 1e-6, "logits after removing zero filters");
    }

    /** The BatchNorm a zoo conv "prefix.i" feeds: "prefix.(i+1)". */
    private static String bnAfter(String conv) {
        int dot = conv.lastIndexOf('.');
        return conv.substring(0, dot + 1) + (Integer.parseInt(conv.substring(dot + 1)) + 1);
    }
}
