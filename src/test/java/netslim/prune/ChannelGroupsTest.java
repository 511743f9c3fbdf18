package netslim.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import netslim.nn.Graph;
import netslim.nn.GraphBuilder;
import netslim.nn.Layer;
import netslim.nn.models.GoogLeNetCifar;
import netslim.nn.models.Zoo;
import netslim.prune.ChannelGroups.Group;
import netslim.prune.ChannelGroups.Member;
import netslim.prune.ChannelGroups.Role;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/** The expected members of groups: Inception concat offsets, residual stages, depthwise chains, the final Linear. */
class ChannelGroupsTest {

    private static int[] range(int from, int n) {
        return IntStream.range(from, from + n).toArray();
    }

    private static void assertMember(Group g, String node, Role role, int offset, int width) {
        Member m = g.member(node, role);
        assertNotNull(m, g + " has no " + role + " member " + node + ": " + g.members());
        assertArrayEquals(range(offset, width), m.channels(), node + " channels");
        assertArrayEquals(range(0, width), m.indices(), node + " indices");
        assertEquals(offset, m.offset());
    }

    @Test
    void inceptionBranchesSitAtTheirConcatOffsets() {
        double w = 0.25;
        Graph g = Zoo.create("googlenet-cifar", new Zoo.Options(10, null, w, 0));
        ChannelGroups groups = ChannelGroups.of(g);
        int n1 = GoogLeNetCifar.scaled(64, w), n3 = GoogLeNetCifar.scaled(128, w), n5 = GoogLeNetCifar.scaled(32, w);
        int pool = GoogLeNetCifar.scaled(32, w);
        // branch 2's 3x3 conv: the second block of a3's concat, at offset n1
        Group b2 = groups.groupOfProducer("a3.b2.3");
        assertEquals(List.of("a3.b2.3"), b2.producers());
        assertEquals(n3, b2.width());
        assertTrue(b2.prunable());
        assertMember(b2, "a3.b2.3", Role.PRODUCER, 0, n3);
        assertMember(b2, "a3.b2.4", Role.BATCHNORM, 0, n3);
        assertMember(b2, "a3.b2.5", Role.PASSTHROUGH, 0, n3);
        assertMember(b2, "a3.concat", Role.PASSTHROUGH, n1, n3);
        for (String consumer : List.of("b3.b1.0", "b3.b2.0", "b3.b3.0", "b3.b4.1")) {
            assertMember(b2, consumer, Role.CONSUMER, n1, n3);
        }
        assertMember(b2, "b3.b4.0", Role.PASSTHROUGH, n1, n3); // the pool branch's max pool passes it through
        // the pool-projection branch: last block, offset n1 + n3 + n5
        assertMember(groups.groupOfProducer("a3.b4.1"), "b3.b1.0", Role.CONSUMER, n1 + n3 + n5, pool);
        // a reduce conv feeds only its own branch
        Group reduce = groups.groupOfProducer("a3.b2.0");
        assertEquals(List.of("a3.b2.3"), reduce.members(Role.CONSUMER).stream().map(Member::node).toList());
        // the last module's branches reach the Linear through the global pool: one column per channel
        int last = GoogLeNetCifar.scaled(384, w);
        assertMember(groups.groupOfProducer("b5.b2.3"), "linear", Role.LINEAR, last, GoogLeNetCifar.scaled(384, w));
        assertEquals(1, groups.groupOfProducer("b5.b2.3").member("linear", Role.LINEAR).unit());
    }

