package netslim.data;

import netslim.NetslimException;

/**
 * Batches of a {@link Dataset} for training or evaluation: seeded shuffling, augmentation, normalisation, and a
 * prefetch thread (see {@link LoaderOptions}). Epoch e's order and augmentation draws come from generators derived
 * from (seed, e) alone, so {@code epoch(e)} gives the same batches in any run, resumed or not, with or without
 * prefetch. The batch buffers are allocated once here and reused by every epoch.
 *
 * <pre>{@code
 * try (Loader loader = new Loader(train, LoaderOptions.training(train, 128, seed))) {
 *     for (int e = 0; e < epochs; e++) {
 *         try (Epoch batches = loader.epoch(e)) {
 *             while (batches.hasNext()) { Batch b = batches.next(); ... b.x(), b.labels() ... }
 *         }
 *     }
 * }
 * }</pre>
 */
public final class Loader implements AutoCloseable {
    private final Dataset data;
    private final LoaderOptions options;
    private final BatchAssembler assembler;
    private final BatchAssembler.Buffer[] buffers;
    private final int numBatches;
    private Epoch open;

    public Loader(Dataset data, LoaderOptions options) {
        int n = data.size(), b = options.batchSize();
        if (n == 0) throw new NetslimException(data.name() + ": no examples");
        if (options.dropLast() && n < b) {
            throw new NetslimException(data.name() + ": " + n + " examples are fewer than one batch of " + b
                    + " (use a smaller batch size)");
        }
        this.data = data;
        this.options = options;
        this.numBatches = options.dropLast() ? n / b : (n + b - 1) / b;
        this.assembler = new BatchAssembler(data, options.augmentation(), options.normalization(), options.seed());
        int partial = options.dropLast() || n % b == 0 ? b : n % b;
        buffers = new BatchAssembler.Buffer[options.prefetch() ? 2 : 1];
        for (int i = 0; i < buffers.length; i++) {
            buffers[i] = new BatchAssembler.Buffer(Math.min(b, n), Math.min(partial, n), data.channels(), data.height(),
                    data.width());
        }
    }

    public Dataset dataset() {
        return data;
    }

    public LoaderOptions options() {
        return options;
    }

    /** Batches per epoch: ⌊n / B⌋ with drop-last, else ⌈n / B⌉. */
    public int batchesPerEpoch() {
        return numBatches;
    }

    /** Examples per epoch (n, less the dropped partial batch). */
    public int examplesPerEpoch() {
        return options.dropLast() ? numBatches * options.batchSize() : data.size();
    }

    /** The example order of epoch {@code e}: a permutation from Rng(seed, e) when shuffling, else 0, 1, …, n − 1. */
    public int[] order(int epoch) {
        if (options.shuffle()) return Seeds.derive(options.seed(), BatchAssembler.ORDER_STREAM, epoch).permutation(data.size());
        int[] order = new int[data.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        return order;
    }

    /** Starts epoch {@code e} (closing the previous one if the caller left it open). */
    public Epoch epoch(int epoch) {
        if (epoch < 0) throw new IllegalArgumentException("epoch must be ≥ 0, got " + epoch);
        close();
        open = new Epoch(epoch, order(epoch), numBatches, options.batchSize(), assembler, buffers, options.prefetch());
        return open;
    }

    /** Stops the current epoch's prefetch thread, if any. The loader can start another epoch afterwards. */
    @Override
    public void close() {
        if (open != null) open.close();
        open = null;
    }
}
