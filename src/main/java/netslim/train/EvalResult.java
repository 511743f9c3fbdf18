package netslim.train;

import java.util.List;

/**
 * Accuracy of a model on a labelled set.
 *
 * @param count            examples evaluated
 * @param top1             fraction whose highest score is the label
 * @param top5             fraction whose label is among the five highest scores (all of them when K ≤ 5)
 * @param loss             mean cross-entropy (no label smoothing)
 * @param perClassAccuracy top-1 per true class (NaN for a class with no example)
 * @param confusion        confusion[true][predicted] counts
 * @param classNames       one name per class
 */
public record EvalResult(long count, double top1, double top5, double loss, double[] perClassAccuracy,
        long[][] confusion, List<String> classNames) {
}
