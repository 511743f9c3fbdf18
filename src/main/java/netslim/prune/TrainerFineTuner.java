package netslim.prune;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

import netslim.backend.Backend;
import netslim.data.Dataset;
import netslim.nn.Graph;
import netslim.train.TrainConfig;
import netslim.train.TrainResult;
import netslim.train.Trainer;

/**
 * Fine-tuning between pruning rounds with the {@link Trainer}: {@code config.epochs()} epochs of SGD on the
 * compacted model of each round (weights trained in place), then its test top-1, which {@link #top1} keeps per round.
 * A lower learning rate than training from scratch (e.g. 0.1× the base LR) keeps what the pruned model still knows.
 */
public final class TrainerFineTuner implements FineTuner {
    private final Backend backend;
    private final Dataset train, test;
    private final TrainConfig config;
    private final String modelName;
    private final Consumer<String> log;
    private final List<Double> top1 = new ArrayList<>();

    /** {@code test} may be null (then no accuracy is measured). */
    public TrainerFineTuner(Backend backend, Dataset train, Dataset test, TrainConfig config, String modelName,
                            Consumer<String> log) {
        this.backend = backend;
        this.train = train;
        this.test = test;
        this.config = config;
        this.modelName = modelName;
        this.log = log;
    }

    @Override
    public Graph fineTune(Graph graph, int round, int rounds) {
        String name = String.format(Locale.ROOT, "%s (pruned, round %d/%d)", modelName, round, rounds);
        try (Trainer t = new Trainer(graph, name, backend, train, test, config, Map.of("command", "prune"))) {
            TrainResult r = t.train();
            double acc = r.test() == null ? Double.NaN : r.test().top1();
            top1.add(acc);
            log.accept(String.format(Locale.ROOT, "round %d/%d: fine-tuned %d epoch(s) in %.1f s, last train loss %.4f"
                    + (Double.isNaN(acc) ? "" : ", test top-1 %.2f %%"), round, rounds, config.epochs(), r.seconds(),
                    r.history().get(r.history().size() - 1).trainLoss(), 100 * acc));
        }
        return graph;
    }

    /** Test top-1 after each round's fine-tuning (NaN without a test set). */
    public List<Double> top1() {
        return List.copyOf(top1);
    }
}
