package netslim.train;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import netslim.NetslimException;
import netslim.io.Npy;
import netslim.io.Nsm;
import netslim.nn.Graph;
import netslim.tensor.Tensor;

/**
 * Training checkpoints: a .nsm model file (so {@link Nsm#load} opens it as a plain model) plus
 * {@value #STATE_ENTRY} ({@link TrainState}) and one optimiser tensor per parameter under
 * {@code optim/<param>.npy}. Written atomically by {@link Nsm#save(Graph, Path, Map)}: a crash or a Ctrl-C while
 * writing leaves the previous checkpoint as it was.
 */
public final class Checkpoint {
    public static final String STATE_ENTRY = "train_state.json";
    public static final String OPTIM_PREFIX = "optim/";

    private Checkpoint() {
    }

    /** A checkpoint read back: the model with its weights, where training stood, and the optimiser velocities. */
    public record Loaded(Graph graph, TrainState state, Map<String, Tensor> velocities) {
    }

    /** The entry of the velocity of parameter {@code param}. */
    public static String optimEntry(String param) {
        return OPTIM_PREFIX + param + ".npy";
    }

    public static void save(Path file, Graph graph, TrainState state, Map<String, Tensor> velocities) {
        Map<String, byte[]> extra = new LinkedHashMap<>();
        extra.put(STATE_ENTRY, TrainStateJson.encode(state));
        for (Map.Entry<String, Tensor> e : velocities.entrySet()) extra.put(optimEntry(e.getKey()), Npy.toBytes(e.getValue()));
        Nsm.save(graph, file, extra);
    }

    /** Whether {@code file} is a .nsm with a training state (false for a plain model). */
    public static boolean isCheckpoint(Path file) {
        return Nsm.entryNames(file).contains(STATE_ENTRY);
    }

    /** Reads a checkpoint; a plain model file is a one-line error. */
    public static Loaded load(Path file) {
        Graph g = Nsm.load(file);
        byte[] state = Nsm.readEntry(file, STATE_ENTRY).orElseThrow(() -> new NetslimException(
                file + ": a model file without " + STATE_ENTRY + ", not a training checkpoint (nothing to resume)"));
        TrainState s = TrainStateJson.decode(state, file.toString());
        Map<String, Tensor> velocities = new LinkedHashMap<>();
        for (String entry : Nsm.entryNames(file)) {
            if (!entry.startsWith(OPTIM_PREFIX) || !entry.endsWith(".npy")) continue;
            String param = entry.substring(OPTIM_PREFIX.length(), entry.length() - 4);
            byte[] bytes = Nsm.readEntry(file, entry).orElseThrow();
            velocities.put(param, Npy.fromBytes(bytes, file + ": " + entry));
        }
        return new Loaded(g, s, velocities);
    }
}
