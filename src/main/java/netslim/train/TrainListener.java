package netslim.train;

import java.nio.file.Path;

/** Callbacks from a {@link Trainer} on its own thread (progress bars, logs, tests that stop a run midway). */
public interface TrainListener {
    /** Epoch {@code epoch} (0-based) starts, or resumes at batch {@code firstBatch}. */
    default void epochStarted(int epoch, int epochs, int batches, int firstBatch) {
    }

    /** A step finished. */
    default void stepDone(StepInfo step) {
    }

    /** The epoch's steps are done; the test set is being evaluated. */
    default void evaluating(int epoch) {
    }

    default void epochFinished(EpochMetrics metrics) {
    }

    default void checkpointSaved(Path file, TrainState state) {
    }

    /** One SGD step: where it was, its loss, and the running totals of its epoch. */
    record StepInfo(int epoch, int epochs, int step, int batches, long globalStep, double lr, double loss,
            EpochProgress progress) {
    }
}
