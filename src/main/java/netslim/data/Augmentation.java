package netslim.data;

import netslim.NetslimException;
import netslim.tensor.Rng;

/**
 * Training-time augmentation, applied to pixels in [0, 1] before normalisation (as torchvision's
 * {@code RandomCrop(size, padding=P)} + {@code RandomHorizontalFlip(0.5)} on the image): a random crop of the image
 * zero-padded by {@code padding} on every side — i.e. a shift by (dy, dx) ∈ [−P, P]² with black filling — followed by
 * a horizontal flip with probability ½.
 */
public record Augmentation(int padding, boolean flip) {
    /** Off (evaluation). */
    public static final Augmentation NONE = new Augmentation(0, false);

    public Augmentation {
        if (padding < 0) throw new NetslimException("crop padding must be ≥ 0, got " + padding);
    }

    /**
     * The training default for an image of {@code height × width}: flip on, padding 4 for images of 32 px or more
     * (the standard CIFAR recipe, 1/8 of the side) and 2 below that (28 px Fashion-MNIST / MNIST: objects are
     * centred and fill more of the frame, so a ±2 px shift keeps them whole).
     */
    public static Augmentation defaultFor(int height, int width) {
        return new Augmentation(Math.min(height, width) >= 32 ? 4 : 2, true);
    }

    public boolean enabled() {
        return padding > 0 || flip;
    }

    /**
     * Draws this example's crop and flip from {@code rng} (row offset, column offset, flip: always three draws) and
     * writes the augmented {@code c × h × w} image from {@code src} into {@code dst}. {@code src} and {@code dst}
     * must not overlap.
     */
    public void apply(float[] src, int srcOffset, float[] dst, int dstOffset, int c, int h, int w, Rng rng) {
        int dy = rng.nextInt(2 * padding + 1) - padding;
        int dx = rng.nextInt(2 * padding + 1) - padding;
        boolean flipped = rng.nextDouble() < 0.5;
        shiftAndFlip(src, srcOffset, dst, dstOffset, c, h, w, dy, dx, flip && flipped);
    }

    /**
     * {@code dst[ch][y][x] = src[ch][y + dy][sx]} with {@code sx = (flip ? w − 1 − x : x) + dx}, and 0 where the
     * source index falls outside the image (the zero padding). (dy, dx) = (oy − P, ox − P) for a crop at (oy, ox) of
     * the padded image; flipping after cropping mirrors the column before the shift.
     */
    public static void shiftAndFlip(float[] src, int srcOffset, float[] dst, int dstOffset, int c, int h, int w,
            int dy, int dx, boolean flip) {
        for (int ch = 0; ch < c; ch++) {
            int plane = ch * h * w;
            for (int y = 0; y < h; y++) {
                int out = dstOffset + plane + y * w;
                int sy = y + dy;
                if (sy < 0 || sy >= h) {
                    java.util.Arrays.fill(dst, out, out + w, 0f);
                    continue;
                }
                int in = srcOffset + plane + sy * w;
                for (int x = 0; x < w; x++) {
                    int sx = (flip ? w - 1 - x : x) + dx;
                    dst[out + x] = sx >= 0 && sx < w ? src[in + sx] : 0f;
                }
            }
        }
    }

    /**
     * Parses a CLI value: {@code default} (the {@link #defaultFor} an image of this size), {@code none}, {@code flip},
     * {@code crop:P} or {@code crop:P+flip}.
     */
    public static Augmentation parse(String s, int height, int width) {
        String v = s.trim().toLowerCase(java.util.Locale.ROOT);
        if (v.equals("default")) return defaultFor(height, width);
        if (v.equals("none")) return NONE;
        int padding = 0;
        boolean flip = false, crop = false;
        for (String part : v.split("\\+", -1)) {
            if (part.equals("flip") && !flip) {
                flip = true;
            } else if (part.startsWith("crop:") && !crop && part.substring(5).matches("[0-9]{1,4}")) {
                crop = true;
                padding = Integer.parseInt(part.substring(5));
            } else {
                throw new NetslimException("augmentation must be default, none, flip, crop:P or crop:P+flip, got '" + s + "'");
            }
        }
        return new Augmentation(padding, flip);
    }

    /** The {@link #parse} form: {@code crop:4+flip}, {@code crop:2}, {@code flip} or {@code none}. */
    @Override
    public String toString() {
        if (!enabled()) return "none";
        return (padding > 0 ? "crop:" + padding : "") + (padding > 0 && flip ? "+" : "") + (flip ? "flip" : "");
    }
}
