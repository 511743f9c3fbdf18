package netslim.api;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import netslim.NetslimException;

/**
 * One class of a top-k answer: its index, its logit and its softmax probability over all classes of that image.
 *
 * <pre>{@code
 * for (Prediction p : model.topK(image, 3)) System.out.printf("%d %.3f%n", p.classIndex(), p.probability());
 * }</pre>
 */
public record Prediction(int classIndex, float logit, float probability) {

    /**
     * The {@code k} largest of the {@code classes} logits starting at {@code offset}, highest first (ties: lower
     * class index first), with softmax probabilities computed in double (max-subtracted, so large logits are fine).
     */
    public static List<Prediction> topK(float[] logits, int offset, int classes, int k) {
        if (k < 1 || k > classes) throw new NetslimException("k must be in [1, " + classes + "], got " + k);
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < classes; i++) max = Math.max(max, logits[offset + i]);
        double sum = 0;
        for (int i = 0; i < classes; i++) sum += Math.exp(logits[offset + i] - max);
        List<Integer> order = new ArrayList<>(classes);
        for (int i = 0; i < classes; i++) order.add(i);
        order.sort(Comparator.comparingDouble((Integer i) -> -logits[offset + i]).thenComparingInt(i -> i));
        List<Prediction> top = new ArrayList<>(k);
        for (int i : order.subList(0, k)) {
            float logit = logits[offset + i];
            top.add(new Prediction(i, logit, (float) (Math.exp(logit - max) / sum)));
        }
        return top;
    }
}
