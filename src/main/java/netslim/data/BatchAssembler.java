package netslim.data;

import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Fills one batch buffer: copy each example's pixels, augment (with draws from a generator derived from
 * (seed, epoch, position in the epoch), so the result does not depend on which thread runs it or when), then
 * normalise in place. Used by one thread at a time: its scratch image is reused for every example.
 */
final class BatchAssembler {
    /** Stream tags for {@link Seeds#derive}: the epoch order and the per-example augmentation draws. */
    static final long ORDER_STREAM = 0, AUGMENT_STREAM = 1;

    private final Dataset data;
    private final Augmentation augmentation;
    private final long seed;
    private final float[] scale, bias; // x·scale[c] + bias[c] = (x − mean[c]) / std[c]
    private final float[] scratch;     // one example before augmentation, (C, H, W)

    BatchAssembler(Dataset data, Augmentation augmentation, Normalization normalization, long seed) {
        this.data = data;
        this.augmentation = augmentation;
        this.seed = seed;
        Normalization n = normalization.forChannels(data.channels());
        scale = new float[data.channels()];
        bias = new float[data.channels()];
        for (int c = 0; c < scale.length; c++) {
            scale[c] = 1f / n.std(c);
            bias[c] = -n.mean(c) / n.std(c);
        }
        scratch = new float[data.exampleSize()];
    }

    /** Fills {@code buf} with the examples {@code order[start, start + n)} of {@code epoch}. */
    void fill(Buffer buf, int[] order, int epoch, int start, int n) {
        int c = data.channels(), h = data.height(), w = data.width(), plane = h * w, ex = c * plane;
        int[] labels = buf.labels(n), indices = buf.indices(n);
        for (int k = 0; k < n; k++) {
            int pos = start + k, idx = order[pos], off = k * ex;
            labels[k] = data.label(idx);
            indices[k] = idx;
            if (augmentation.enabled()) {
                data.copyPixels(idx, scratch, 0);
                Rng rng = Seeds.derive(seed, AUGMENT_STREAM, epoch, pos);
                augmentation.apply(scratch, 0, buf.data, off, c, h, w, rng);
            } else {
                data.copyPixels(idx, buf.data, off);
            }
            for (int ch = 0; ch < c; ch++) {
                float s = scale[ch], b = bias[ch];
                for (int i = off + ch * plane, end = i + plane; i < end; i++) buf.data[i] = buf.data[i] * s + b;
            }
        }
    }

    /**
     * One reusable batch: the pixel array with its full-size tensor and label / index arrays, plus views of the
     * same memory for the one partial batch size an epoch can end with, so no batch allocates arrays.
     */
    static final class Buffer {
        final float[] data;
        final Tensor full, partial;
        final int[] labels, partialLabels, indices, partialIndices;

        Buffer(int batchSize, int partialSize, int c, int h, int w) {
            data = new float[batchSize * c * h * w];
            full = Tensor.of(Shape.of(batchSize, c, h, w), data);
            partial = new Tensor(Shape.of(partialSize, c, h, w), full.storage(), 0);
            labels = new int[batchSize];
            indices = new int[batchSize];
            partialLabels = new int[partialSize];
            partialIndices = new int[partialSize];
        }

        Tensor x(int n) {
            return isFull(n) ? full : partial;
        }

        int[] labels(int n) {
            return isFull(n) ? labels : partialLabels;
        }

        int[] indices(int n) {
            return isFull(n) ? indices : partialIndices;
        }

        private boolean isFull(int n) {
            if (n != labels.length && n != partialLabels.length) {
                throw new IllegalStateException("batch of " + n + " rows in a buffer for " + labels.length + " or "
                        + partialLabels.length);
            }
            return n == labels.length;
        }
    }
}
