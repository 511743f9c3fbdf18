package netslim.train;

/**
 * What one finished epoch measured; the history in a checkpoint is a list of these. Test figures are NaN when the
 * run has no test set.
 *
 * @param epoch         1-based epoch number
 * @param trainLoss     mean training loss over the epoch's steps (with label smoothing when on)
 * @param trainAccuracy fraction of training examples whose argmax was right (augmented, in training mode)
 * @param lr            learning rate of the epoch's last step
 * @param seconds       wall time of the epoch's steps, evaluation excluded (summed over resumed parts)
 * @param imagesPerS    training examples per second over those steps
 */
public record EpochMetrics(int epoch, double trainLoss, double trainAccuracy, double testTop1, double testTop5,
        double testLoss, double lr, double seconds, double imagesPerS) {
}
