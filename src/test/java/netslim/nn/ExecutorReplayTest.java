package netslim.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.BackendProxy;
import netslim.testing.Close;

/**
 * How the executor drives {@link Backend#replayable} (CUDA graphs) and {@link Backend#deviceTimer} (CUDA events),
 * on a CPU backend dressed as a device: the capture logic and the per-node event bookkeeping run in CI; the CUDA
 * side of both is checked on a GPU by CudaModelParityTest.
 */
class ExecutorReplayTest {
    private static final Shape INPUT = Shape.of(1, 28, 28);

    /** What the fake device saw. */
    static final class Calls {
        int captures;
        int replays;
        int channelCopies;
        final List<Integer> marks = new ArrayList<>();
    }

    /**
     * A CpuBackend that claims to be a device (isHost false). {@code replay}: how replayable behaves — "capture"
     * (runs the work eagerly once like the CUDA backend, then replays it), "fail" (throws), or "default".
     * {@code timer}: whether deviceTimer returns a timer (wall-clock marks).
     */
    static Backend fakeDevice(CpuBackend cpu, String replay, boolean timer, Calls calls) {
        return BackendProxy.wrap(cpu, (m, args) -> {
            switch (m.getName()) {
                case "copyChannels":
                    calls.channelCopies++;
                    return BackendProxy.DELEGATE;
                case "isHost":
                    return false;
                case "replayable":
                    if (replay.equals("default")) return BackendProxy.DELEGATE;
                    calls.captures++;
                    if (replay.equals("fail")) throw new NetslimException("capture refused (test)");
                    Runnable work = (Runnable) args[1];
                    work.run();
                    return new Backend.Replay() {
                        @Override
                        public void run() {
                            calls.replays++;
                            work.run();
                        }

                        @Override
                        public boolean captured() {
                            return true;
                        }
                    };
                case "deviceTimer":
                    if (!timer) return null;
                    long[] at = new long[(Integer) args[0]];
                    return new Backend.DeviceTimer() {
                        @Override
                        public void mark(int i) {
                            calls.marks.add(i);
                            at[i] = System.nanoTime();
                        }

                        @Override
                        public double elapsedMs(int from, int to) {
                            return (at[to] - at[from]) / 1e6;
                        }

                        @Override
                        public void close() {
                        }
                    };
                default:
                    return BackendProxy.DELEGATE;
            }
        });
    }

    private static Graph model() {
        return FusedInferenceTest.model("googlenet-cifar", INPUT, 0.125);
    }

    private static Tensor input(long seed) {
        return new Rng(seed).uniform(Shape.of(2, 1, 28, 28));
    }

    /**
     * {@code passes} forwards of fresh inputs through the CPU serving plan and through the fake device's (replay
     * behaviour {@code replay}); the outputs must be identical. Returns whether the device's executor replays a graph.
     */
    private static boolean comparePasses(String replay, int passes, Calls calls) {
        Graph g = model();
        try (CpuBackend cpu = CpuBackend.create(1, Gemm.select("java", 1));
             Executor plain = Executor.forInferenceWholeBatch(g, cpu, 2); // the device plan's shapes
             Executor device = Executor.forInference(g, fakeDevice(cpu, replay, false, calls), 2)) {
            for (int i = 0; i < passes; i++) {
                Close.assertClose(device.forwardToHost(input(i)), plain.forwardToHost(input(i)), 0, 0,
                        replay + " pass " + i);
            }
            return device.replaysGraph();
        }
    }

    @Test
    void capturesOnceThenReplaysAndReadsEachNewInput() {
        Calls calls = new Calls();
        assertTrue(comparePasses("capture", 4, calls));
        assertEquals(1, calls.captures, "captured once");
        assertEquals(3, calls.replays, "the first pass is the capture's eager run; the next three replay");
    }

    @Test
    void aFailedCaptureRunsOpByOpAndIsNotRetried() {
        Calls calls = new Calls();
        assertFalse(comparePasses("fail", 3, calls));
        assertEquals(1, calls.captures, "a failed capture is tried once");
    }

