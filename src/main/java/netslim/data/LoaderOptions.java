package netslim.data;

import netslim.NetslimException;

/**
 * How a {@link Loader} walks a dataset. {@link #training} and {@link #evaluation} give the defaults (training:
 * shuffled, drop-last, the size's default augmentation; evaluation: in order, every example, no augmentation); the
 * {@code with…} methods change one field, for the CLI flags.
 *
 * @param batchSize     examples per batch
 * @param shuffle       a fresh seeded permutation each epoch (else dataset order)
 * @param dropLast      skip the last batch when it is partial (else return it with fewer rows)
 * @param augmentation  random crop / flip ({@link Augmentation#NONE} for none)
 * @param normalization per-channel mean / std (one value broadcasts to every channel)
 * @param seed          with the epoch number, fixes the order and every augmentation draw
 * @param prefetch      prepare the next batch on a background thread while the caller uses the current one
 */
public record LoaderOptions(int batchSize, boolean shuffle, boolean dropLast, Augmentation augmentation,
        Normalization normalization, long seed, boolean prefetch) {

    public LoaderOptions {
        if (batchSize <= 0) throw new NetslimException("batch size must be positive, got " + batchSize);
        java.util.Objects.requireNonNull(augmentation);
        java.util.Objects.requireNonNull(normalization);
    }

    /** Training defaults for {@code data}: shuffle, drop-last, {@link Augmentation#defaultFor} its size, prefetch. */
    public static LoaderOptions training(Dataset data, int batchSize, long seed) {
        return new LoaderOptions(batchSize, true, true, Augmentation.defaultFor(data.height(), data.width()),
                data.defaultNormalization(), seed, true);
    }

    /** Evaluation defaults for {@code data}: dataset order, every example (last batch partial), no augmentation. */
    public static LoaderOptions evaluation(Dataset data, int batchSize) {
        return new LoaderOptions(batchSize, false, false, Augmentation.NONE, data.defaultNormalization(), 0, true);
    }

    public LoaderOptions withShuffle(boolean v) {
        return new LoaderOptions(batchSize, v, dropLast, augmentation, normalization, seed, prefetch);
    }

    public LoaderOptions withDropLast(boolean v) {
        return new LoaderOptions(batchSize, shuffle, v, augmentation, normalization, seed, prefetch);
    }

    public LoaderOptions withAugmentation(Augmentation v) {
        return new LoaderOptions(batchSize, shuffle, dropLast, v, normalization, seed, prefetch);
    }

    public LoaderOptions withNormalization(Normalization v) {
        return new LoaderOptions(batchSize, shuffle, dropLast, augmentation, v, seed, prefetch);
    }

    public LoaderOptions withSeed(long v) {
        return new LoaderOptions(batchSize, shuffle, dropLast, augmentation, normalization, v, prefetch);
    }

    public LoaderOptions withPrefetch(boolean v) {
        return new LoaderOptions(batchSize, shuffle, dropLast, augmentation, normalization, seed, v);
    }
}
