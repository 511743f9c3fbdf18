package netslim.cli;

import java.util.Iterator;
import java.util.NoSuchElementException;

import netslim.data.Batch;
import netslim.data.Epoch;
import netslim.data.Loader;
import netslim.prune.LabeledBatch;

/**
 * A {@link Loader} seen as the {@code Iterable<LabeledBatch>} the pruning criteria read: each iteration walks the
 * next epoch (a fresh seeded order). A batch is valid until the next one is taken (the loader reuses its buffers),
 * which is how the criteria use them.
 */
final class LoaderBatches implements Iterable<LabeledBatch> {
    private final Loader loader;
    private int nextEpoch;

    LoaderBatches(Loader loader) {
        this.loader = loader;
    }

    @Override
    public Iterator<LabeledBatch> iterator() {
        Epoch epoch = loader.epoch(nextEpoch++);
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                boolean more = epoch.hasNext();
                if (!more) epoch.close();
                return more;
            }

            @Override
            public LabeledBatch next() {
                if (!epoch.hasNext()) throw new NoSuchElementException();
                Batch b = epoch.next();
                return new LabeledBatch(b.x(), b.labels());
            }
        };
    }
}
