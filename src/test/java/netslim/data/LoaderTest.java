package netslim.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import netslim.NetslimException;
import netslim.tensor.Shape;
import netslim.testing.Close;

/** Loader: seeded permutations, batching and drop-last, normalisation, augmentation, prefetch equivalence. */
class LoaderTest {
    static final int N = 23, C = 3, H = 5, W = 6, CLASSES = 4;
    static final ByteImageDataset DATA = new ByteImageDataset("synthetic", C, H, W,
            DataFixtures.randomBytes(N * C * H * W, 31), DataFixtures.randomLabels(N, CLASSES, 32),
            List.of("a", "b", "c", "d"), Normalization.parse("0.4,0.5,0.6/0.2,0.25,0.3"));

    static LoaderOptions training(boolean prefetch) {
        return LoaderOptions.training(DATA, 5, 1234).withAugmentation(new Augmentation(2, true)).withPrefetch(prefetch);
    }

    /** Copies of every batch of an epoch: (x values, labels, indices). */
    record Copied(float[] x, Shape shape, int[] labels, int[] indices) {
    }

    static List<Copied> collect(Loader loader, int epoch) {
        List<Copied> out = new ArrayList<>();
        try (Epoch it = loader.epoch(epoch)) {
            while (it.hasNext()) {
                Batch b = it.next();
                assertEquals(out.size(), b.index());
                out.add(new Copied(b.x().toArray(), b.x().shape(), b.labels().clone(), b.indices().clone()));
            }
        }
        return out;
    }

    @Test
    void orderIsAPermutationReproducibleBySeedAndEpoch() {
        try (Loader a = new Loader(DATA, training(true)); Loader b = new Loader(DATA, training(false))) {
            int[] e0 = a.order(0);
            int[] sorted = e0.clone();
            Arrays.sort(sorted);
            for (int i = 0; i < N; i++) assertEquals(i, sorted[i], "a permutation of 0..n-1");
            assertArrayEquals(e0, b.order(0), "same (seed, epoch), same order");
            assertArrayEquals(a.order(7), b.order(7));
            assertFalse(Arrays.equals(e0, a.order(1)), "epochs differ");
            try (Loader other = new Loader(DATA, training(true).withSeed(99))) {
                assertFalse(Arrays.equals(e0, other.order(0)), "seeds differ");
            }
        }
        try (Loader eval = new Loader(DATA, LoaderOptions.evaluation(DATA, 5))) {
            for (int i = 0; i < N; i++) assertEquals(i, eval.order(3)[i], "evaluation keeps dataset order");
        }
    }

    @ParameterizedTest(name = "prefetch={0}")
    @ValueSource(booleans = {false, true})
    void batchesFollowTheOrderAndKeepLabels(boolean prefetch) {
        try (Loader loader = new Loader(DATA, training(prefetch))) {
            List<Copied> batches = collect(loader, 2);
            assertEquals(4, batches.size(), "23 examples, batch 5, drop-last: 4 batches");
            int[] order = loader.order(2);
            int pos = 0;
            for (Copied b : batches) {
                assertEquals(Shape.of(5, C, H, W), b.shape());
                for (int k = 0; k < b.labels().length; k++, pos++) {
                    assertEquals(order[pos], b.indices()[k], "batch rows follow the epoch order");
                    assertEquals(DATA.label(b.indices()[k]), b.labels()[k], "augmentation keeps labels");
                }
            }
            assertEquals(20, pos);
        }
    }

    @Test
    void evaluationReturnsTheLastPartialBatch() {
        try (Loader loader = new Loader(DATA, LoaderOptions.evaluation(DATA, 5))) {
            List<Copied> batches = collect(loader, 0);
            assertEquals(5, batches.size());
            assertEquals(Shape.of(3, C, H, W), batches.get(4).shape());
            assertArrayEquals(new int[] {20, 21, 22}, batches.get(4).indices());
            assertEquals(N, loader.examplesPerEpoch());
        }
        assertThrows(NetslimException.class, () -> new Loader(DATA, LoaderOptions.training(DATA, 24, 0)),
                "drop-last with fewer examples than a batch leaves no batch");
        try (Loader one = new Loader(DATA, LoaderOptions.evaluation(DATA, 24))) {
            assertEquals(Shape.of(N, C, H, W), collect(one, 0).get(0).shape(), "evaluation: one short batch");
        }
    }

