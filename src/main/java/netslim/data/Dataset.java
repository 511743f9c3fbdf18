package netslim.data;

import java.util.List;

/**
 * A labelled image dataset held in memory: {@link #size()} examples of {@code channels × height × width} pixels,
 * each with a class label in {@code [0, numClasses)}. Examples are read by copying into a caller's buffer, so the
 * loader's hot path allocates nothing.
 */
public interface Dataset {
    /** What this is, for messages: e.g. {@code "fashion-mnist train"} or a directory. */
    String name();

    int size();

    int channels();

    int height();

    int width();

    int numClasses();

    /** One name per class, index = label. */
    List<String> classNames();

    /** The label of example {@code i}, in {@code [0, numClasses)}. */
    int label(int i);

    /** Copies example {@code i} as {@code C·H·W} floats in [0, 1] (CHW order) into {@code dst} from {@code offset}. */
    void copyPixels(int i, float[] dst, int offset);

    /** The mean / std this dataset's examples are normalised with unless the caller gives others. */
    Normalization defaultNormalization();

    /** Elements per example ({@code C·H·W}). */
    default int exampleSize() {
        return channels() * height() * width();
    }
}
