package netslim.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

import netslim.NetslimException;

/**
 * Image files to fixed-size 8-bit CHW pixels: decode with {@link ImageIO} (PNG, JPEG, and whatever else the JDK
 * reads), convert to 1 (luminance) or 3 (RGB) channels, scale so the image covers the target (the shorter side, for
 * a square target, becomes the target side), and centre-crop. Scaling is bilinear (pixel centres, as
 * {@code align_corners=false}), after halving with 2×2 box filters while the image is still twice the needed size,
 * so large downscales average pixels instead of aliasing.
 */
final class ImagePixels {
    private ImagePixels() {
    }

    /** A decoded image: {@code planes[c][y·width + x]} in [0, 255]. */
    record Planes(int height, int width, float[][] planes) {
    }

    /** ITU-R BT.601 luma weights (what PIL's "L" mode uses). */
    private static final float LUMA_R = 0.299f, LUMA_G = 0.587f, LUMA_B = 0.114f;

    /** The most pixels an image may have: 64 Mpx (e.g. 8192 x 8192), far above what a CNN input is cut from. */
    static final long MAX_PIXELS = 1L << 26;
    /**
     * The most pixels an image may claim per byte of its file. Decoders allocate the whole raster from the header's
     * size before reading any pixel data, so without this an 88-byte GIF claiming a 32243 x 44001 frame (1.4 G
     * pixels) ran out of a 1 GiB heap (found by fuzzing; seed ImageFolderFuzzTestInputs/image/bug-gif-frame-*.gif). No PNG, JPEG, GIF or
     * BMP gets near it: deflate's best ratio is 1032:1 and a 1-bit PNG packs 8 pixels in a byte (8256 per byte).
     */
    static final long MAX_PIXELS_PER_FILE_BYTE = 8300;

    /** Decodes {@code file} into {@code channels} (1 or 3) planes; any failure names the file. */
    static Planes decode(Path file, int channels) {
        BufferedImage img = read(file);
        int h = img.getHeight(), w = img.getWidth();
        float[][] src = isGray(img) ? new float[][] {grayPlane(img)} : rgbPlanes(img);
        return new Planes(h, w, toChannels(src, channels, h * w));
    }