    @Test
    void normalisationIsApplied() {
        try (Loader loader = new Loader(DATA, LoaderOptions.evaluation(DATA, 8).withPrefetch(false))) {
            float[] mean = {0.4f, 0.5f, 0.6f}, std = {0.2f, 0.25f, 0.3f};
            for (Copied b : collect(loader, 0)) {
                float[] expected = new float[b.x().length];
                for (int k = 0; k < b.indices().length; k++) {
                    for (int e = 0; e < C * H * W; e++) {
                        int c = e / (H * W);
                        expected[k * C * H * W + e] = (DATA.pixelByte(b.indices()[k], e) / 255f - mean[c]) / std[c];
                    }
                }
                // x·(1/std) − mean/std rounds differently from (x − mean)/std by a few ulps
                Close.assertClose(b.x(), expected, 1e-6, 1e-6, "normalised batch");
            }
        }
    }

    @Test
    void prefetchGivesTheSameBatchesAsDirectIteration() {
        try (Loader pre = new Loader(DATA, training(true)); Loader direct = new Loader(DATA, training(false))) {
            for (int e = 0; e < 3; e++) assertSameBatches(collect(direct, e), collect(pre, e), "epoch " + e);
        }
    }

    @Test
    void anEpochIsReproducedAloneAsAfterAResume() {
        List<Copied> third;
        try (Loader full = new Loader(DATA, training(true))) {
            collect(full, 0);
            collect(full, 1);
            third = collect(full, 2);
            assertFalse(Arrays.equals(third.get(0).x(), collect(full, 1).get(0).x()), "epochs differ");
        }
        try (Loader resumed = new Loader(DATA, training(true))) {
            assertSameBatches(third, collect(resumed, 2), "epoch 2 after a resume");
        }
    }

