package netslim.train;

/**
 * Running totals of the epoch in progress. Saved with a mid-epoch checkpoint so that a resumed epoch reports the
 * same loss and accuracy as an uninterrupted one.
 */
public record EpochProgress(int steps, long seen, long correct, double lossSum, double seconds) {
    public static final EpochProgress EMPTY = new EpochProgress(0, 0, 0, 0, 0);

    public EpochProgress add(int n, int right, double loss, double secs) {
        return new EpochProgress(steps + 1, seen + n, correct + right, lossSum + loss, seconds + secs);
    }

    public double meanLoss() {
        return steps == 0 ? Double.NaN : lossSum / steps;
    }

    public double accuracy() {
        return seen == 0 ? Double.NaN : correct / (double) seen;
    }

    public double imagesPerS() {
        return seconds > 0 ? seen / seconds : 0;
    }
}
