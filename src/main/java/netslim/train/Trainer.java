package netslim.train;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.data.Augmentation;
import netslim.data.Batch;
import netslim.data.Dataset;
import netslim.data.Epoch;
import netslim.data.Loader;
import netslim.data.LoaderOptions;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.tensor.Rng;
import netslim.tensor.Tensor;

/**
 * Trains a classifier graph with SGD ({@link Sgd}) on a {@link Dataset}: a TRAINING-mode {@link Executor}, softmax
 * cross-entropy with optional label smoothing, the {@link LrSchedule} stepped per batch, an evaluation of the test
 * set and a {@link Checkpoint} after every epoch.
 *
 * <p>Determinism: the data order and augmentation of epoch e depend only on (seed, e) ({@link Loader}); the LR only
 * on the global step; dropout masks on the executor's {@link Rng}, whose state is checkpointed. So a run stopped at
 * any step boundary ({@link #requestStop()}, e.g. from a Ctrl-C hook) and resumed from its checkpoint performs the
 * same arithmetic as an uninterrupted one: on the CPU backend with the same thread count the final weights are
 * bit-identical.
 *
 * <p>Guards: a NaN or infinite loss, or (host backends) gradient, stops training with a {@link NonFiniteException}
 * naming the epoch and step, before the update; no checkpoint is written, so the last good one stays as it was.
 */
public final class Trainer implements AutoCloseable {
    private final Graph graph;
    private final Backend backend;
    private final Dataset test;
    private final TrainConfig config;
    private final Loader loader;
    private final TrainStep trainStep;
    private final Executor executor;
    private final Sgd sgd;
    private final Evaluator evaluator;
    private final LrSchedule schedule;
    private final Tensor hostProbs;
    private TrainListener listener = new TrainListener() { };
    private Path checkpointFile;
    private TrainState state;
    private TrainState lastSaved;
    private volatile boolean stopRequested;

    /**
     * Sets up a run; {@code test} may be null (no evaluation). Checks the data against the model first
     * ({@link DataChecks}). The graph's weights are trained in place.
     */
    public Trainer(Graph graph, String modelName, Backend backend, Dataset train, Dataset test, TrainConfig config,
            Map<String, String> run) {
        DataChecks.check(graph, modelName, train);
        if (test != null) DataChecks.check(graph, modelName, test);
        this.graph = graph;
        this.backend = backend;
        this.test = test;
        this.config = config;
        Augmentation aug = config.augmentation() != null ? config.augmentation()
                : Augmentation.defaultFor(train.height(), train.width());
        this.loader = new Loader(train, LoaderOptions.training(train, config.batchSize(), config.seed())
                .withAugmentation(aug));
        this.trainStep = new TrainStep(graph, backend, config);
        this.executor = trainStep.executor();
        this.sgd = trainStep.sgd();
        this.evaluator = test == null ? null : new Evaluator(graph, backend, config.batchSize());
        this.schedule = LrSchedule.of(config, loader.batchesPerEpoch());
        Tensor probs = trainStep.probs();
        this.hostProbs = backend.isHost() ? probs : Tensor.zeros(probs.shape());
        this.state = TrainState.start(config, run);
    }

    public Trainer listener(TrainListener l) {
        this.listener = l;
        return this;
    }

    /** Writes a checkpoint to {@code file} after every epoch and when stopped (null: never). */
    public Trainer checkpointTo(Path file) {
        this.checkpointFile = file;
        return this;
    }

    /** Continues from a checkpoint whose graph is this trainer's graph (its weights are already in it). */
    public Trainer resume(Checkpoint.Loaded ck, String source) {
        if (ck.graph() != graph) throw new IllegalArgumentException("resume: the trainer must train the checkpoint's graph");
        if (!ck.state().config().equals(config)) {
            throw new IllegalArgumentException("resume: the trainer's config differs from the checkpoint's");
        }
        if (ck.state().stepInEpoch() > loader.batchesPerEpoch()) {
            throw new NetslimException(source + ": stopped after step " + ck.state().stepInEpoch() + " of an epoch, "
                    + "but the data now has " + loader.batchesPerEpoch() + " batches per epoch (different data?)");
        }
        sgd.loadVelocities(ck.velocities(), source);
        this.state = ck.state();
        this.lastSaved = ck.state();
        return this;
    }

    public LrSchedule schedule() {
        return schedule;
    }

    public int batchesPerEpoch() {
        return loader.batchesPerEpoch();
    }

    public TrainState state() {
        return state;
    }

    /** Asks the loop to stop at the next step boundary and checkpoint there; safe from any thread. */
    public void requestStop() {
        stopRequested = true;
    }

    /** Trains until the configured epochs are done or a stop is requested. */
    public TrainResult train() {
        long t0 = System.nanoTime();
        executor.setRng(new Rng(state.executorRng()));
        while (!state.complete()) {
            if (!runEpoch()) {
                return new TrainResult(state, null, seconds(t0), throughput(), true);
            }
        }
        executor.syncParamsToHost(); // the graph holds the trained weights even without a test set or checkpoint
        EvalResult last = null;
        if (evaluator != null) last = evaluate();
        return new TrainResult(state, last, seconds(t0), throughput(), false);
    }