    /** At batch 1 the serving plan's concat inputs write their slices in place: no channel copies, same output. */
    @Test
    void batchOneConcatsCopyNothing() {
        Graph g = model();
        for (int batch : new int[] {1, 2}) {
            Calls calls = new Calls();
            Tensor x = new Rng(9).uniform(Shape.of(batch, 1, 28, 28));
            try (CpuBackend cpu = CpuBackend.create(1, Gemm.select("java", 1));
                 Executor plain = new Executor(g, cpu, batch, Executor.Mode.INFERENCE);
                 Executor serving = Executor.forInference(g, fakeDevice(cpu, "default", false, calls), batch)) {
                Close.assertClose(serving.forwardToHost(x), plain.forwardToHost(x), 1e-5, 1e-4, "batch " + batch);
            }
            if (batch == 1) assertEquals(0, calls.channelCopies, "batch 1: every concat input written in place");
            else assertTrue(calls.channelCopies >= 4 * 9, "batch 2 copies every branch: " + calls.channelCopies);
        }
    }

    /** A host backend that counts its calls by method name (delegating everything to cpu). */
    static Backend counting(CpuBackend cpu, Map<String, Integer> counts) {
        return BackendProxy.wrap(cpu, (m, args) -> {
            counts.merge(m.getName(), 1, Integer::sum);
            return BackendProxy.DELEGATE;
        });
    }

    /**
     * On a host backend at batch 1 the serving plan runs an Inception's sibling 1x1 convs (branch 1, the 3x3 and
     * 5x5 reductions: same input) as one conv: two conv calls fewer per Inception, same output as the plain plan.
     */
    @Test
    void batchOneSiblingPointwiseConvsRunAsOne() {
        Graph g = model();
        int inceptions = (int) g.nodes().stream().filter(n -> n.layer() instanceof Layer.Concat).count();
        Map<Integer, Integer> convCalls = new HashMap<>();
        for (int batch : new int[] {1, 2}) {
            Map<String, Integer> counts = new HashMap<>();
            Tensor x = new Rng(9).uniform(Shape.of(batch, 1, 28, 28));
            try (CpuBackend cpu = CpuBackend.create(1, Gemm.select("java", 1));
                 Executor plain = new Executor(g, cpu, batch, Executor.Mode.INFERENCE);
                 Executor serving = Executor.forInferenceWholeBatch(g, counting(cpu, counts), batch)) {
                Close.assertClose(serving.forwardToHost(x), plain.forwardToHost(x), 1e-5, 1e-4, "batch " + batch);
            }
            convCalls.put(batch, counts.getOrDefault("conv2dRelu", 0) + counts.getOrDefault("conv2d", 0)
                    + counts.getOrDefault("conv2dPrepared", 0) + counts.getOrDefault("conv2dPreparedSlice", 0));
        }
        assertEquals(9, inceptions);
        assertEquals(convCalls.get(2) - 2 * inceptions, (int) convCalls.get(1),
                "batch 1 merges three 1x1 convs into one per Inception: " + convCalls);
    }

