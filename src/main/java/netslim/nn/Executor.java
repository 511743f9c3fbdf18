package netslim.nn;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.backend.ConvSpec;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Runs a {@link Graph} on a {@link Backend} at a fixed batch size. Planned once: every activation (and, when
 * training, every activation gradient) is allocated up front; Flatten, Identity and inference-mode Dropout are views
 * of their input and cost nothing. Not thread-safe: use one executor per thread.
 *
 * <p>Training mode uses batch statistics in BatchNorm (updating the running ones) and samples dropout masks;
 * {@link #backward} adds parameter gradients into {@link ParamStore#grad}.
 *
 * <p>{@link #forInference} is the serving plan: BatchNorms folded into the convs before them
 * ({@link BatchNormFolding}) and every conv that only a ReLU reads run as one {@link Backend#conv2dRelu} op; on a
 * host backend its activations whose lifetimes do not overlap share arrays ({@link #activationBytes}), so only the
 * input and the output outlive the pass.
 */
public final class Executor implements AutoCloseable {

    /**
     * INFERENCE keeps every node's output (tests and tools read them); FUSED_INFERENCE runs a conv whose only reader
     * is a ReLU as one fused op writing the ReLU's buffer, so the conv's own output is not kept; TRAINING as above.
     */
    public enum Mode { INFERENCE, TRAINING, FUSED_INFERENCE }

    private final Graph graph;
    private final Backend backend;
    private final int batch;
    private final Mode mode;
    private final Map<String, Shape> shapes;
    private final Map<String, Tensor> acts = new HashMap<>();
    private final Map<String, Tensor> grads = new HashMap<>();
    private final Map<String, Tensor[]> saved = new HashMap<>(); // BN: mean, invstd; Dropout: mask
    private final Map<String, Tensor> deviceParams = new HashMap<>();
    private final Map<String, Long> dropoutSeeds = new HashMap<>();
    private Rng rng = new Rng(0x5eed);
    private final Tensor input;
    /**
     * Serving plan, host backend, batch > 1, a model with few MACs per activation byte (see
     * {@link #servesImageByImage}): the batch-1 plans that run the batch image by image, one per
     * {@link Backend#imageLanes lane}, each running its share of the batch on one thread; length 1 when the images run
     * one after another with each op on all threads. Null when the plan does not serve image by image.
     */
    private final Executor[] lanes;
    private final Map<String, String> fusedConvToRelu = new HashMap<>();
    /** Serving plan at batch 1: nodes whose output is a slice of a concat's buffer, and those slices. */
    private final java.util.Set<String> inPlaceConcatInputs = new java.util.HashSet<>();
    private final Map<String, Tensor> slices = new HashMap<>();
    /** Serving plan at batch 1, host backends: sibling pointwise convs merged into one (planSiblingMerges). */
    private final Map<String, MergedConvs> merges = new HashMap<>();
    private final java.util.Set<String> mergedConvs = new java.util.HashSet<>();
    private static final boolean MERGE_SIBLINGS = !"false".equals(System.getProperty("netslim.mergeSiblings"));
    /**
     * -Dnetslim.serving.concatSlices=false: at batch > 1 every concat copies its inputs (see planConcatSlices). Not
     * final: tests build plans both ways.
     */
    static boolean CONCAT_SLICES = !"false".equals(System.getProperty("netslim.serving.concatSlices"));
    /** Serving plan at batch > 1: concat inputs their conv writes into the concat's buffer, at channel c0. */
    private final Map<String, ChannelSlice> sliceWrites = new HashMap<>();
    /** Merged siblings (by first member) with a member in sliceWrites: where each member writes. */
    private final Map<String, SplitTargets> splitTargets = new HashMap<>();

    private record ChannelSlice(String concat, Tensor buffer, int c0) {
    }

    private record SplitTargets(Tensor[] ys, int[] c0s, int[] couts) {
    }
    /** Serving plan: convs whose weights the backend prepared for a faster path (CPU: Winograd), by node name. */
    private final Map<String, Tensor> preparedWeights = new HashMap<>();
    private NodeTimer nodeTimer;
    /** The inference forward as a {@link Backend.Replay} (a CUDA graph on the GPU); null until the first forward. */
    private Backend.Replay replay;
    private boolean replayFailed;
    private Backend.DeviceTimer deviceTimer;
    private static final boolean GRAPHS = !"false".equals(System.getProperty("netslim.cuda.graphs"));

    /** Receives the time of each node's forward op (see {@link #setNodeTimer}). */
    @FunctionalInterface
    public interface NodeTimer {
        void record(Node node, long nanos);
    }
    private final java.util.Set<String> fusedRelus = new java.util.HashSet<>();

    /**
     * The serving plan of a model: BatchNorms folded into the preceding convs (the parameters are copied now, so
     * later changes to {@code g}'s parameters are not seen — build a new executor after training), then
     * {@link Mode#FUSED_INFERENCE}. Same outputs as {@link Mode#INFERENCE} up to float rounding.
     */
    public static Executor forInference(Graph g, Backend backend, int batch) {
        return new Executor(BatchNormFolding.fold(g).graph(), backend, batch, Mode.FUSED_INFERENCE);
    }

    /**
     * The serving plan of {@link #forInference(Graph, Backend, int)} with image-by-image serving ruled out (tests
     * that compare a host plan bit for bit with a device-like plan of the whole batch).
     */
    static Executor forInferenceWholeBatch(Graph g, Backend backend, int batch) {
        return new Executor(BatchNormFolding.fold(g).graph(), backend, batch, Mode.FUSED_INFERENCE, false);
    }

    /** Groups of sibling pointwise convs this plan runs as one product ({@link #planSiblingMerges}); for tests. */
    int mergedGroups() {
        return merges.size();
    }

    public Executor(Graph graph, Backend backend, int batch, Mode mode) {
        this(graph, backend, batch, mode, true, false);
    }

    /**
     * The training step's plan: {@link Mode#TRAINING} where each ReLU that alone reads a BatchNorm's output runs in
     * place on it, forward and backward (one activation and one gradient buffer per pair instead of two: GoogLeNet's
     * 57 pairs), on backends whose ReLU ops allow it ({@link Backend#reluInPlace}: the CPU), unless
     * {@code -Dnetslim.train.inPlaceRelu=false}. Same results; the BatchNorm's own output is then not kept
     * ({@link #activation} refuses it, and {@link #activationGrad} the ReLU's output gradient, which backward turns
     * into the BatchNorm's in place). Plans that read every node's output and gradient (Taylor ranking, tests) use the
     * constructor.
     */
    public static Executor forTraining(Graph g, Backend backend, int batch) {
        return new Executor(g, backend, batch, Mode.TRAINING, true, IN_PLACE_RELU);
    }

    private Executor(Graph graph, Backend backend, int batch, Mode mode, boolean mayServeImageByImage) {
        this(graph, backend, batch, mode, mayServeImageByImage, false);
    }

    private Executor(Graph graph, Backend backend, int batch, Mode mode, boolean mayServeImageByImage,
                     boolean inPlaceRelu) {
        if (batch <= 0) throw new NetslimException("batch size must be positive, got " + batch);
        this.graph = graph;
        this.backend = backend;
        this.batch = batch;
        this.mode = mode;
        graph.validateParams();
        this.shapes = graph.shapes(batch);
        this.lanes = mayServeImageByImage && mode == Mode.FUSED_INFERENCE && batch > 1 && backend.isHost()
                && servesImageByImage(graph)
                ? lanes(graph, backend, mode, Math.min(batch, imageLanes(backend))) : null;
        if (lanes != null) { // nothing else to plan: the batch-1 plans do the work, one image after another
            this.input = null;
            acts.put(graph.outputName(), backend.allocate(shapes.get(graph.outputName())));
            return;
        }
        this.input = backend.allocate(shapes.get(graph.inputName()));
        acts.put(graph.inputName(), input);
        if (mode == Mode.FUSED_INFERENCE) findConvRelu();
        if (mode == Mode.FUSED_INFERENCE && backend.isHost() && MERGE_SIBLINGS) planSiblingMerges();
        if (mode == Mode.FUSED_INFERENCE && batch == 1) planConcatsInPlace();
        if (mode == Mode.FUSED_INFERENCE) prepareConvWeights();
        if (mode == Mode.FUSED_INFERENCE && batch > 1 && backend.isHost() && CONCAT_SLICES) planConcatSlices();
        if (mode == Mode.TRAINING && inPlaceRelu && backend.reluInPlace()) findInPlaceRelus();
        if (mode == Mode.TRAINING && backend.isHost() && TRAIN_SIBLINGS) planTrainingSiblings();
        if (mode == Mode.TRAINING && backend.isHost() && TRAIN_CONCAT_SLICES && FUSED_BN_RELU
                && !inPlaceRelus.isEmpty() && backend.batchNormReluSlices()) {
            planTrainingConcatSlices();
        }
        for (Node n : graph.nodes()) plan(n);
        for (Map.Entry<String, MergedConvs> e : merges.entrySet()) { // batch > 1: the members' outputs, now allocated
            MergedConvs m = e.getValue();
            for (int i = 0; i < m.outs().length; i++) m.ys()[i] = acts.get(m.outs()[i]);
            if (java.util.Arrays.stream(m.outs()).noneMatch(sliceWrites::containsKey)) continue;
            int k = m.outs().length;
            SplitTargets t = new SplitTargets(new Tensor[k], new int[k], new int[k]);
            for (int i = 0; i < k; i++) {
                ChannelSlice cs = sliceWrites.get(m.outs()[i]);
                t.ys()[i] = cs != null ? cs.buffer() : m.ys()[i];
                t.c0s()[i] = cs != null ? cs.c0() : 0;
                t.couts()[i] = shapes.get(m.outs()[i]).c();
            }
            splitTargets.put(e.getKey(), t);
        }
        if (mode == Mode.FUSED_INFERENCE && backend.isHost() && SHARE_BUFFERS) shareActivationBuffers();
    }

    /**
     * -Dnetslim.serving.shareBuffers=false: every activation of a host serving plan keeps an array of its own (for
     * A/B timing; not final: tests build plans both ways).
     */
    static boolean SHARE_BUFFERS = !"false".equals(System.getProperty("netslim.serving.shareBuffers"));
    /** Serving plan on a host backend: activation storages whose array another one uses too (not kept). */
    private final java.util.Set<netslim.tensor.Storage> sharedStorages =
            java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    /** Bytes of the distinct arrays behind this plan's activations, input and output (see {@link #activationBytes}). */
    private long activationBytes = -1;

    /**
     * Serving plan on a host backend: activations whose lifetimes do not overlap use one array
     * ({@link BufferSharing}), the graph's input and output excepted. A lifetime runs from the first node whose op
     * touches the buffer (writes it, or a slice or view of it) to the last that reads it, so a pass reads only what
     * it wrote in that pass. GoogLeNet-224's batch-1 plan held 37 arrays (20.6 MB) of which at most a few are live
     * at once; arrays written recently are in cache and their pages mapped, fresh ones are not.
     */
    private void shareActivationBuffers() {
        List<Node> nodes = graph.nodes();
        Map<netslim.tensor.Storage, int[]> life = bufferLifetimes;
        List<netslim.tensor.Storage> order = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            for (Tensor t : touchedBy(nodes.get(i))) {
                if (t == null || !(t.storage() instanceof netslim.tensor.HostStorage)) continue;
                int step = i;
                life.compute(t.storage(), (k, v) -> {
                    if (v == null) {
                        order.add(k);
                        return new int[] {step, step};
                    }
                    v[1] = step;
                    return v;
                });
            }
        }
        life.remove(input.storage());
        life.remove(acts.get(graph.outputName()).storage());
        order.removeIf(st -> !life.containsKey(st));
        List<BufferSharing.Lifetime> lifetimes = new ArrayList<>();
        for (netslim.tensor.Storage st : order) {
            int[] v = life.get(st);
            lifetimes.add(new BufferSharing.Lifetime(v[0], v[1], st.capacity()));
        }
        BufferSharing.Plan plan = BufferSharing.plan(lifetimes);
        for (int i = 0; i < order.size(); i++) {
            var owner = (netslim.tensor.HostStorage) order.get(plan.ownerOf()[plan.arrayOf()[i]]);
            ((netslim.tensor.HostStorage) order.get(i)).share(owner.array());
            if (plan.shared(i)) sharedStorages.add(order.get(i));
        }
        activationBytes = 4 * (plan.totalFloats() + input.storage().capacity()
                + acts.get(graph.outputName()).storage().capacity());
    }

    /** Planned lifetimes (first and last node index) of the storages {@link #shareActivationBuffers} placed. */
    private final Map<netslim.tensor.Storage, int[]> bufferLifetimes = new java.util.IdentityHashMap<>();

    /** For tests: the lifetime (first and last node index) the plan gave t's storage; null where it placed none. */
    int[] bufferLifetime(Tensor t) {
        return bufferLifetimes.get(t.storage());
    }

    /** Every activation tensor node n's forward op reads or writes (nulls where there is none). */
    private List<Tensor> touchedBy(Node n) {
        List<Tensor> ts = new ArrayList<>();
        ts.add(acts.get(n.name()));
        for (String in : n.inputs()) ts.add(acts.get(in));
        String relu = fusedConvToRelu.get(n.name());
        if (relu != null) ts.add(acts.get(relu));
        ChannelSlice slice = sliceWrites.get(relu != null ? relu : n.name());
        if (slice != null) ts.add(slice.buffer());
        MergedConvs m = merges.get(n.name());
        if (m != null) {
            ts.add(m.y());
            ts.addAll(java.util.Arrays.asList(m.ys()));
        }
        SplitTargets t = splitTargets.get(n.name());
        if (t != null) ts.addAll(java.util.Arrays.asList(t.ys()));
        return ts;
    }

    /**
     * Bytes of the host arrays behind this serving plan's activations (shared ones counted once), its input and
     * output; -1 where buffers are not shared (other modes, device backends, -Dnetslim.serving.shareBuffers=false).
     * A plan serving its batch image by image: its batch-1 plans' (one per lane), plus its own output.
     */
    public long activationBytes() {
        if (lanes != null) {
            long inner = 0;
            for (Executor lane : lanes) {
                long b = lane.activationBytes();
                if (b < 0) return -1;
                inner += b;
            }
            return inner + 4 * acts.get(graph.outputName()).storage().capacity();
        }
        return activationBytes;
    }

    /**
     * Serving plan at batch > 1 on a backend that writes channel slices ({@link Backend#writesChannelSlices}): a
     * concat input computed by a conv with prepared weights (its ReLU fused), alone or as a member of merged
     * siblings, is written by that conv straight into the concat's buffer at its channel offset, and the concat
     * copies nothing for it (at batch > 1 a channel range of an NCHW buffer is not contiguous, so unlike
     * {@link #planConcatsInPlace} the conv itself must write with the buffer's image stride). Eligible: the input's
     * only reader is this concat, and it is not the graph's output. GoogLeNet-224 at batch 8: its nine concats copied
     * ~3.3 ms of a ~95 ms pass.
     */
    private void planConcatSlices() {
        Map<String, Integer> uses = readCounts();
        Map<String, Node> byName = nodesByName();
        Map<String, String> convOf = new HashMap<>(); // a fused ReLU's name → its conv
        for (Map.Entry<String, String> e : fusedConvToRelu.entrySet()) convOf.put(e.getValue(), e.getKey());
        Map<String, MergedConvs> mergeOf = new HashMap<>(); // a merged member's output → its merge
        for (MergedConvs m : merges.values()) for (String o : m.outs()) mergeOf.put(o, m);
        for (Node n : graph.nodes()) {
            if (!(n.layer() instanceof Layer.Concat)) continue;
            Tensor buffer = null;
            int c0 = 0;
            for (String in : n.inputs()) {
                if (!in.equals(graph.outputName()) && uses.getOrDefault(in, 0) == 1
                        && writesSlice(in, byName, convOf, mergeOf)) {
                    if (buffer == null) {
                        buffer = backend.allocate(shapes.get(n.name()));
                        acts.put(n.name(), buffer);
                    }
                    sliceWrites.put(in, new ChannelSlice(n.name(), buffer, c0));
                    inPlaceConcatInputs.add(in);
                }
                c0 += shapes.get(in).c();
            }
        }
    }

    /** {@code -Dnetslim.train.inPlaceRelu=false}: {@link #forTraining} keeps every buffer. Not final: probes flip it. */
    static boolean IN_PLACE_RELU = !"false".equals(System.getProperty("netslim.train.inPlaceRelu"));
    /**
     * {@code -Dnetslim.train.fusedBatchNormRelu=false}: a BatchNorm whose ReLU runs in place calls batchNormTrain and
     * the ReLU its own op, instead of {@link Backend#batchNormTrainRelu}. Not final: probes flip it.
     */
    static boolean FUSED_BN_RELU = !"false".equals(System.getProperty("netslim.train.fusedBatchNormRelu"));
    /**
     * {@code -Dnetslim.train.fusedBatchNormReluBackward=false}: the backward of a ReLU that runs in place on its
     * BatchNorm's output is its own op ({@link Backend#reluBackwardInto}), before the BatchNorm's, instead of one
     * {@link Backend#batchNormReluBackwardInto}. Not final: tests and probes flip it.
     */
    static boolean FUSED_BN_RELU_BACKWARD =
            !"false".equals(System.getProperty("netslim.train.fusedBatchNormReluBackward"));

    /** ReLUs running in place on their BatchNorm's buffers in this plan (tests). */
    int inPlaceRelus() {
        return inPlaceRelus.size();
    }

    /** {@link #forTraining}: ReLUs that run in place on their BatchNorm's output and its gradient (by name). */
    private final java.util.Set<String> inPlaceRelus = new java.util.HashSet<>();
    /** The BatchNorms of {@link #inPlaceRelus}, by name. */
    private final java.util.Set<String> overwrittenByRelu = new java.util.HashSet<>();

    /**
     * ReLUs whose input is a BatchNorm's output that nothing else reads (and is not the graph's output): the ReLU can
     * overwrite it, since BatchNorm's backward needs its input and saved statistics, not its output, and ReLU's
     * backward needs only its own output; and the ReLU's output gradient can become the BatchNorm's in place.
     */
    private void findInPlaceRelus() {
        Map<String, Integer> uses = readCounts();
        Map<String, Node> byName = nodesByName();
        for (Node n : graph.nodes()) {
            if (!(n.layer() instanceof Layer.Relu)) continue;
            String in = n.inputs().get(0);
            Node src = byName.get(in);
            if (src == null || !(src.layer() instanceof Layer.BatchNorm2d) || uses.get(in) != 1
                    || in.equals(graph.outputName())) continue;
            inPlaceRelus.add(n.name());
            overwrittenByRelu.add(in);
        }
    }

    /** How many node inputs, over the whole graph, name each activation (one node naming it twice counts twice). */
    private Map<String, Integer> readCounts() {
        Map<String, Integer> uses = new HashMap<>();
        for (Node n : graph.nodes()) for (String in : n.inputs()) uses.merge(in, 1, Integer::sum);
        return uses;
    }

    /** The graph's nodes by name (the graph input is not a node). */
    private Map<String, Node> nodesByName() {
        Map<String, Node> byName = new HashMap<>();
        for (Node n : graph.nodes()) byName.put(n.name(), n);
        return byName;
    }

    /** Whether the activation {@code in} is written by a prepared conv that can write a channel slice. */
    private boolean writesSlice(String in, Map<String, Node> byName, Map<String, String> convOf,
                                Map<String, MergedConvs> mergeOf) {
        MergedConvs m = mergeOf.get(in);
        if (m != null) return m.y() == null && backend.writesChannelSlices(m.prepared(), m.spec());
        String conv = convOf.get(in);
        if (conv == null) {
            Node node = byName.get(in);
            if (node == null || !(node.layer() instanceof Layer.Conv2d) || fusedConvToRelu.containsKey(in)) return false;
            conv = in;
        }
        Tensor p = preparedWeights.get(conv);
        return p != null && !mergedConvs.contains(conv)
                && backend.writesChannelSlices(p, ((Layer.Conv2d) byName.get(conv).layer()).spec());
    }

    /**
     * Serving plan: asks the backend to prepare each conv's weights for its input shape
     * ({@link Backend#prepareConvWeights}; on the CPU the Winograd transform of the 3x3 stride-1 convs where that
     * pays). A snapshot, as the merged siblings' stacked weights are.
     */
    private void prepareConvWeights() {
        for (Node n : graph.nodes()) {
            if (n.layer() instanceof Layer.Conv2d c && !mergedConvs.contains(n.name())) {
                Tensor p = backend.prepareConvWeights(param(pn(n.name())[W]), c.spec(), shapes.get(n.inputs().get(0)));
                if (p != null) preparedWeights.put(n.name(), p);
            }
        }
    }

    /**
     * Serving plan at batch 1: a Concat's buffer is allocated first and each eligible input node writes straight
     * into its channel slice (at batch 1 a channel range of an NCHW tensor is contiguous, so the slice is a plain
     * tensor at an offset), so the concat copies nothing for it. Eligible: a node of its own (not the graph input
     * or output, not a view, not itself a Concat) that appears once in this concat and in no other in-place one.
     */
    private void planConcatsInPlace() {
        Map<String, Integer> uses = new HashMap<>();
        for (Node n : graph.nodes()) {
            if (n.layer() instanceof Layer.Concat) for (String in : n.inputs()) uses.merge(in, 1, Integer::sum);
        }
        for (Node n : graph.nodes()) {
            if (!(n.layer() instanceof Layer.Concat)) continue;
            Tensor buffer = null;
            int c0 = 0;
            for (String in : n.inputs()) {
                Shape s = shapes.get(in);
                Node src = in.equals(graph.inputName()) ? null : graph.node(in);
                boolean eligible = src != null && !in.equals(graph.outputName()) && uses.get(in) == 1
                        && !isView(src.layer()) && !(src.layer() instanceof Layer.Concat)
                        && !slices.containsKey(in); // already a slice of a merged conv's buffer
                if (eligible) {
                    if (buffer == null) buffer = acts.get(n.name()); // placed after a merge's rows already
                    if (buffer == null) {
                        buffer = backend.allocate(shapes.get(n.name()));
                        acts.put(n.name(), buffer);
                    }
                    slices.put(in, channelSlice(buffer, c0, s));
                    inPlaceConcatInputs.add(in);
                }
                c0 += s.c();
            }
        }
    }

    /**
     * Serving plan on a host backend: the pointwise convs that read the same tensor (an Inception's branch 1x1s) run
     * as one product with their weights stacked — the shared input is read once and the product is taller. At batch
     * 1 it writes one buffer whose channel slices are the members' outputs (contiguous at batch 1); at batch > 1,
     * where a channel range of an NCHW buffer is not contiguous, only where the backend writes each member's own
     * tensor from the one product ({@link Backend#prepareSplitPointwise}; on the CPU where the 8 x 32 tile exists and
     * every member's output count is a multiple of 8), else the members run one by one. Members must agree on bias
     * and on a fused ReLU, and none may be the graph output. Not on device backends: the GPU serving plan is what
     * was verified there.
     */
    private void planSiblingMerges() {
        Map<String, List<Node>> byInput = pointwiseConvsByInput(n -> !n.name().equals(graph.outputName())
                && !graph.outputName().equals(fusedConvToRelu.get(n.name())));
        Map<String, Integer> uses = readCounts();
        for (List<Node> siblings : byInput.values()) {
            if (siblings.size() < 2) continue;
            String key = siblings.get(0).name(); // the merge runs where the first of them (in node order) ran
            Layer.Conv2d first = (Layer.Conv2d) siblings.get(0).layer();
            boolean relu = fusedConvToRelu.containsKey(key);
            boolean same = siblings.stream().allMatch(n -> ((Layer.Conv2d) n.layer()).bias() == first.bias()
                    && fusedConvToRelu.containsKey(n.name()) == relu);
            if (!same) continue;
            // Batch 1: a member whose output is the first input of a concat (and read nowhere else) goes last, and
            // the concat's buffer starts where its rows do, in one array: the concat then copies nothing for it.
            List<Node> group = new ArrayList<>(siblings);
            Node concat = null;
            if (batch == 1 && CONCAT_AFTER_MERGE) {
                for (int i = 0; i < group.size() && concat == null; i++) {
                    String out = relu ? fusedConvToRelu.get(group.get(i).name()) : group.get(i).name();
                    concat = concatStartingWith(out, uses);
                    if (concat != null) group.add(group.remove(i));
                }
            }
            int cin = first.spec().inChannels(), cout = 0;
            int[] couts = new int[group.size()];
            String[] outs = new String[group.size()];
            for (int i = 0; i < group.size(); i++) {
                Node n = group.get(i);
                couts[i] = ((Layer.Conv2d) n.layer()).spec().outChannels();
                outs[i] = relu ? fusedConvToRelu.get(n.name()) : n.name();
                cout += couts[i];
            }
            Shape in = shapes.get(group.get(0).inputs().get(0));
            ConvSpec stackedSpec = new ConvSpec(cin, cout, 1, 1, 1, 1, 0, 0, 1, 1, 1);
            Tensor[] stacked = stackedParams(group, cin, cout, first.bias());
            if (batch > 1) {
                Tensor prepared = backend.prepareSplitPointwise(stacked[0], stackedSpec, couts, in);
                if (prepared == null) continue; // no product writing each member: one by one
                for (Node n : group) mergedConvs.add(n.name());
                merges.put(key, new MergedConvs(stacked[0], stacked[1], null, stackedSpec, relu,
                        prepared, outs, new Tensor[outs.length]));
                continue;
            }
            Tensor y;
            if (concat != null) {
                Shape cs = shapes.get(concat.name());
                int before = cout - couts[couts.length - 1], plane = in.h() * in.w();
                Tensor whole = backend.allocate(Shape.of(1, before + cs.c(), in.h(), in.w()));
                y = new Tensor(Shape.of(1, cout, in.h(), in.w()), whole.storage(), whole.offset());
                acts.put(concat.name(), new Tensor(cs, whole.storage(), whole.offset() + before * plane));
                inPlaceConcatInputs.add(outs[outs.length - 1]);
            } else {
                y = backend.allocate(Shape.of(batch, cout, in.h(), in.w()));
            }
            int c0 = 0;
            for (Node n : group) {
                String out = relu ? fusedConvToRelu.get(n.name()) : n.name();
                slices.put(out, channelSlice(y, c0, shapes.get(out)));
                mergedConvs.add(n.name());
                c0 += ((Layer.Conv2d) n.layer()).spec().outChannels();
            }
            merges.put(key, new MergedConvs(stacked[0], stacked[1], y, stackedSpec, relu,
                    backend.prepareConvWeights(stacked[0], stackedSpec, in), new String[0], new Tensor[0]));
        }
    }

    /**
     * -Dnetslim.serving.concatAfterMerge=false: at batch 1 a concat whose first input is a merged sibling's output
     * copies it, as before (not final: tests build plans both ways). On: GoogLeNet-224's nine concats copied ~0.2 ms
     * per batch-1 pass; the pass ran 1.004–1.022x faster, compressed 1.037x (session 13).
     */
    static boolean CONCAT_AFTER_MERGE = !"false".equals(System.getProperty("netslim.serving.concatAfterMerge"));

    /**
     * The concat whose first input is {@code out}, where nothing else reads {@code out}, the concat is not the graph
     * output and no other merge placed its buffer; else null.
     */
    private Node concatStartingWith(String out, Map<String, Integer> uses) {
        if (uses.getOrDefault(out, 0) != 1 || out.equals(graph.outputName())) return null;
        List<Node> readers = graph.consumers(out);
        if (readers.size() != 1) return null;
        Node c = readers.get(0);
        boolean ok = c.layer() instanceof Layer.Concat && c.inputs().get(0).equals(out)
                && !c.name().equals(graph.outputName()) && !acts.containsKey(c.name());
        return ok ? c : null;
    }

    /**
     * The members' weights (and biases) stacked along the output channels. Shared by every executor built on the
     * same parameter arrays (the embedding API's pool builds one serving plan per thread): cached weakly by the
     * identity of the first member's weight array, and a hit is used only if its contents still equal the members'
     * current weights and biases (a graph whose weights changed gets a fresh stack, never a stale one).
     */
    private Tensor[] stackedParams(List<Node> group, int cin, int cout, boolean bias) {
        float[] first = graph.params().get(pn(group.get(0).name())[W]).data();
        return STACKED.get(first,
                hit -> hit[0].size() == (long) cout * cin && (hit[1] != null) == bias && matches(group, cin, hit),
                stale -> true, // one stack per first-member array: a new one replaces it
                () -> stack(group, cin, cout, bias));
    }

    /** A fresh stack of the members' weights (and biases) along the output channels. */
    private Tensor[] stack(List<Node> group, int cin, int cout, boolean bias) {
        Tensor w = Tensor.zeros(Shape.of(cout, cin, 1, 1)), b = bias ? Tensor.zeros(Shape.of(cout)) : null;
        int c0 = 0;
        for (Node n : group) {
            int co = ((Layer.Conv2d) n.layer()).spec().outChannels();
            Tensor wn = graph.params().get(pn(n.name())[W]);
            System.arraycopy(wn.data(), wn.offset(), w.data(), c0 * cin, co * cin);
            if (b != null) {
                Tensor bn = graph.params().get(pn(n.name())[B]);
                System.arraycopy(bn.data(), bn.offset(), b.data(), c0, co);
            }
            c0 += co;
        }
        return new Tensor[] {w, b};
    }

    /**
     * Whether the stacked parameters (already checked to hold cout·cin weights) are exactly the members' current
     * weights and biases, bit for bit.
     */
    private boolean matches(List<Node> group, int cin, Tensor[] stacked) {
        int c0 = 0;
        for (Node n : group) {
            int co = ((Layer.Conv2d) n.layer()).spec().outChannels();
            Tensor wn = graph.params().get(pn(n.name())[W]);
            if (!java.util.Arrays.equals(wn.data(), wn.offset(), wn.offset() + co * cin,
                    stacked[0].data(), c0 * cin, (c0 + co) * cin)) {
                return false;
            }
            if (stacked[1] != null) {
                Tensor bn = graph.params().get(pn(n.name())[B]);
                if (!java.util.Arrays.equals(bn.data(), bn.offset(), bn.offset() + co, stacked[1].data(), c0, c0 + co)) {
                    return false;
                }
            }
            c0 += co;
        }
        return true;
    }

    /** Keyed by the first member's weight array; the values hold only their own copies. */
    private static final netslim.tensor.DerivedCache<Tensor[]> STACKED = new netslim.tensor.DerivedCache<>();

    /**
     * Channels [c0, c0 + s.c()) of a batch-1 NCHW buffer as a tensor of shape s: at batch 1 a channel range is
     * contiguous, so the slice is a plain tensor at an offset.
     */
    private static Tensor channelSlice(Tensor buffer, int c0, Shape s) {
        return new Tensor(s, buffer.storage(), Math.toIntExact(buffer.offset() + (long) c0 * s.h() * s.w()));
    }

    /**
     * Sibling pointwise convs run as one (see {@link #planSiblingMerges}), at the position of the first. Batch 1: y
     * the buffer whose slices are the members' outputs, prepared the stacked weights as
     * {@link Backend#prepareConvWeights} gave them, or null. Batch > 1: y null, prepared from
     * {@link Backend#prepareSplitPointwise}, ys the members' outputs (the activations named outs, filled in once
     * the plan has allocated them).
     */
    private record MergedConvs(Tensor w, Tensor b, Tensor y, ConvSpec spec, boolean relu, Tensor prepared,
                               String[] outs, Tensor[] ys) {
    }

    /**
     * -Dnetslim.train.siblings=false: a training plan runs sibling pointwise convs one by one, each at its own place
     * (not final: tests build plans both ways).
     */
    static boolean TRAIN_SIBLINGS = !"false".equals(System.getProperty("netslim.train.siblings"));

    /**
     * A training plan's sibling pointwise convs (two or more 1x1 stride-1 convs of one group reading the same
     * tensor: an inception block's branch heads), keyed by the first in node order: their forward and their backward
     * run as one {@link Backend#conv2dSiblings} / {@link Backend#conv2dSiblingsBackward} call at the first's place
     * (every member's output gradient is complete there: the members' readers all come after the first).
     */
    private final Map<String, Node[]> trainingSiblings = new HashMap<>();
    /** Every member of {@link #trainingSiblings}' groups. */
    private final java.util.Set<String> trainingSiblingMembers = new java.util.HashSet<>();

    /** Fills {@link #trainingSiblings} (host training plans; devices keep the one-by-one plan verified there). */
    private void planTrainingSiblings() {
        for (List<Node> group : pointwiseConvsByInput(n -> true).values()) {
            if (group.size() < 2) continue;
            trainingSiblings.put(group.get(0).name(), group.toArray(new Node[0]));
            for (Node n : group) trainingSiblingMembers.add(n.name());
        }
    }

    /**
     * -Dnetslim.train.concatSlices=false: a training plan's concats copy their inputs in and their gradient out (not
     * final: tests build plans both ways).
     */
    static boolean TRAIN_CONCAT_SLICES = !"false".equals(System.getProperty("netslim.train.concatSlices"));

    /**
     * Training plan (host, ReLUs in place): BatchNorms whose in-place ReLU's output only a concat reads, keyed by the
     * BatchNorm: it writes its (ReLU'd) output into its channels of the concat's buffer
     * ({@link Backend#batchNormTrainReluSlice}) and its backward reads and masks its output gradient in the concat's
     * gradient ({@link Backend#batchNormReluBackwardIntoSlice}) — the concat copies nothing, in or out. GoogLeNet: all
     * four branch ends of its nine inception blocks.
     */
    private final Map<String, ChannelSlice> bnSlices = new HashMap<>();
    /** The ReLUs of {@link #bnSlices}' BatchNorms: no buffers of their own, nothing to run. */
    private final java.util.Set<String> slicedRelus = new java.util.HashSet<>();

    /** Fills {@link #bnSlices}; allocates the concats' buffers and gradients it writes into. */
    private void planTrainingConcatSlices() {
        Map<String, Integer> uses = readCounts();
        Map<String, Node> byName = nodesByName();
        java.util.Set<String> writtenOnce = gradsWrittenOnce();
        for (Node n : graph.nodes()) {
            if (!(n.layer() instanceof Layer.Concat)) continue;
            Map<String, Integer> picked = new java.util.LinkedHashMap<>();
            int c0 = 0;
            for (String in : n.inputs()) {
                Node relu = byName.get(in);
                if (relu != null && inPlaceRelus.contains(in) && uses.get(in) == 1 && !in.equals(graph.outputName())) {
                    String bn = relu.inputs().get(0), bnIn = byName.get(bn).inputs().get(0);
                    // the fused backward writes the BatchNorm's input gradient whole (see findFusedReluBackward)
                    if (writtenOnce.contains(bnIn) && !bnIn.equals(graph.inputName())) picked.put(in, c0);
                }
                c0 += shapes.get(in).c();
            }
            if (picked.isEmpty()) continue;
            Tensor buffer = backend.allocate(shapes.get(n.name()));
            acts.put(n.name(), buffer);
            grads.put(n.name(), backend.allocate(shapes.get(n.name())));
            for (Map.Entry<String, Integer> e : picked.entrySet()) {
                bnSlices.put(byName.get(e.getKey()).inputs().get(0), new ChannelSlice(n.name(), buffer, e.getValue()));
                slicedRelus.add(e.getKey());
                inPlaceConcatInputs.add(e.getKey());
            }
        }
    }

    /** BatchNorm + ReLU pairs that write into their concat's buffers (see {@link #bnSlices}). */
    int concatSlices() {
        return bnSlices.size();
    }

    /** The pointwise convs that {@code keep} accepts, grouped by their input in node order (sibling candidates). */
    private Map<String, List<Node>> pointwiseConvsByInput(java.util.function.Predicate<Node> keep) {
        Map<String, List<Node>> byInput = new java.util.LinkedHashMap<>();
        for (Node n : graph.nodes()) {
            if (n.layer() instanceof Layer.Conv2d c && c.spec().isPointwise() && keep.test(n)) {
                byInput.computeIfAbsent(n.inputs().get(0), k -> new ArrayList<>()).add(n);
            }
        }
        return byInput;
    }

    /** Groups of sibling pointwise convs this plan runs as one call each (training plans; 0 otherwise). */
    int siblingGroups() {
        return trainingSiblings.size();
    }

    /** Forward (or backward) of the sibling group {@code first} leads, with each member's current parameters. */
    private void siblings(String first, boolean forward) {
        Node[] group = trainingSiblings.get(first);
        int k = group.length;
        Tensor[] ws = new Tensor[k], bs = new Tensor[k], out = new Tensor[k], dws = new Tensor[k], dbs = new Tensor[k];
        ConvSpec[] specs = new ConvSpec[k];
        for (int i = 0; i < k; i++) {
            String name = group[i].name();
            Layer.Conv2d c = (Layer.Conv2d) group[i].layer();
            specs[i] = c.spec();
            ws[i] = param(pn(name)[W]);
            if (forward) {
                bs[i] = c.bias() ? param(pn(name)[B]) : null;
                out[i] = acts.get(name);
            } else {
                out[i] = grads.get(name);
                dws[i] = paramGrad(pn(name)[W]);
                dbs[i] = c.bias() ? paramGrad(pn(name)[B]) : null;
            }
        }
        String in = group[0].inputs().get(0);
        if (forward) backend.conv2dSiblings(acts.get(in), ws, bs, out, specs);
        else backend.conv2dSiblingsBackward(acts.get(in), ws, out, gradOf(in), dws, dbs, specs);
    }

    /** Conv → ReLU pairs where the ReLU is the conv's only reader (and the conv is not the graph output). */
    private void findConvRelu() {
        for (Node n : graph.nodes()) {
            if (!(n.layer() instanceof Layer.Conv2d) || n.name().equals(graph.outputName())) continue;
            List<Node> readers = graph.consumers(n.name());
            if (readers.size() == 1 && readers.get(0).layer() instanceof Layer.Relu) {
                fusedConvToRelu.put(n.name(), readers.get(0).name());
                fusedRelus.add(readers.get(0).name());
            }
        }
    }

    private boolean training() {
        return mode == Mode.TRAINING;
    }

    private boolean isView(Layer l) {
        return l instanceof Layer.Flatten || l instanceof Layer.Identity || (l instanceof Layer.Dropout && !training());
    }

    private void plan(Node n) {
        if (fusedConvToRelu.containsKey(n.name())) return; // writes its ReLU's buffer
        Shape s = shapes.get(n.name());
        Layer l = n.layer();
        String in0 = n.inputs().get(0);
        if (slices.containsKey(n.name())) {
            acts.put(n.name(), slices.get(n.name())); // its slice of a concat buffer (planConcatsInPlace)
        } else if (sliceWrites.containsKey(n.name())) {
            // written by its conv into the concat's buffer (planConcatSlices): no tensor of its own
        } else if (acts.containsKey(n.name())) {
            // a concat whose buffer planConcatsInPlace or planTrainingConcatSlices allocated already
        } else if (bnSlices.containsKey(n.name()) || slicedRelus.contains(n.name())) {
            // writes (or is) its channels of a concat's buffer: nothing of its own
        } else if (isView(l)) {
            acts.put(n.name(), acts.get(in0).view(s));
            if (training() && grads.containsKey(in0)) grads.put(n.name(), grads.get(in0).view(s));
        } else if (inPlaceRelus.contains(n.name())) { // its BatchNorm's buffers: the ReLU runs in place on them
            acts.put(n.name(), acts.get(in0));
            grads.put(n.name(), grads.get(in0));
        } else {
            acts.put(n.name(), backend.allocate(s));
            if (training()) grads.put(n.name(), backend.allocate(s));
        }
        if (l instanceof Layer.BatchNorm2d bn && training()) {
            saved.put(n.name(), new Tensor[] {backend.allocate(Shape.of(bn.channels())),
                    backend.allocate(Shape.of(bn.channels()))});
        }
        if (l instanceof Layer.Dropout && training()) {
            saved.put(n.name(), new Tensor[] {backend.allocate(s)});
        }
    }

    public Graph graph() { return graph; }

    public Backend backend() { return backend; }

    public int batch() { return batch; }

    public Mode mode() { return mode; }

    public Map<String, Shape> shapes() { return shapes; }

    /** Generator for dropout masks (its state belongs in training checkpoints). */
    public Rng rng() { return rng; }

    public void setRng(Rng r) { this.rng = r; }

    /** The planned output buffer of a node (valid after {@link #forward}). */
    public Tensor activation(String node) {
        Tensor t = acts.get(node);
        if (t == null && fusedConvToRelu.containsKey(node)) {
            throw new NetslimException("node " + node + " is fused with " + fusedConvToRelu.get(node)
                    + " in this inference plan: its own output is not kept (use Mode.INFERENCE to read it)");
        }
        if (t == null && sliceWrites.containsKey(node)) {
            throw new NetslimException("node " + node + " is written into its channels of " + sliceWrites.get(node)
                    .concat() + "'s buffer in this serving plan: its own output is not kept (use Mode.INFERENCE to "
                    + "read it)");
        }
        if (t == null && (bnSlices.containsKey(node) || slicedRelus.contains(node))) {
            throw new NetslimException("node " + node + " is written into its channels of a concat's buffer in this "
                    + "training plan (Executor.forTraining): use new Executor(..., Mode.TRAINING) to read it");
        }
        if (t == null && lanes != null && shapes.containsKey(node)) {
            throw new NetslimException("node " + node + ": this serving plan runs its batch image by image and keeps"
                    + " only the output (use Mode.INFERENCE to read it)");
        }
        if (t == null) throw new NetslimException("no activation named " + node);
        if (overwrittenByRelu.contains(node)) {
            throw new NetslimException("node " + node + "'s output is overwritten by its ReLU in this training plan "
                    + "(Executor.forTraining): use new Executor(..., Mode.TRAINING) to read it");
        }
        if (sharedStorages.contains(t.storage())) {
            throw new NetslimException("node " + node + "'s buffer is reused by later layers in this serving plan: its "
                    + "output is not kept (use Mode.INFERENCE to read it)");
        }
        return t;
    }

    /** Gradient of the loss with respect to a node's output (training mode, after {@link #backward}). */
    public Tensor activationGrad(String node) {
        Tensor t = grads.get(node);
        if (t == null && (bnSlices.containsKey(node) || slicedRelus.contains(node))) {
            throw new NetslimException("node " + node + "'s output gradient is read in its concat's gradient in this "
                    + "training plan (Executor.forTraining): use new Executor(..., Mode.TRAINING) to read it");
        }
        if (t == null) throw new NetslimException("no gradient for " + node + " (not training, or the graph input)");
        if (inPlaceRelus.contains(node)) {
            throw new NetslimException("node " + node + "'s output gradient becomes its BatchNorm's in place in this "
                    + "training plan (Executor.forTraining): use new Executor(..., Mode.TRAINING) to read it");
        }
        return t;
    }

    /** The parameter as the backend sees it (the graph's own tensor on host backends). */
    public Tensor param(String name) {
        Tensor host = graph.params().get(name);
        if (backend.isHost()) return host;
        return deviceParams.computeIfAbsent(name, k -> {
            Tensor d = backend.allocate(host.shape());
            backend.upload(host, d);
            return d;
        });
    }

    /** Re-uploads parameters after the host copies changed (no-op on host backends). */
    public void syncParamsToDevice() {
        for (Map.Entry<String, Tensor> e : deviceParams.entrySet()) {
            backend.upload(graph.params().get(e.getKey()), e.getValue());
        }
    }

    /** Copies device parameters back into the graph (no-op on host backends). */
    public void syncParamsToHost() {
        for (Map.Entry<String, Tensor> e : deviceParams.entrySet()) {
            backend.download(e.getValue(), graph.params().get(e.getKey()));
        }
    }

    /** "NODE.weight", ".bias", ".running_mean", ".running_var", built once per node (no string garbage per call). */
    private final Map<String, String[]> paramNames = new HashMap<>();
    private static final int W = 0, B = 1, MEAN = 2, VAR = 3;

    private String[] pn(String node) {
        return paramNames.computeIfAbsent(node, Executor::paramNamesOf);
    }

    private static String[] paramNamesOf(String node) {
        return new String[] {node + ".weight", node + ".bias", node + ".running_mean", node + ".running_var"};
    }

    private Tensor paramOrNull(String name) {
        return graph.params().contains(name) ? param(name) : null;
    }

    /**
     * Times every node of later {@link #forward} calls (null: off): wall time around each op on a host backend; on
     * a device backend, device timestamps ({@link Backend#deviceTimer}) recorded between the ops, read after the
     * pass (a GPU op returns before its kernels finish, so wall time would be wrong). Timed passes run eagerly,
     * op by op, never as a captured graph.
     */
    public void setNodeTimer(NodeTimer timer) {
        if (timer != null && !backend.isHost() && deviceTimer == null) {
            deviceTimer = backend.deviceTimer(graph.nodes().size() + 1);
            if (deviceTimer == null) {
                throw new NetslimException("per-layer timing needs a CPU backend or device timestamps ("
                        + backend.name() + " runs its kernels asynchronously and has none)");
            }
        }
        this.nodeTimer = timer;
    }

    /**
     * Whether forward passes replay a captured device graph (the CUDA backend in the inference modes, unless
     * {@code -Dnetslim.cuda.graphs=false} or the capture failed); false until the first forward.
     */
    public boolean replaysGraph() {
        return replay != null && replay.captured();
    }

    /** Runs the graph on a host batch (N, C, H, W) and returns the output buffer (backend memory). */
    public Tensor forward(Tensor hostInput) {
        Shape expected = shapes.get(graph.inputName());
        if (!hostInput.shape().equals(expected)) {
            throw new NetslimException("input has shape " + hostInput.shape() + ", the model expects " + expected);
        }
        if (lanes != null) return forwardImageByImage(hostInput);
        backend.upload(hostInput, input);
        try (Backend.Pass pass = backend.pass()) {
            forwardNodes();
        }
        return acts.get(graph.outputName());
    }

    /** The forward pass's nodes: timed per node when asked, replayed where the backend can, else op by op. */
    private void forwardNodes() {
        NodeTimer timer = nodeTimer;
        if (timer != null && deviceTimer != null) {
            List<Node> nodes = graph.nodes();
            deviceTimer.mark(0);
            for (int i = 0; i < nodes.size(); i++) {
                forwardNode(nodes.get(i));
                deviceTimer.mark(i + 1);
            }
            for (int i = 0; i < nodes.size(); i++) {
                timer.record(nodes.get(i), Math.round(deviceTimer.elapsedMs(i, i + 1) * 1e6));
            }
        } else if (timer != null) {
            for (Node n : graph.nodes()) {
                long t0 = System.nanoTime();
                forwardNode(n);
                timer.record(n, System.nanoTime() - t0);
            }
        } else if (mode != Mode.TRAINING && GRAPHS && !replayFailed) {
            replayForward();
        } else {
            for (Node n : graph.nodes()) forwardNode(n);
        }
    }

    /**
     * The inference node sequence through {@link Backend#replayable}: every kernel argument is fixed by the plan
     * (buffers allocated once, parameters re-uploaded in place), so a captured graph stays valid. A failed capture
     * is said on stderr once, and this executor then runs op by op.
     */
    private void replayForward() {
        if (replay == null) {
            try {
                String what = "the inference forward (batch " + batch + ", " + graph.nodes().size() + " nodes)";
                replay = backend.replayable(what, () -> {
                    for (Node n : graph.nodes()) forwardNode(n);
                });
            } catch (NetslimException e) {
                replayFailed = true;
                System.err.println("netslim: " + e.getMessage() + "; running op by op instead");
                for (Node n : graph.nodes()) forwardNode(n);
                return;
            }
            if (replay.captured()) { // the capture ran the work eagerly first: this pass's output is there
                return;
            }
        }
        replay.run();
    }

    /**
     * MACs per byte of one image's activations (every node's output and the input, as floats) below which the CPU
     * serving plan runs a batch image by image: {@value}. Above it (dense CNNs: GoogLeNet 30, ResNet-18 54) a
     * batch's bigger GEMMs win; below it (compressed models: 1-9) the pass is bound by moving activations, and a
     * whole batch's (46 MB per GoogLeNet image, 1.5 GB at batch 32) goes through memory while one image's stays in
     * cache. Measured on the 2-core AVX-512 Xeon of sessions 8 and 14 (bench/RESULTS.md): 16 at first (the roofline
     * balance, ~170 GMAC/s of FMA peak over ~10-12 GB/s), lowered to 12 with {@link #IMAGE_LANES one image per
     * thread}, against the whole batch at batch 32: compressed GoogLeNet (6.2) 1.48x faster image by image,
     * compressed googlenet-cifar (9.1) 1.11x, dense resnet20-cifar (15.0) 0.95-0.99x (image after image on both
     * threads it had been 0.65-0.71x), googlenet-cifar (35.6) 0.83x.
     */
    static final double IMAGE_BY_IMAGE_BELOW = 12;

    /** {@code -Dnetslim.serving.perImage=auto|true|false}: auto applies {@link #IMAGE_BY_IMAGE_BELOW}. */
    private static final String PER_IMAGE_SERVING = System.getProperty("netslim.serving.perImage", "auto");

    /** Whether a CPU serving plan of {@code g} at batch > 1 runs image by image (see {@link #IMAGE_BY_IMAGE_BELOW}). */
    static boolean servesImageByImage(Graph g) {
        return switch (PER_IMAGE_SERVING) {
            case "true" -> true;
            case "false" -> false;
            default -> macsPerActivationByte(g) < IMAGE_BY_IMAGE_BELOW;
        };
    }

    /** Conv and linear multiply-adds of one image over 4 bytes per activation of that image (input included). */
    static double macsPerActivationByte(Graph g) {
        Map<String, Shape> one = g.shapes(1);
        long macs = 0, floats = one.get(g.inputName()).size();
        for (Node n : g.nodes()) {
            Shape out = one.get(n.name());
            floats += out.size();
            macs += Layer.macs(n.layer(), out);
        }
        return macs / (4.0 * floats);
    }

    /**
     * {@code -Dnetslim.serving.imageLanes=false}: a plan serving image by image runs one image at a time with each op
     * on all the backend's threads, instead of one image per thread ({@link Backend#imageLanes}). Not final: tests
     * build plans both ways.
     */
    static boolean IMAGE_LANES = !"false".equals(System.getProperty("netslim.serving.imageLanes"));

    /** Lanes an image-by-image plan on {@code backend} runs at once (see {@link #IMAGE_LANES}). */
    static int imageLanes(Backend backend) {
        return IMAGE_LANES ? Math.max(1, backend.imageLanes()) : 1;
    }

    /** {@code count} batch-1 serving plans of {@code graph}, one per lane. */
    private static Executor[] lanes(Graph graph, Backend backend, Mode mode, int count) {
        Executor[] lanes = new Executor[count];
        for (int l = 0; l < count; l++) lanes[l] = new Executor(graph, backend, 1, mode);
        return lanes;
    }

    /**
     * The batch through the batch-1 plans, each output copied into this plan's output buffer: with several lanes,
     * lane l takes a contiguous share of the images and runs them one after another on a thread of its own (the
     * backend's ops single-threaded there); with one, image after image with each op on all threads. A node timer
     * gets each node's time summed over the batch, once per call, as a whole-batch pass would give it; timed calls
     * run on one lane (per-node wall times of lanes running at once would overlap).
     */
    private Tensor forwardImageByImage(Tensor hostInput) {
        Tensor out = acts.get(graph.outputName());
        Executor first = lanes[0];
        Shape one = first.shapes.get(graph.inputName());
        int inSize = Math.toIntExact(one.size()), outSize = Math.toIntExact(out.size() / batch);
        NodeTimer timer = nodeTimer;
        if (timer == null && lanes.length > 1) {
            backend.runLanes(lanes.length, l -> {
                int from = (int) ((long) batch * l / lanes.length), to = (int) ((long) batch * (l + 1) / lanes.length);
                for (int i = from; i < to; i++) {
                    imageThrough(lanes[l], hostInput, one, i * (long) inSize, out, i * outSize, outSize);
                }
            });
            return out;
        }
        Map<Node, long[]> sums = timer == null ? null : new java.util.LinkedHashMap<>();
        first.setNodeTimer(timer == null ? null
                : (n, nanos) -> sums.computeIfAbsent(n, k -> new long[1])[0] += nanos);
        for (int i = 0; i < batch; i++) {
            imageThrough(first, hostInput, one, i * (long) inSize, out, i * outSize, outSize);
        }
        if (sums != null) sums.forEach((n, t) -> timer.record(n, t[0]));
        return out;
    }

    /** One image of {@code hostInput} (at {@code inAt}) through a batch-1 plan, its output copied to {@code out}. */
    private static void imageThrough(Executor plan, Tensor hostInput, Shape one, long inAt, Tensor out, int outAt,
                                     int outSize) {
        Tensor x = new Tensor(one, hostInput.storage(), Math.toIntExact(hostInput.offset() + inAt));
        Tensor y = plan.forward(x);
        System.arraycopy(y.data(), y.offset(), out.data(), out.offset() + outAt, outSize);
    }

    /** Batch-1 plans this plan runs its images on at once; 0 when it does not serve image by image (tests). */
    int lanes() {
        return lanes == null ? 0 : lanes.length;
    }

    /** Whether this serving plan runs its batch image by image ({@link #servesImageByImage}). */
    public boolean imageByImage() {
        return lanes != null;
    }

    /** Convenience: forward and copy the output to a new host tensor. */
    public Tensor forwardToHost(Tensor hostInput) {
        Tensor out = forward(hostInput);
        Tensor host = Tensor.zeros(out.shape());
        backend.download(out, host);
        return host;
    }

    private void forwardNode(Node n) {
        String name = n.name();
        Tensor y = acts.get(name);
        Tensor x = acts.get(n.inputs().get(0));
        Layer l = n.layer();
        if (trainingSiblingMembers.contains(name)) {
            if (trainingSiblings.containsKey(name)) siblings(name, true); // the others: computed with the first
        } else if (mergedConvs.contains(name)) {
            MergedConvs m = merges.get(name); // null for the members after the first: computed with it
            SplitTargets t = m == null ? null : splitTargets.get(name);
            if (t != null) {
                backend.conv2dPreparedSplitSlices(x, m.prepared(), m.b(), t.ys(), t.c0s(), t.couts(), m.spec(),
                        m.relu());
            } else if (m != null && m.y() == null) {
                backend.conv2dPreparedSplit(x, m.prepared(), m.b(), m.ys(), m.spec(), m.relu());
            } else if (m != null && m.prepared() != null) {
                backend.conv2dPrepared(x, m.prepared(), m.b(), m.y(), m.spec(), m.relu());
            } else if (m != null && m.relu()) {
                backend.conv2dRelu(x, m.w(), m.b(), m.y(), m.spec());
            } else if (m != null) {
                backend.conv2d(x, m.w(), m.b(), m.y(), m.spec());
            }
        } else if (l instanceof Layer.Conv2d c) {
            Tensor w = param(pn(name)[W]), b = c.bias() ? param(pn(name)[B]) : null;
            String relu = fusedConvToRelu.get(name);
            Tensor prepared = preparedWeights.get(name);
            ChannelSlice slice = sliceWrites.get(relu != null ? relu : name);
            if (slice != null) {
                backend.conv2dPreparedSlice(x, prepared, b, slice.buffer(), slice.c0(), c.spec(), relu != null);
            } else if (prepared != null) {
                backend.conv2dPrepared(x, prepared, b, relu != null ? acts.get(relu) : y, c.spec(), relu != null);
            } else if (relu != null) {
                backend.conv2dRelu(x, w, b, acts.get(relu), c.spec());
            } else {
                backend.conv2d(x, w, b, y, c.spec());
            }
        } else if (fusedRelus.contains(name)) {
            return; // computed by its conv
        } else if (l instanceof Layer.BatchNorm2d bn) {
            Tensor g = param(pn(name)[W]), b = param(pn(name)[B]);
            Tensor rm = param(pn(name)[MEAN]), rv = param(pn(name)[VAR]);
            ChannelSlice slice = bnSlices.get(name);
            if (slice != null) { // y is its channels of the concat's buffer, ReLU applied
                Tensor[] s = saved.get(name);
                backend.batchNormTrainReluSlice(x, g, b, rm, rv, bn.momentum(), bn.eps(), slice.buffer(), slice.c0(),
                        s[0], s[1]);
            } else if (training() && overwrittenByRelu.contains(name) && FUSED_BN_RELU) { // y: its ReLU's buffer too
                Tensor[] s = saved.get(name);
                backend.batchNormTrainRelu(x, g, b, rm, rv, bn.momentum(), bn.eps(), y, s[0], s[1]);
            } else if (training()) {
                Tensor[] s = saved.get(name);
                backend.batchNormTrain(x, g, b, rm, rv, bn.momentum(), bn.eps(), y, s[0], s[1]);
            } else {
                backend.batchNormEval(x, g, b, rm, rv, bn.eps(), y);
            }
        } else if (l instanceof Layer.Relu) {
            boolean applied = slicedRelus.contains(name) || (FUSED_BN_RELU && inPlaceRelus.contains(name));
            if (!applied) backend.relu(x, y); // else: its BatchNorm applied it
        } else if (l instanceof Layer.Clip c) {
            backend.clip(x, c.lo(), c.hi(), y);
        } else if (l instanceof Layer.MaxPool2d p) {
            backend.maxPool(x, y, p.spec());
        } else if (l instanceof Layer.AvgPool2d p) {
            backend.avgPool(x, y, p.spec());
        } else if (l instanceof Layer.GlobalAvgPool) {
            backend.globalAvgPool(x, y);
        } else if (l instanceof Layer.Linear lin) {
            backend.linear(x, param(pn(name)[W]), lin.bias() ? param(pn(name)[B]) : null, y);
        } else if (l instanceof Layer.Dropout d) {
            if (training()) {
                long seed = rng.nextLong();
                dropoutSeeds.put(name, seed);
                backend.dropout(x, d.p(), seed, saved.get(name)[0], y);
            }
        } else if (l instanceof Layer.Concat) {
            int c0 = 0;
            for (String in : n.inputs()) {
                int c = shapes.get(in).c();
                if (!inPlaceConcatInputs.contains(in)) backend.copyChannels(acts.get(in), 0, y, c0, c, false);
                c0 += c;
            }
        } else if (l instanceof Layer.Add) {
            List<String> ins = n.inputs();
            if (ins.size() == 1) {
                backend.copy(x, y);
            } else {
                backend.add(x, acts.get(ins.get(1)), y);
                for (int i = 2; i < ins.size(); i++) backend.axpy(1f, acts.get(ins.get(i)), y);
            }
        } else if (!(l instanceof Layer.Flatten || l instanceof Layer.Identity)) {
            throw new IllegalStateException("unhandled layer kind " + l.kind());
        }
    }

    /**
     * Back-propagates {@code dOutput} (host or backend tensor of the output's shape) through the graph from the
     * activations of the last {@link #forward}; adds parameter gradients into the graph's {@link ParamStore}
     * (or the backend's copies, see {@link #paramGrad}).
     */
    public void backward(Tensor dOutput) {
        if (!training()) throw new IllegalStateException("backward needs an executor in TRAINING mode");
        if (gradsToZero == null) {
            gradsToZero = gradBuffersToZero();
            findFusedReluBackward();
        }
        for (Tensor g : gradsToZero) backend.fill(g, 0f);
        Tensor gOut = grads.get(graph.outputName());
        if (dOutput.isHost() && !backend.isHost()) backend.upload(dOutput, gOut);
        else backend.copy(dOutput, gOut);
        List<Node> nodes = graph.nodes();
        try (Backend.Pass pass = backend.pass()) {
            for (int i = nodes.size() - 1; i >= 0; i--) backwardNode(nodes.get(i));
        }
    }

    /** The gradient buffers backward zeroes first: every node's own, less those {@link #gradWrittenOnce} names. */
    private List<Tensor> gradBuffersToZero() {
        gradWrittenOnce.addAll(gradsWrittenOnce());
        List<Tensor> out = new ArrayList<>();
        for (Node n : graph.nodes()) {
            Tensor g = grads.get(n.name());
            if (g != null && !isView(n.layer()) && !gradWrittenOnce.contains(n.name())) out.add(g);
        }
        return out;
    }

    private List<Tensor> gradsToZero;
    private final java.util.Set<String> gradWrittenOnce = new java.util.HashSet<>();

    /** Fills {@link #fusedReluBackward}, once {@link #gradWrittenOnce} is known. */
    private void findFusedReluBackward() {
        Map<String, Node> byName = nodesByName();
        for (String bn : overwrittenByRelu) {
            String in = byName.get(bn).inputs().get(0);
            if (grads.get(in) != null && gradWrittenOnce.contains(in)) fusedReluBackward.add(bn);
        }
    }
    /**
     * BatchNorms of {@link #overwrittenByRelu} whose input gradient exists and is written once: their backward and
     * their ReLU's run as one {@link Backend#batchNormReluBackwardInto} (while {@link #FUSED_BN_RELU_BACKWARD}).
     */
    private final java.util.Set<String> fusedReluBackward = new java.util.HashSet<>();

    /**
     * -Dnetslim.train.convDxInto=false: a conv's input gradient is zeroed and added into even where the conv is its
     * only reader (read when a plan's first backward runs; not final: probes flip it).
     */
    static boolean CONV_DX_INTO = !"false".equals(System.getProperty("netslim.train.convDxInto"));

    /**
     * Activations whose gradient buffer backward writes whole in one go, so it need not be zeroed: the graph's output
     * (the loss gradient is copied in) when nothing reads it, and a node's output read by exactly one node, not a
     * view, that is a ReLU ({@link Backend#reluBackwardInto}), a BatchNorm ({@link Backend#batchNormBackwardInto}),
     * a max pool ({@link Backend#maxPoolBackwardInto}), a Concat (its slice of the concat's gradient copied, not
     * added) or, on host backends, a conv that is no sibling group's member ({@link Backend#conv2dBackwardInto}).
     * Every other gradient is a sum of contributions and is zeroed first. On GoogLeNet this skips the zeroing of most
     * buffers: every conv's output (its BatchNorm's input), every BatchNorm's (its ReLU's input), every branch's end
     * (its concat's input) and every input of a 3x3 conv or of a pool branch's 1x1.
     */
    java.util.Set<String> gradsWrittenOnce() {
        Map<String, Integer> uses = readCounts();
        Map<String, Node> byName = nodesByName();
        java.util.Set<String> out = new java.util.HashSet<>();
        String output = graph.outputName();
        Node last = byName.get(output);
        if (last != null && !isView(last.layer()) && !uses.containsKey(output)) out.add(output);
        for (Node n : graph.nodes()) {
            Layer l = n.layer();
            boolean conv = l instanceof Layer.Conv2d && CONV_DX_INTO && backend.isHost()
                    && !trainingSiblingMembers.contains(n.name());
            if (!(l instanceof Layer.Relu || l instanceof Layer.BatchNorm2d || l instanceof Layer.Concat
                    || l instanceof Layer.MaxPool2d || conv)) continue;
            for (String in : n.inputs()) {
                Node src = byName.get(in);
                if (src == null || isView(src.layer()) || in.equals(output) || uses.get(in) != 1) continue;
                out.add(in);
            }
        }
        return out;
    }

    private final Map<String, Tensor> deviceGrads = new HashMap<>();

    /** Gradient buffer of a parameter as the backend sees it. */
    public Tensor paramGrad(String name) {
        Tensor host = graph.params().grad(name);
        if (backend.isHost()) return host;
        return deviceGrads.computeIfAbsent(name, k -> backend.allocate(host.shape()));
    }

    private Tensor gradOf(String actName) {
        return grads.get(actName); // null for the graph input: its gradient is never needed
    }

    private void backwardNode(Node n) {
        String name = n.name();
        Layer l = n.layer();
        Tensor dy = grads.get(name);
        String in0 = n.inputs().get(0);
        Tensor x = acts.get(in0);
        Tensor dx = gradOf(in0);
        if (trainingSiblingMembers.contains(name)) {
            if (trainingSiblings.containsKey(name)) siblings(name, false); // the last of the group backward reaches
        } else if (l instanceof Layer.Conv2d c) {
            Tensor w = param(pn(name)[W]), dw = paramGrad(pn(name)[W]), db = c.bias() ? paramGrad(pn(name)[B]) : null;
            if (dx != null && gradWrittenOnce.contains(in0)) { // dx written whole
                backend.conv2dBackwardInto(x, w, dy, dx, dw, db, c.spec());
            } else {
                backend.conv2dBackward(x, w, dy, dx, dw, db, c.spec());
            }
        } else if (l instanceof Layer.BatchNorm2d) {
            Tensor[] s = saved.get(name);
            ChannelSlice slice = bnSlices.get(name);
            if (slice != null) { // dy: its channels of the concat's gradient; its ReLU's backward too
                backend.batchNormReluBackwardIntoSlice(x, grads.get(slice.concat()), slice.c0(), param(pn(name)[W]),
                        param(pn(name)[B]), s[0], s[1], dx, paramGrad(pn(name)[W]), paramGrad(pn(name)[B]));
            } else if (FUSED_BN_RELU_BACKWARD && fusedReluBackward.contains(name)) { // its ReLU's backward too
                backend.batchNormReluBackwardInto(x, acts.get(name), dy, param(pn(name)[W]), param(pn(name)[B]),
                        s[0], s[1], dx, paramGrad(pn(name)[W]), paramGrad(pn(name)[B]));
            } else if (dx != null && gradWrittenOnce.contains(in0)) {
                backend.batchNormBackwardInto(x, dy, param(pn(name)[W]), s[0], s[1], dx,
                        paramGrad(pn(name)[W]), paramGrad(pn(name)[B]));
            } else {
                backend.batchNormBackward(x, dy, param(pn(name)[W]), s[0], s[1], dx,
                        paramGrad(pn(name)[W]), paramGrad(pn(name)[B]));
            }
        } else if (l instanceof Layer.Relu) {
            if (slicedRelus.contains(name)) return; // in its BatchNorm's backward
            if (FUSED_BN_RELU_BACKWARD && fusedReluBackward.contains(in0)) return; // in its BatchNorm's backward
            if (dx != null && gradWrittenOnce.contains(in0)) backend.reluBackwardInto(acts.get(name), dy, dx);
            else if (dx != null) backend.reluBackward(acts.get(name), dy, dx);
        } else if (l instanceof Layer.Clip c) {
            if (dx != null) backend.clipBackward(x, c.lo(), c.hi(), dy, dx);
        } else if (l instanceof Layer.MaxPool2d p) {
            if (dx != null && gradWrittenOnce.contains(in0)) backend.maxPoolBackwardInto(x, dy, dx, p.spec());
            else if (dx != null) backend.maxPoolBackward(x, dy, dx, p.spec());
        } else if (l instanceof Layer.AvgPool2d p) {
            if (dx != null) backend.avgPoolBackward(dy, dx, p.spec());
        } else if (l instanceof Layer.GlobalAvgPool) {
            if (dx != null) backend.globalAvgPoolBackward(dy, dx);
        } else if (l instanceof Layer.Linear lin) {
            backend.linearBackward(x, param(pn(name)[W]), dy, dx, paramGrad(pn(name)[W]),
                    lin.bias() ? paramGrad(pn(name)[B]) : null);
        } else if (l instanceof Layer.Dropout) {
            if (dx != null) backend.dropoutBackward(dy, saved.get(name)[0], dx);
        } else if (l instanceof Layer.Concat) {
            int c0 = 0;
            for (String in : n.inputs()) {
                int c = shapes.get(in).c();
                Tensor g = gradOf(in);
                if (g != null && !inPlaceConcatInputs.contains(in)) {
                    backend.copyChannels(dy, c0, g, 0, c, !gradWrittenOnce.contains(in));
                }
                c0 += c;
            }
        } else if (l instanceof Layer.Add) {
            for (String in : n.inputs()) {
                Tensor g = gradOf(in);
                if (g != null) backend.axpy(1f, dy, g);
            }
        }
        // Flatten / Identity / inference Dropout share their input's gradient buffer: nothing to do.
    }

    /** Copies device gradients into the graph's host gradients (no-op on host backends). */
    public void syncGradsToHost() {
        for (Map.Entry<String, Tensor> e : deviceGrads.entrySet()) {
            backend.download(e.getValue(), graph.params().grad(e.getKey()));
        }
    }

    @Override
    public void close() {
        if (lanes != null) for (Executor lane : lanes) lane.close();
        if (replay != null) replay.close();
        replay = null;
        if (deviceTimer != null) deviceTimer.close();
        deviceTimer = null;
        acts.clear();
        grads.clear();
        saved.clear();
        deviceParams.clear();
        deviceGrads.clear();
    }
}
