package netslim.data;

import java.util.List;

import netslim.NetslimException;

/**
 * The one in-memory {@link Dataset}: 8-bit pixels, CHW per example, examples back to back (Fashion-MNIST's 60 000 ×
 * 784 bytes is 47 MB; CIFAR-10's 50 000 × 3072 is 154 MB), decoded to [0, 1] through a 256-entry table.
 */
public final class ByteImageDataset implements Dataset {
    /** {@code BYTE_TO_UNIT[b] = b / 255}: the same float for the same byte everywhere. */
    private static final float[] BYTE_TO_UNIT = new float[256];

    static {
        for (int b = 0; b < 256; b++) BYTE_TO_UNIT[b] = b / 255f;
    }

    private final String name;
    private final int channels, height, width;
    private final byte[] pixels;   // (size, channels, height, width)
    private final int[] labels;    // (size)
    private final List<String> classNames;
    private final Normalization normalization;

    /** Checks every label against the class count, so a bad label is reported here, before any training. */
    public ByteImageDataset(String name, int channels, int height, int width, byte[] pixels, int[] labels,
            List<String> classNames, Normalization normalization) {
        if (channels <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException(name + ": bad image size " + channels + "x" + height + "x" + width);
        }
        if ((long) labels.length * channels * height * width != pixels.length) {
            throw new IllegalArgumentException(name + ": " + pixels.length + " pixel bytes for " + labels.length
                    + " examples of " + channels + "x" + height + "x" + width);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classNames.size()) {
                throw new NetslimException(name + ": example " + i + " has label " + labels[i] + ", outside [0, "
                        + classNames.size() + ")");
            }
        }
        this.name = name;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.pixels = pixels;
        this.labels = labels;
        this.classNames = List.copyOf(classNames);
        this.normalization = normalization.forChannels(channels);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public int channels() {
        return channels;
    }

    @Override
    public int height() {
        return height;
    }

    @Override
    public int width() {
        return width;
    }

    @Override
    public int numClasses() {
        return classNames.size();
    }

    @Override
    public List<String> classNames() {
        return classNames;
    }

    @Override
    public int label(int i) {
        return labels[i];
    }

    @Override
    public void copyPixels(int i, float[] dst, int offset) {
        int n = exampleSize();
        int base = i * n;
        for (int k = 0; k < n; k++) dst[offset + k] = BYTE_TO_UNIT[pixels[base + k] & 0xff];
    }

    /** The raw byte of element {@code k} (CHW) of example {@code i}; for tests and statistics. */
    public int pixelByte(int i, int k) {
        return pixels[i * exampleSize() + k] & 0xff;
    }

    @Override
    public Normalization defaultNormalization() {
        return normalization;
    }

    @Override
    public String toString() {
        return name + " (" + size() + " examples, " + channels + "x" + height + "x" + width + ", " + numClasses()
                + " classes)";
    }
}
