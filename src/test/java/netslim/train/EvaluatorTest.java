package netslim.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import netslim.backend.cpu.ReferenceKernels;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

class EvaluatorTest {
    private static final SyntheticData DATA = new SyntheticData("eval", 50, 8, 4, 21);

    /** Untrained weights give a spread of predictions, so every count below is non-trivial. */
    private static Graph model() {
        Graph g = TinyModels.convNet(8, 4, 4, 0.5f, 9);
        for (int i = 0; i < 4; i++) g.params().get("fc.bias").set(i, 0.01f * i);
        return g;
    }

    @Test
    void matchesAPlainForwardPassAndIgnoresThePaddingOfTheLastBatch() {
        Graph g = model();
        EvalResult whole, padded;
        try (Evaluator ev = new Evaluator(g, new ReferenceKernels(), 50)) {
            whole = ev.evaluate(DATA);
        }
        try (Evaluator ev = new Evaluator(g, new ReferenceKernels(), 7)) { // 7 batches of 7, then 1 row + 6 padding
            padded = ev.evaluate(DATA);
        }
        Tensor x = normalised(DATA);
        Tensor logits;
        try (Executor ex = new Executor(g, new ReferenceKernels(), 50, Executor.Mode.INFERENCE)) {
            logits = ex.forwardToHost(x);
        }
        int[] labels = new int[50];
        for (int i = 0; i < 50; i++) labels[i] = DATA.label(i);
        Tensor probs = Tensor.zeros(Shape.of(50, 4));
        float loss = new ReferenceKernels().softmaxCrossEntropy(logits, labels, 0f, probs);
        long right = 0;
        long[][] confusion = new long[4][4];
        for (int i = 0; i < 50; i++) {
            int pred = Evaluator.argmax(logits, i);
            confusion[labels[i]][pred]++;
            if (pred == labels[i]) right++;
        }
        assertTrue(right > 0 && right < 50, "a non-trivial accuracy: " + right);
        for (EvalResult r : new EvalResult[] {whole, padded}) {
            assertEquals(50, r.count());
            assertEquals(right / 50.0, r.top1(), 1e-12);
            assertEquals(1.0, r.top5(), "4 classes: the label is always in the top 5");
            assertEquals(loss, r.loss(), 1e-5 + 1e-5 * loss);
            for (int c = 0; c < 4; c++) {
                assertArrayEquals(confusion[c], r.confusion()[c], "confusion row " + c);
                long total = 0;
                for (long v : confusion[c]) total += v;
                assertEquals(confusion[c][c] / (double) total, r.perClassAccuracy()[c], 1e-12);
            }
        }
    }

    /** Every example, normalised with the dataset's mean / std, as one batch. */
    static Tensor normalised(SyntheticData d) {
        int ex = d.exampleSize();
        float[] x = new float[d.size() * ex];
        for (int i = 0; i < d.size(); i++) d.copyPixels(i, x, i * ex);
        float mean = d.defaultNormalization().mean(0), std = d.defaultNormalization().std(0);
        for (int i = 0; i < x.length; i++) x[i] = (x[i] - mean) / std;
        return Tensor.of(Shape.of(d.size(), 1, d.height(), d.width()), x);
    }

    @Test
    void rankCountsHigherScoresAndEarlierTiesAndNaNIsNeverRight() {
        Tensor p = Tensor.of(Shape.of(2, 6), new float[] {0.1f, 0.3f, 0.3f, 0.05f, 0.2f, 0.05f,
                Float.NaN, 0, 0, 0, 0, 0});
        assertEquals(0, Evaluator.rankOfLabel(p, 0, 1));
        assertEquals(1, Evaluator.rankOfLabel(p, 0, 2)); // tie with class 1, which argmax picks
        assertEquals(4, Evaluator.rankOfLabel(p, 0, 3));
        assertEquals(5, Evaluator.rankOfLabel(p, 0, 5)); // outside the top 5
        assertEquals(1, Evaluator.argmax(p, 0));
        assertEquals(6, Evaluator.rankOfLabel(p, 1, 0));
    }
}