    private static void assertSameBatches(List<Copied> expected, List<Copied> actual, String what) {
        assertEquals(expected.size(), actual.size(), what);
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i).x(), actual.get(i).x(), what + " batch " + i + " pixels");
            assertArrayEquals(expected.get(i).labels(), actual.get(i).labels(), what + " batch " + i + " labels");
        }
    }

    @Test
    void flipAndCropOfAKnownImage() {
        // one channel, 2 × 3: [[1, 2, 3], [4, 5, 6]]
        float[] img = {1, 2, 3, 4, 5, 6}, out = new float[6];
        Augmentation.shiftAndFlip(img, 0, out, 0, 1, 2, 3, 0, 0, true);
        assertArrayEquals(new float[] {3, 2, 1, 6, 5, 4}, out, "mirror");
        float[] a = out.clone(), b = img.clone();
        Arrays.sort(a);
        Arrays.sort(b);
        assertArrayEquals(b, a, "a flip keeps the multiset of pixels");
        // crop at (oy, ox) = (P + 1, P − 1) of the padded image: shift up one row, right one column, zeros in
        Augmentation.shiftAndFlip(img, 0, out, 0, 1, 2, 3, 1, -1, false);
        assertArrayEquals(new float[] {0, 4, 5, 0, 0, 0}, out, "crop with zero padding");
        Augmentation.shiftAndFlip(img, 0, out, 0, 1, 2, 3, 0, 1, true);
        assertArrayEquals(new float[] {0, 3, 2, 0, 6, 5}, out, "crop then flip");
    }

    @Test
    void augmentationFlagsParseAndPrint() {
        assertEquals(new Augmentation(2, true), Augmentation.parse("default", 28, 28));
        assertEquals(new Augmentation(4, true), Augmentation.parse("default", 32, 32));
        assertEquals(Augmentation.NONE, Augmentation.parse("none", 32, 32));
        assertEquals(new Augmentation(0, true), Augmentation.parse("flip", 32, 32));
        assertEquals(new Augmentation(3, false), Augmentation.parse("crop:3", 32, 32));
        for (Augmentation a : List.of(new Augmentation(5, true), new Augmentation(1, false), new Augmentation(0, true),
                Augmentation.NONE)) {
            assertEquals(a, Augmentation.parse(a.toString(), 8, 8), a.toString());
        }
        for (String bad : List.of("crop", "crop:x", "crop:-1", "crop:2+", "mirror", "+flip")) {
            assertThrows(NetslimException.class, () -> Augmentation.parse(bad, 8, 8), bad);
        }
    }

    @Test
    void everyAugmentedExampleIsAShiftOrMirrorOfItsImage() {
        int pad = 2, shifted = 0, flipped = 0;
        LoaderOptions o = training(false).withNormalization(Normalization.IDENTITY);
        float[] src = new float[C * H * W], candidate = new float[C * H * W];
        try (Loader loader = new Loader(DATA, o)) {
            for (Copied b : collect(loader, 0)) {
                for (int k = 0; k < b.indices().length; k++) {
                    float[] x = Arrays.copyOfRange(b.x(), k * src.length, (k + 1) * src.length);
                    DATA.copyPixels(b.indices()[k], src, 0);
                    int[] found = findShift(src, x, candidate, pad);
                    assertTrue(found != null, "example " + b.indices()[k] + " is no crop/flip of its image");
                    if (found[0] != 0 || found[1] != 0) shifted++;
                    if (found[2] == 1) flipped++;
                }
            }
        }
        // 20 seeded draws: both kinds occur (and the draws are fixed by the seed, so this cannot flake)
        assertTrue(shifted > 0 && flipped > 0 && flipped < 20, "shifted " + shifted + ", flipped " + flipped);
    }

    /** The (dy, dx, flip) that turns src into x exactly, or null. */
    private static int[] findShift(float[] src, float[] x, float[] candidate, int pad) {
        for (int dy = -pad; dy <= pad; dy++) {
            for (int dx = -pad; dx <= pad; dx++) {
                for (int f = 0; f < 2; f++) {
                    Augmentation.shiftAndFlip(src, 0, candidate, 0, C, H, W, dy, dx, f == 1);
                    if (Arrays.equals(candidate, x)) return new int[] {dy, dx, f};
                }
            }
        }
        return null;
    }

    @Test
    void buffersAreReusedNotAllocated() {
        try (Loader loader = new Loader(DATA, training(true)); Epoch it = loader.epoch(0)) {
            float[] first = it.next().x().data(), second = it.next().x().data(), third = it.next().x().data();
            assertNotEquals(System.identityHashCode(first), System.identityHashCode(second), "double buffering");
            assertSame(first, third, "the first buffer comes back");
        }
    }

    @Test
    void stoppingEarlyEndsThePrefetchThread() {
        try (Loader loader = new Loader(DATA, training(true))) {
            Epoch a = loader.epoch(0);
            a.next();
            a.close();
            assertFalse(a.producerAlive(), "close stops the thread");
            Epoch b = loader.epoch(1);
            b.next();
            Epoch c = loader.epoch(2); // b left open: the loader closes it
            assertFalse(b.producerAlive());
            while (c.hasNext()) c.next();
            assertFalse(c.producerAlive(), "an exhausted epoch has no thread");
            assertThrows(IllegalStateException.class, b::next, "a closed epoch yields nothing more");
        }
    }

    @Test
    void anErrorInThePrefetchThreadIsRethrownToTheCaller() {
        Dataset broken = new ForwardingDataset(DATA) {
            @Override
            public void copyPixels(int i, float[] dst, int offset) {
                if (i == 12) throw new NetslimException("example 12: unreadable");
                super.copyPixels(i, dst, offset);
            }
        };
        try (Loader loader = new Loader(broken, LoaderOptions.evaluation(broken, 5)); Epoch it = loader.epoch(0)) {
            it.next();
            it.next();
            NetslimException e = assertThrows(NetslimException.class, it::next);
            assertEquals("example 12: unreadable", e.getMessage());
            assertFalse(it.producerAlive());
        }
    }

    @Test
    void mismatchedNormalisationIsAnError() {
        assertThrows(NetslimException.class,
                () -> new Loader(DATA, training(true).withNormalization(Normalization.parse("0.5,0.5/1,1"))));
    }

    /** A dataset that forwards to another, for overriding one method in tests. */
    static class ForwardingDataset implements Dataset {
        final Dataset d;

        ForwardingDataset(Dataset d) {
            this.d = d;
        }

        @Override public String name() { return d.name(); }
        @Override public int size() { return d.size(); }
        @Override public int channels() { return d.channels(); }
        @Override public int height() { return d.height(); }
        @Override public int width() { return d.width(); }
        @Override public int numClasses() { return d.numClasses(); }
        @Override public List<String> classNames() { return d.classNames(); }
        @Override public int label(int i) { return d.label(i); }
        @Override public void copyPixels(int i, float[] dst, int offset) { d.copyPixels(i, dst, offset); }
        @Override public Normalization defaultNormalization() { return d.defaultNormalization(); }
    }
}
