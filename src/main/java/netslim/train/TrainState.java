package netslim.train;

import java.util.List;
import java.util.Map;

/**
 * Where a training run stands at a step boundary: everything besides the weights and optimiser tensors that a
 * resumed run needs to continue bit for bit. Saved as {@code train_state.json} in a checkpoint.
 *
 * @param config       the run's settings
 * @param epoch        the epoch in progress (0-based); {@code config.epochs()} when the run is complete
 * @param stepInEpoch  batches of that epoch already done (0 at an epoch boundary)
 * @param globalStep   SGD steps done since the start of the run: the LR schedule position
 * @param lr           learning rate of the last step taken (informational; the schedule gives the next)
 * @param executorRng  state of the training executor's generator (dropout seeds)
 * @param progress     running totals of the epoch in progress
 * @param history      one entry per finished epoch
 * @param run          free-form description of the run (model, data spec, limits), checked on resume
 */
public record TrainState(TrainConfig config, int epoch, int stepInEpoch, long globalStep, double lr,
        long executorRng, EpochProgress progress, List<EpochMetrics> history, Map<String, String> run) {

    public TrainState {
        history = List.copyOf(history);
        run = Map.copyOf(run);
    }

    /** The state before the first step. */
    public static TrainState start(TrainConfig config, Map<String, String> run) {
        return new TrainState(config, 0, 0, 0, 0, ExecutorSeeds.initial(config.seed()), EpochProgress.EMPTY,
                List.of(), run);
    }

    public boolean complete() {
        return epoch >= config.epochs();
    }

    /** The loader draws of epoch e come from (seed, e): recorded for readers of the checkpoint. */
    public long loaderSeed() {
        return config.seed();
    }
}