    @Test
    void residualStageIsOneGroupOverEveryConvFeedingItsAdds() {
        Graph g = Zoo.create("resnet20-cifar", Zoo.Options.defaults());
        ChannelGroups groups = ChannelGroups.of(g);
        Group stage1 = groups.groupOfProducer("conv1");
        assertEquals(Set.of("conv1", "layer1.0.conv2", "layer1.1.conv2", "layer1.2.conv2"), Set.copyOf(stage1.producers()));
        assertEquals(16, stage1.width());
        for (String add : List.of("layer1.0.add", "layer1.1.add", "layer1.2.add")) {
            assertMember(stage1, add, Role.PASSTHROUGH, 0, 16);
        }
        for (String bn : List.of("bn1", "layer1.0.bn2", "layer1.1.bn2", "layer1.2.bn2")) {
            assertMember(stage1, bn, Role.BATCHNORM, 0, 16);
        }
        assertEquals(Set.of("layer1.0.conv1", "layer1.1.conv1", "layer1.2.conv1", "layer2.0.conv1", "layer2.0.downsample.0"),
                Set.copyOf(stage1.members(Role.CONSUMER).stream().map(Member::node).toList()));
        Group stage2 = groups.groupOfProducer("layer2.0.downsample.0");
        assertEquals(Set.of("layer2.0.conv2", "layer2.0.downsample.0", "layer2.1.conv2", "layer2.2.conv2"),
                Set.copyOf(stage2.producers()));
        assertEquals(stage2.id(), groups.groupOfProducer("layer2.2.conv2").id());
        // inside a block, conv1's channels are a group of their own
        Group inner = groups.groupOfProducer("layer2.1.conv1");
        assertEquals(List.of("layer2.1.conv1"), inner.producers());
        assertEquals(List.of("layer2.1.conv2"), inner.members(Role.CONSUMER).stream().map(Member::node).toList());
        // the last stage feeds the Linear
        assertMember(groups.groupOfProducer("layer3.2.conv2"), "fc", Role.LINEAR, 0, 64);
        // 3 stages + 9 inner groups are prunable; the input and the Linear's outputs are not
        assertEquals(12, groups.prunable().size());
    }

    @ParameterizedTest
    @ValueSource(strings = {"googlenet", "googlenet-cifar", "vgg11-cifar"})
    void withoutAddsEveryConvIsItsOwnGroup(String model) {
        Graph g = Zoo.create(model, new Zoo.Options(10, model.equals("googlenet") ? Shape.of(3, 64, 64) : null, 1, 0));
        ChannelGroups groups = ChannelGroups.of(g);
        long convs = g.nodes().stream().filter(n -> n.layer() instanceof Layer.Conv2d).count();
        assertEquals(convs, groups.prunable().size());
        for (Group grp : groups.prunable()) assertEquals(1, grp.producers().size(), grp.toString());
    }

    @Test
    void depthwiseTiesInAndOutAndFlattenGivesColumnBlocks() {
        Graph g = PruneFixtures.mobileNetLike(1);
        ChannelGroups groups = ChannelGroups.of(g);
        Group expand = groups.groupOfProducer("expand");
        assertEquals(List.of("expand"), expand.producers());
        assertMember(expand, "dw", Role.DEPTHWISE, 0, 16);
        assertMember(expand, "dw_bn", Role.BATCHNORM, 0, 16);
        assertMember(expand, "project", Role.CONSUMER, 0, 16);
        Group stem = groups.groupOfProducer("stem");
        assertEquals(List.of("stem", "project"), stem.producers());
        assertMember(stem, "add", Role.PASSTHROUGH, 0, 8);
        Group tail = groups.groupOfProducer("tail");
        Member fc = tail.member("fc", Role.LINEAR);
        assertEquals(4, fc.unit()); // a 2x2 map flattened: 4 columns per channel
        assertMember(tail, "flatten", Role.PASSTHROUGH, 0, 12);
    }

    @Test
    void inputLinearOutputsAndGroupedConvsAreNotPrunable() {
        ChannelGroups groups = ChannelGroups.of(PruneFixtures.mobileNetLike(1));
        assertTrue(groups.group(0).blockedReason().contains("graph input"));
        assertNotNull(groups.group(0).member("input", Role.INPUT));
        Group grouped = groups.group(groups.tensor("grouped").group()[0]);
        assertFalse(grouped.prunable());
        assertTrue(grouped.blockedReason().contains("grouped conv grouped (groups=3"), grouped.blockedReason());
        Group out = groups.group(groups.tensor("fc").group()[0]);
        assertTrue(out.blockedReason().contains("Linear fc"), out.blockedReason());
        assertNull(groups.groupOfProducer("expand").blockedReason());
        // the pruner says which groups it leaves whole, and why (the input and class scores go unmentioned)
        java.util.List<String> messages = new java.util.ArrayList<>();
        new FilterPruner(PruneOptions.ratio(0.2), Importance.l1(), FineTuner.NONE).messages(messages::add)
                .prune(PruneFixtures.mobileNetLike(1));
        assertEquals(1, messages.stream().filter(m -> m.startsWith("not pruned:")).count(), messages.toString());
        assertTrue(messages.get(0).startsWith("not pruned: grouped: grouped conv grouped"), messages.get(0));
    }

