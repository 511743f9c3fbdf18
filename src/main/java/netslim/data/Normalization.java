package netslim.data;

import java.util.Arrays;
import java.util.Locale;

import netslim.NetslimException;

/**
 * Per-channel mean and standard deviation (of pixels in [0, 1]) that a loader subtracts and divides by:
 * {@code x = (p − mean[c]) / std[c]}. The constants are the usual published training-set statistics.
 */
public record Normalization(float[] mean, float[] std) {
    /** Fashion-MNIST training set (Xiao et al. 2017): 0.2860 / 0.3530. */
    public static final Normalization FASHION_MNIST = of(0.2860f, 0.3530f);
    /** MNIST training set: 0.1307 / 0.3081. */
    public static final Normalization MNIST = of(0.1307f, 0.3081f);
    /** CIFAR-10 training set, per RGB channel. */
    public static final Normalization CIFAR10 = new Normalization(new float[] {0.4914f, 0.4822f, 0.4465f},
            new float[] {0.2470f, 0.2435f, 0.2616f});
    /** ImageFolder default: maps [0, 1] to [−1, 1] (broadcast to every channel). */
    public static final Normalization HALF = of(0.5f, 0.5f);
    /** No normalisation: pixels stay in [0, 1]. */
    public static final Normalization IDENTITY = of(0f, 1f);

    public Normalization {
        if (mean.length == 0 || mean.length != std.length) {
            throw new NetslimException("normalisation needs one mean and one std per channel, got " + mean.length
                    + " means and " + std.length + " stds");
        }
        for (float s : std) {
            if (!(s > 0) || Float.isInfinite(s)) throw new NetslimException("normalisation std must be positive, got " + s);
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** One channel (broadcast to all channels by {@link #forChannels}). */
    public static Normalization of(float mean, float std) {
        return new Normalization(new float[] {mean}, new float[] {std});
    }

    /** Parses {@code MEAN/STD} with comma-separated per-channel values, e.g. {@code 0.5,0.5,0.5/0.25,0.25,0.25}. */
    public static Normalization parse(String s) {
        String[] parts = s.split("/");
        if (parts.length != 2) throw new NetslimException("normalisation must be MEAN/STD (e.g. 0.286/0.353), got '" + s + "'");
        try {
            return new Normalization(floats(parts[0]), floats(parts[1]));
        } catch (NumberFormatException e) {
            throw new NetslimException("normalisation must be MEAN/STD with numbers, got '" + s + "'");
        }
    }

    private static float[] floats(String csv) {
        String[] p = csv.split(",");
        float[] v = new float[p.length];
        for (int i = 0; i < p.length; i++) v[i] = Float.parseFloat(p[i].trim());
        return v;
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    public int channels() {
        return mean.length;
    }

    public float mean(int c) {
        return mean[c];
    }

    public float std(int c) {
        return std[c];
    }

    /** This normalisation for {@code c} channels: itself, or a one-channel one repeated; else an error. */
    public Normalization forChannels(int c) {
        if (mean.length == c) return this;
        if (mean.length != 1) {
            throw new NetslimException("normalisation has " + mean.length + " channels but the data has " + c);
        }
        float[] m = new float[c], s = new float[c];
        Arrays.fill(m, mean[0]);
        Arrays.fill(s, std[0]);
        return new Normalization(m, s);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Normalization n && Arrays.equals(mean, n.mean) && Arrays.equals(std, n.std);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std);
    }

    /** The {@link #parse} form. */
    @Override
    public String toString() {
        return join(mean) + "/" + join(std);
    }

    private static String join(float[] v) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < v.length; i++) b.append(i > 0 ? "," : "").append(String.format(Locale.ROOT, "%.4g", v[i]));
        return b.toString();
    }
}