    /** Runs (the rest of) the current epoch; false when a stop request ended it early (checkpoint written). */
    private boolean runEpoch() {
        int e = state.epoch(), batches = loader.batchesPerEpoch();
        listener.epochStarted(e, config.epochs(), batches, state.stepInEpoch());
        EpochProgress progress = state.progress();
        long globalStep = state.globalStep();
        double lr = state.lr();
        try (Epoch it = loader.epoch(e)) {
            for (int k = 0; k < state.stepInEpoch(); k++) it.next(); // the batches done before the stop
            for (int k = state.stepInEpoch(); it.hasNext(); k++) {
                if (stopRequested) {
                    state = new TrainState(config, e, k, globalStep, lr, executor.rng().state(), progress,
                            state.history(), state.run());
                    save();
                    return false;
                }
                long s0 = System.nanoTime();
                Batch b = it.next();
                lr = schedule.at(globalStep);
                double loss = step(b, lr, e, k, batches, globalStep);
                progress = progress.add(b.size(), correct(b), loss, seconds(s0));
                globalStep++;
                listener.stepDone(new TrainListener.StepInfo(e, config.epochs(), k + 1, batches, globalStep, lr, loss,
                        progress));
            }
        }
        listener.evaluating(e);
        EvalResult r = evaluator == null ? null : evaluate();
        EpochMetrics m = new EpochMetrics(e + 1, progress.meanLoss(), progress.accuracy(),
                r == null ? Double.NaN : r.top1(), r == null ? Double.NaN : r.top5(), r == null ? Double.NaN : r.loss(),
                lr, progress.seconds(), progress.imagesPerS());
        List<EpochMetrics> history = new ArrayList<>(state.history());
        history.add(m);
        state = new TrainState(config, e + 1, 0, globalStep, lr, executor.rng().state(), EpochProgress.EMPTY, history,
                state.run());
        save();
        listener.epochFinished(m);
        return true;
    }

    /** Forward, loss, backward, guards, update ({@link TrainStep}'s phases). Returns the batch's loss. */
    private double step(Batch b, double lr, int epoch, int k, int batches, long globalStep) {
        float loss = trainStep.forwardLoss(b.x(), b.labels());
        if (!Float.isFinite(loss)) {
            throw diverged("loss is " + loss, epoch, k, batches, globalStep, lr);
        }
        trainStep.backward(b.labels());
        String bad = sgd.firstNonFiniteGradient();
        if (bad != null) {
            throw diverged(String.format(Locale.ROOT, "the gradient of %s is not finite (loss %.4g)", bad, loss),
                    epoch, k, batches, globalStep, lr);
        }
        trainStep.update(lr);
        return loss;
    }

    private NonFiniteException diverged(String what, int epoch, int k, int batches, long globalStep, double lr) {
        String kept = checkpointFile == null ? "no checkpoint was being written"
                : lastSaved == null ? "no checkpoint was written yet"
                : "the last checkpoint " + checkpointFile + " (" + where(lastSaved) + ") is unchanged";
        return new NonFiniteException(String.format(Locale.ROOT,
                "training diverged at epoch %d/%d, step %d/%d (global step %d, lr %.4g): %s; stopped, %s",
                epoch + 1, config.epochs(), k + 1, batches, globalStep + 1, lr, what, kept));
    }

    /** "after epoch 2" or "epoch 3, step 17". */
    static String where(TrainState s) {
        if (s.stepInEpoch() == 0) return "after epoch " + s.epoch();
        return "epoch " + (s.epoch() + 1) + ", step " + s.stepInEpoch();
    }

    private int correct(Batch b) {
        if (!backend.isHost()) backend.download(trainStep.probs(), hostProbs);
        int right = 0;
        for (int i = 0; i < b.size(); i++) if (Evaluator.argmax(hostProbs, i) == b.labels()[i]) right++;
        return right;
    }

    private EvalResult evaluate() {
        executor.syncParamsToHost();
        evaluator.syncParams();
        return evaluator.evaluate(test, loader.options().normalization());
    }

    private void save() {
        if (checkpointFile == null) return;
        executor.syncParamsToHost();
        Checkpoint.save(checkpointFile, graph, state, sgd.velocities());
        lastSaved = state;
        listener.checkpointSaved(checkpointFile, state);
    }

    private double throughput() {
        double secs = 0, seen = 0;
        for (EpochMetrics m : state.history()) {
            secs += m.seconds();
            seen += m.imagesPerS() * m.seconds();
        }
        return secs > 0 ? seen / secs : 0;
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    @Override
    public void close() {
        loader.close();
        trainStep.close();
        if (evaluator != null) evaluator.close();
    }
}
