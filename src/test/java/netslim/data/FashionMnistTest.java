package netslim.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import netslim.tensor.Shape;

/**
 * The real Fashion-MNIST of the Debian package dataset-fashion-mnist (installed on the development machines and by
 * CI): the default spec finds it, and shapes, labels and pixel statistics are what the dataset is known to have.
 */
class FashionMnistTest {
    @Test
    void readsTheInstalledDataset() {
        DataSpec spec = DataSpec.parse("fashion-mnist");
        ByteImageDataset train = spec.open(Split.TRAIN, 1000, null), test = spec.open(Split.TEST, 100, null);
        assertEquals(1000, train.size());
        assertEquals(100, test.size());
        for (ByteImageDataset d : new ByteImageDataset[] {train, test}) {
            assertEquals(1, d.channels());
            assertEquals(28, d.height());
            assertEquals(28, d.width());
            assertEquals(10, d.numClasses());
            boolean[] seen = new boolean[10];
            for (int i = 0; i < 100; i++) seen[d.label(i)] = true;
            int classes = 0;
            for (boolean s : seen) classes += s ? 1 : 0;
            assertTrue(classes >= 8, d.name() + ": only " + classes + " classes in the first 100 labels");
        }
        // The published training-set mean is 0.2860; 1000 images are a good enough sample for ±0.05.
        double sum = 0, sumSq = 0;
        float[] px = new float[784];
        for (int i = 0; i < train.size(); i++) {
            train.copyPixels(i, px, 0);
            for (float v : px) {
                sum += v;
                sumSq += v * v;
            }
        }
        double n = 784.0 * train.size(), mean = sum / n, std = Math.sqrt(sumSq / n - mean * mean);
        assertEquals(0.286, mean, 0.05, "pixel mean");
        assertEquals(0.353, std, 0.05, "pixel std");
        assertEquals(Normalization.FASHION_MNIST, train.defaultNormalization());
    }

    @Test
    void aTrainingBatchIsNormalisedNearZeroMean() {
        ByteImageDataset train = DataSpec.parse("fashion-mnist").open(Split.TRAIN, 512, null);
        try (Loader loader = new Loader(train, LoaderOptions.training(train, 256, 7)); Epoch it = loader.epoch(0)) {
            Batch b = it.next();
            assertEquals(Shape.of(256, 1, 28, 28), b.x().shape());
            double sum = 0;
            for (float v : b.x().toArray()) sum += v;
            // zero padding adds black pixels (normalised to −0.81), so the mean sits a little below 0
            double mean = sum / b.x().size();
            assertTrue(mean > -0.3 && mean < 0.2, "normalised batch mean " + mean);
        }
    }
}