    /** ImageIO's {@code read}, with the image size checked after the header and before the decoder allocates. */
    private static BufferedImage read(Path file) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new NetslimException(file + ": not an image format ImageIO can decode");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                checkSize(file, reader.getWidth(0), reader.getHeight(0), Files.size(file));
                return reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (NetslimException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new NetslimException(file + ": cannot decode image (" + e.getMessage() + ")", e);
        }
    }

    private static void checkSize(Path file, int width, int height, long fileBytes) {
        long pixels = (long) width * height;
        if (width <= 0 || height <= 0) throw new NetslimException(file + ": image size " + width + "x" + height);
        if (pixels > MAX_PIXELS) {
            throw new NetslimException(file + ": image of " + width + "x" + height + " pixels is larger than the "
                    + MAX_PIXELS + " pixels netslim decodes (scale it down first)");
        }
        if (pixels > MAX_PIXELS_PER_FILE_BYTE * fileBytes) {
            throw new NetslimException(file + ": claims " + width + "x" + height + " pixels in " + fileBytes
                    + " bytes, more than any image format can hold (corrupt file?)");
        }
    }

    private static boolean isGray(BufferedImage img) {
        return img.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY
                && img.getColorModel().getNumColorComponents() == 1;
    }

    /**
     * Gray images are read from the raster, not through {@code getRGB}, which would treat the samples as linear gray
     * and gamma-convert them to sRGB (changing every value).
     */
    private static float[] grayPlane(BufferedImage img) {
        Raster r = img.getRaster();
        int h = img.getHeight(), w = img.getWidth();
        int bits = img.getColorModel().getComponentSize(0);
        float scale = 255f / ((1 << bits) - 1);
        int[] samples = r.getSamples(0, 0, w, h, 0, (int[]) null);
        float[] p = new float[h * w];
        for (int i = 0; i < p.length; i++) p[i] = samples[i] * scale;
        return p;
    }

    /** Everything else goes through sRGB ({@code getRGB} handles palettes, BGR orders, other colour spaces). */
    private static float[][] rgbPlanes(BufferedImage img) {
        int h = img.getHeight(), w = img.getWidth();
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        float[][] p = new float[3][h * w];
        for (int i = 0; i < argb.length; i++) {
            p[0][i] = (argb[i] >> 16) & 0xff;
            p[1][i] = (argb[i] >> 8) & 0xff;
            p[2][i] = argb[i] & 0xff;
        }
        return p;
    }

    private static float[][] toChannels(float[][] src, int channels, int n) {
        if (src.length == channels) return src;
        if (channels == 3) return new float[][] {src[0], src[0], src[0]};
        if (channels != 1) throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        float[] y = new float[n];
        for (int i = 0; i < n; i++) y[i] = LUMA_R * src[0][i] + LUMA_G * src[1][i] + LUMA_B * src[2][i];
        return new float[][] {y};
    }

    /**
     * Scales {@code img} by {@code s = max(H/h, W/w)} (so it covers H × W), centre-crops H × W and writes the rounded
     * bytes CHW into {@code dst} from {@code offset}. An image already H × W is copied exactly.
     */
    static void resizeCenterCrop(Planes img, int height, int width, byte[] dst, int offset) {
        double scale = Math.max((double) height / img.height(), (double) width / img.width());
        int rh = Math.max(height, (int) Math.round(img.height() * scale));
        int rw = Math.max(width, (int) Math.round(img.width() * scale));
        int top = (rh - height) / 2, left = (rw - width) / 2;
        Planes cur = img;
        while (cur.height() >= 2 * rh && cur.width() >= 2 * rw) cur = halve(cur);
        int ch = cur.height(), cw = cur.width();
        for (int c = 0; c < cur.planes().length; c++) {
            float[] p = cur.planes()[c];
            int plane = offset + c * height * width;
            for (int y = 0; y < height; y++) {
                double sy = clamp((y + top + 0.5) * ch / rh - 0.5, ch - 1);
                int y0 = (int) sy, y1 = Math.min(y0 + 1, ch - 1);
                double fy = sy - y0;
                for (int x = 0; x < width; x++) {
                    double sx = clamp((x + left + 0.5) * cw / rw - 0.5, cw - 1);
                    int x0 = (int) sx, x1 = Math.min(x0 + 1, cw - 1);
                    double fx = sx - x0;
                    double top2 = p[y0 * cw + x0] * (1 - fx) + p[y0 * cw + x1] * fx;
                    double bot2 = p[y1 * cw + x0] * (1 - fx) + p[y1 * cw + x1] * fx;
                    long v = Math.round(top2 * (1 - fy) + bot2 * fy);
                    dst[plane + y * width + x] = (byte) Math.max(0, Math.min(255, v));
                }
            }
        }
    }

    private static double clamp(double v, int max) {
        return v < 0 ? 0 : Math.min(v, max);
    }

    /** 2×2 box average; an odd last row or column is averaged with itself. */
    private static Planes halve(Planes img) {
        int h = img.height(), w = img.width(), nh = (h + 1) / 2, nw = (w + 1) / 2;
        float[][] out = new float[img.planes().length][nh * nw];
        for (int c = 0; c < out.length; c++) {
            float[] p = img.planes()[c], q = out[c];
            for (int y = 0; y < nh; y++) {
                int ya = 2 * y * w, yb = Math.min(2 * y + 1, h - 1) * w;
                for (int x = 0; x < nw; x++) {
                    int xa = 2 * x, xb = Math.min(2 * x + 1, w - 1);
                    q[y * nw + x] = 0.25f * (p[ya + xa] + p[ya + xb] + p[yb + xa] + p[yb + xb]);
                }
            }
        }
        return new Planes(nh, nw, out);
    }
}
