package netslim.data;

import netslim.NetslimException;

/** Which part of a dataset: the training or the test examples. */
public enum Split {
    TRAIN, TEST;

    /** Parses {@code train} or {@code test} (any case). */
    public static Split parse(String s) {
        return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "train" -> TRAIN;
            case "test" -> TEST;
            default -> throw new NetslimException("split must be train or test, got '" + s + "'");
        };
    }

    /** {@code train} or {@code test}, as in directory names. */
    public String dirName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