    @Test
    void clipThatMovesZeroBlocksItsGroup() {
        GraphBuilder b = new GraphBuilder("input", Shape.of(2, 4, 4));
        String x = b.conv("a", b.input(), 2, 4, 3, 1, 1, true);
        x = b.add("clip", new Layer.Clip(0.5f, 6f), x);
        x = b.conv("b", x, 4, 3, 1, 1, 0, true);
        ChannelGroups groups = ChannelGroups.of(b.build(x));
        String why = groups.groupOfProducer("a").blockedReason();
        assertNotNull(why);
        assertTrue(why.contains("Clip clip maps 0 to 0.5"), why);
    }

    /** add(concat(A, B), concat(C, D)) with widths 4+4 and 2+6: all four convs share one 8-wide group. */
    @Test
    void addsOfConcatsJoinGroupsRecursively() {
        GraphBuilder b = new GraphBuilder("input", Shape.of(2, 4, 4));
        String a = b.conv("A", b.input(), 2, 4, 1, 1, 0, false);
        String bb = b.conv("B", b.input(), 2, 4, 1, 1, 0, false);
        String c = b.conv("C", b.input(), 2, 2, 1, 1, 0, false);
        String d = b.conv("D", b.input(), 2, 6, 1, 1, 0, false);
        String sum = b.sum("sum", b.concat("left", a, bb), b.concat("right", c, d));
        String out = b.conv("out", sum, 8, 3, 1, 1, 0, false);
        Graph g = b.build(out);
        ChannelGroups groups = ChannelGroups.of(g);
        Group grp = groups.groupOfProducer("A");
        assertEquals(Set.of("A", "B", "C", "D"), Set.copyOf(grp.producers()));
        assertEquals(8, grp.width());
        // D's channel 0 is the sum's channel 2, the same group index as A's channel 2
        assertEquals(groups.tensor("A").index()[2], groups.tensor("D").index()[0]);
        assertEquals(groups.tensor("B").index()[0], groups.tensor("D").index()[2]);
        // removing index of A's channel 3 removes D's channel 1 and out's in-channel 3
        PruneFixtures.randomizeAll(g, 2, 0.5f);
        int k = groups.tensor("A").index()[3];
        ChannelMask mask = ChannelMask.of(Map.of(grp.id(), new int[] {k}));
        Graph masked = g.copy();
        mask.apply(masked, groups);
        Graph compact = Compactor.compact(masked, groups, mask);
        assertEquals(5, compact.params().get("D.weight").shape().dim(0));
        assertEquals(7, compact.params().get("out.weight").shape().dim(1));
        Tensor x = PruneFixtures.input(g, 2, 3);
        netslim.testing.Close.assertClose(PruneFixtures.run(compact, x), PruneFixtures.run(masked, x), 1e-6, 1e-5,
                "adds of concats");
    }

    @Test
    void linearLosesTheColumnBlockOfEachRemovedChannel() {
        Graph g = PruneFixtures.mobileNetLike(4);
        ChannelGroups groups = ChannelGroups.of(g);
        Group tail = groups.groupOfProducer("tail");
        ChannelMask mask = ChannelMask.of(Map.of(tail.id(), new int[] {1, 10}));
        Graph compact = Compactor.compact(g, groups, mask);
        Tensor before = g.params().get("fc.weight"), after = compact.params().get("fc.weight");
        assertEquals(Shape.of(5, 40), after.shape());
        int[] keptCols = IntStream.range(0, 48).filter(c -> c / 4 != 1 && c / 4 != 10).toArray();
        for (int r = 0; r < 5; r++) {
            for (int j = 0; j < keptCols.length; j++) {
                assertEquals(before.get(r * 48 + keptCols[j]), after.get(r * 40 + j), "fc[" + r + "][" + j + "]");
            }
        }
        assertEquals(10, compact.params().get("tail.bias").shape().dim(0));
        assertEquals(new Layer.Linear(40, 5, true), compact.node("fc").layer());
    }
}