    /**
     * At batch 1 the merged siblings' member that is a concat's first input goes last in the stack and the concat's
     * buffer starts at its rows (one array): the nine concats copy nothing, the outputs keep their bits (against the
     * same plan with -Dnetslim.serving.concatAfterMerge=false, where each concat copies that member).
     */
    @Test
    void batchOneConcatsStartAtTheMergedRows() {
        Graph g = model();
        Tensor x = new Rng(12).uniform(Shape.of(1, 1, 28, 28));
        boolean was = Executor.CONCAT_AFTER_MERGE;
        Map<Boolean, Integer> copies = new HashMap<>();
        Map<Boolean, float[]> outs = new HashMap<>();
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("java", 2))) {
            for (boolean after : new boolean[] {true, false}) {
                Executor.CONCAT_AFTER_MERGE = after;
                Map<String, Integer> c = new HashMap<>();
                try (Executor serving = Executor.forInference(g, counting(cpu, c), 1)) {
                    for (int pass = 0; pass < 2; pass++) outs.put(after, serving.forwardToHost(x).toArray());
                    assertEquals(9, serving.mergedGroups(), "one merge per Inception");
                }
                copies.put(after, c.getOrDefault("copyChannels", 0) / 2);
            }
        } finally {
            Executor.CONCAT_AFTER_MERGE = was;
        }
        assertEquals(0, (int) copies.get(true), "channel copies per pass with the concats after the merged rows");
        assertEquals(9, (int) copies.get(false), "channel copies per pass without: one per concat");
        assertArrayEquals(outs.get(false), outs.get(true), "same bits either way");
    }

    /**
     * At batch > 1 on the CPU the serving plan's prepared convs write their concat inputs straight into the concat's
     * buffer (conv2dPreparedSlice, and conv2dPreparedSplitSlices for merged siblings): fewer channel copies, and
     * outputs bit for bit those of the same plan with every concat copying (-Dnetslim.serving.concatSlices=false);
     * the plain plan agrees within float rounding. An activation written into a concat's buffer is not kept.
     */
    @Test
    void batchTwoConvsWriteTheirConcatSlices() {
        Graph g = model();
        Tensor x = new Rng(10).uniform(Shape.of(2, 1, 28, 28));
        Map<Boolean, Map<String, Integer>> counts = new HashMap<>();
        Map<Boolean, Tensor> outs = new HashMap<>();
        boolean was = Executor.CONCAT_SLICES;
        try (CpuBackend cpu = CpuBackend.create(2, Gemm.select("java", 2));
             Executor plain = new Executor(g, cpu, 2, Executor.Mode.INFERENCE)) {
            for (boolean slices : new boolean[] {true, false}) {
                Executor.CONCAT_SLICES = slices;
                Map<String, Integer> c = new HashMap<>();
                try (Executor serving = Executor.forInferenceWholeBatch(g, counting(cpu, c), 2)) {
                    outs.put(slices, serving.forwardToHost(x));
                    if (slices) { // some concat inputs are not kept, and say why
                        long notKept = g.nodes().stream().filter(n -> n.layer() instanceof Layer.Concat)
                                .flatMap(n -> n.inputs().stream()).filter(in -> {
                                    try {
                                        serving.activation(in);
                                        return false;
                                    } catch (NetslimException e) { // not kept: in a concat, or its array reused
                                        boolean concat = e.getMessage().contains("concat");
                                        assertTrue(concat || e.getMessage().contains("reused"), e.getMessage());
                                        return concat;
                                    }
                                }).count();
                        assertTrue(notKept >= 9, "concat inputs written into the concats' buffers: " + notKept);
                    }
                }
                counts.put(slices, c);
            }
            Close.assertClose(outs.get(true), plain.forwardToHost(x), 1e-5, 1e-4, "batch 2 with concat slices");
        } finally {
            Executor.CONCAT_SLICES = was;
        }
        assertArrayEquals(outs.get(false).toArray(), outs.get(true).toArray(), "slices or copies: the same floats");
        int sliced = counts.get(true).getOrDefault("conv2dPreparedSlice", 0)
                + counts.get(true).getOrDefault("conv2dPreparedSplitSlices", 0);
        int copiesWith = counts.get(true).getOrDefault("copyChannels", 0);
        int copiesWithout = counts.get(false).getOrDefault("copyChannels", 0);
        assertTrue(sliced >= 9, "slice writes: " + counts.get(true));
        assertTrue(copiesWith < copiesWithout, "copies " + copiesWith + " with slices, " + copiesWithout + " without");
        assertEquals(0, counts.get(false).getOrDefault("conv2dPreparedSlice", 0), counts.get(false).toString());
    }

    /**
     * Executors over the same parameter arrays share the stacked sibling weights (the embedding API's per-thread
     * plans), but never stale ones: after a member's weight changes, a new plan computes with the new weight.
     */
    @Test
    void stackedSiblingWeightsFollowTheGraphsCurrentWeights() {
        Graph g = model();
        Tensor x = new Rng(13).uniform(Shape.of(1, 1, 28, 28));
        String member = g.nodes().stream().filter(n -> n.layer() instanceof Layer.Conv2d c && c.spec().kh() == 1
                && n.inputs().get(0).equals(g.nodes().stream().filter(m -> m.layer() instanceof Layer.Concat)
                        .findFirst().orElseThrow().name())).findFirst().orElseThrow().name();
        try (CpuBackend cpu = CpuBackend.create(1, Gemm.select("java", 1))) {
            try (Executor a = new Executor(g, cpu, 1, Executor.Mode.FUSED_INFERENCE);
                 Executor b = new Executor(g, cpu, 1, Executor.Mode.FUSED_INFERENCE);
                 Executor plain = new Executor(g, cpu, 1, Executor.Mode.INFERENCE)) {
                Tensor want = plain.forwardToHost(x);
                Close.assertClose(a.forwardToHost(x), want, 1e-5, 1e-4, "first plan");
                Close.assertClose(b.forwardToHost(x), want, 1e-5, 1e-4, "second plan over the same arrays");
            }
            float[] w = g.params().get(member + ".weight").data(); // a member of a merged group changes
            for (int i = 0; i < w.length; i++) w[i] += 0.5f;
            try (Executor c = new Executor(g, cpu, 1, Executor.Mode.FUSED_INFERENCE);
                 Executor plain = new Executor(g, cpu, 1, Executor.Mode.INFERENCE)) {
                Tensor want = plain.forwardToHost(x);
                Close.assertClose(c.forwardToHost(x), want, 1e-5, 1e-4, "plan built after " + member + " changed");
            }
        }
    }

    @Test
    void trainingNeverReplays() {
        Graph g = model();
        Calls calls = new Calls();
        try (CpuBackend cpu = CpuBackend.create(1, Gemm.select("java", 1));
             Executor ex = new Executor(g, fakeDevice(cpu, "capture", false, calls), 2, Executor.Mode.TRAINING)) {
            ex.forward(input(1));
            ex.forward(input(2));
            assertEquals(0, calls.captures);
            assertFalse(ex.replaysGraph());
        }
    }

    @Test
    void deviceTimestampsGiveEveryNodeItsTime() {
        Graph g = model();
        Calls calls = new Calls();
        try (CpuBackend cpu = CpuBackend.create(1, Gemm.select("java", 1));
             Executor plain = Executor.forInferenceWholeBatch(g, cpu, 2); // the device plan's shapes
             Executor device = Executor.forInference(g, fakeDevice(cpu, "capture", true, calls), 2)) {
            Map<String, Long> times = new HashMap<>();
            device.setNodeTimer((n, nanos) -> times.put(n.name(), nanos));
            Close.assertClose(device.forwardToHost(input(3)), plain.forwardToHost(input(3)), 0, 0, "timed pass");
            int nodes = device.graph().nodes().size();
            assertEquals(nodes, times.size(), "one time per node");
            assertEquals(nodes + 1, calls.marks.size(), "a mark before the first node and after each");
            assertEquals(0, calls.marks.get(0));
            assertEquals(nodes, calls.marks.get(nodes));
            assertTrue(times.values().stream().allMatch(t -> t >= 0));
            assertTrue(times.values().stream().mapToLong(Long::longValue).sum() > 0);
            assertEquals(0, calls.captures, "timed passes run op by op, never as a graph");
        }
    }

    @Test
    void aDeviceWithoutTimestampsRefusesPerNodeTiming() {
        Graph g = model();
        try (CpuBackend cpu = CpuBackend.create(1, Gemm.select("java", 1));
             Executor device = Executor.forInference(g, fakeDevice(cpu, "default", false, new Calls()), 2)) {
            NetslimException e = assertThrows(NetslimException.class, () -> device.setNodeTimer((n, t) -> { }));
            assertTrue(e.getMessage().contains("asynchronously"), e.getMessage());
        }
    }
}
