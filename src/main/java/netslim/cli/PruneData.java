package netslim.cli;

import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.data.Augmentation;
import netslim.data.ByteImageDataset;
import netslim.data.DataSpec;
import netslim.data.Loader;
import netslim.data.LoaderOptions;
import netslim.data.Split;
import netslim.nn.Graph;
import netslim.train.DataChecks;
import netslim.train.Evaluator;

/**
 * The data of a prune run: the training split (ranking batches: shuffled with the seed, not augmented; and the
 * fine-tuning set) and, when fine-tuning, the test split for top-1.
 */
final class PruneData implements AutoCloseable {
    private final ByteImageDataset train, test;
    private final Loader ranking;
    private final int batch;

    private PruneData(ByteImageDataset train, ByteImageDataset test, Loader ranking, int batch) {
        this.train = train;
        this.test = test;
        this.ranking = ranking;
        this.batch = batch;
    }

    /** {@code testLimit} &lt; 0: no test split; 0: all of it. */
    static PruneData open(DataSpec spec, Graph g, String modelName, int batch, int trainLimit, int testLimit, long seed) {
        ByteImageDataset train = spec.open(Split.TRAIN, trainLimit, g.inputShape());
        DataChecks.check(g, modelName, train);
        ByteImageDataset test = null;
        if (testLimit >= 0) {
            test = spec.open(Split.TEST, testLimit, g.inputShape());
            DataChecks.check(g, modelName, test);
        }
        int b = Math.min(batch, train.size());
        if (b < batch) {
            System.err.println("netslim: only " + train.size() + " training examples: batch size " + b);
        }
        if (b == 0) throw new NetslimException(train.name() + ": no examples");
        Loader ranking = new Loader(train, LoaderOptions.training(train, b, seed).withAugmentation(Augmentation.NONE));
        return new PruneData(train, test, ranking, b);
    }

    ByteImageDataset train() {
        return train;
    }

    ByteImageDataset test() {
        return test;
    }

    int batch() {
        return batch;
    }

    /** Ranking batches: each pass is the next epoch of the shuffled training split. */
    LoaderBatches batches() {
        return new LoaderBatches(ranking);
    }

    /** Test top-1 of {@code g}. */
    double top1(Graph g, Backend backend) {
        try (Evaluator e = new Evaluator(g, backend, batch)) {
            return e.evaluate(test, train.defaultNormalization()).top1();
        }
    }

    @Override
    public void close() {
        ranking.close();
    }
}
