package netslim.train;

import java.util.List;

/**
 * The outcome of {@link Trainer#train()}.
 *
 * @param state      where training stands (complete, or where a stop request left it)
 * @param test       the final model on the test set (null without a test set, or when stopped)
 * @param seconds    wall time of this call, evaluation included
 * @param imagesPerS training throughput over the finished epochs' steps (all runs of a resumed training)
 * @param stopped    true when {@link Trainer#requestStop()} ended the run before the last epoch
 */
public record TrainResult(TrainState state, EvalResult test, double seconds, double imagesPerS, boolean stopped) {
    public List<EpochMetrics> history() {
        return state.history();
    }
}
