package netslim.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

import netslim.NetslimException;

/**
 * Reader for the IDX format of MNIST and Fashion-MNIST (gzipped or raw; gzip is recognised by its magic bytes, not
 * the file name): unsigned-byte images (magic 0x00000803: count, rows, cols) and labels (0x00000801: count), all
 * header integers big-endian. Header sizes are checked against limits before anything is allocated, and the pixel
 * buffer grows with the data actually read, so a corrupt header cannot make it allocate gigabytes for a small file.
 */
public final class Idx {
    private Idx() {
    }

    /** Images as unsigned bytes, row-major, with their count and size. */
    public record Images(int count, int rows, int cols, byte[] pixels) {
        public int pixel(int image, int i) {
            return pixels[image * rows * cols + i] & 0xff;
        }
    }

    static final int IMAGES_MAGIC = 0x00000803, LABELS_MAGIC = 0x00000801;
    private static final int MAX_ELEMENTS = 1 << 30;
    private static final int MAX_SIDE = 1 << 14;
    /**
     * The pixel buffer starts this small and doubles as data arrives (copying at most about twice the data): a
     * 20-byte file whose header claims 2^30 pixels must not cost a 16 MiB buffer (fuzzing found this one as a
     * 100-fold slowdown; with the old 16 MiB first chunk a run read 180 inputs a second).
     */
    private static final int FIRST_CHUNK = 1 << 16;

    /** Reads at most {@code limit} images (all when limit ≤ 0). */
    public static Images readImages(Path file, int limit) {
        try (DataInputStream in = open(file)) {
            checkMagic(file, in.readInt(), IMAGES_MAGIC, "image");
            int n = in.readInt(), rows = in.readInt(), cols = in.readInt();
            if (n < 0 || rows <= 0 || cols <= 0 || rows > MAX_SIDE || cols > MAX_SIDE
                    || (long) n * rows * cols > MAX_ELEMENTS) {
                throw new NetslimException(file + ": implausible IDX image header (" + n + " images of " + rows + "x"
                        + cols + ")");
            }
            int count = limit > 0 ? Math.min(limit, n) : n;
            byte[] px = readBytes(in, count * rows * cols, file, count + " images of " + rows + "x" + cols);
            return new Images(count, rows, cols, px);
        } catch (EOFException e) {
            throw new NetslimException(file + ": truncated IDX file (the header is cut short)", e);
        } catch (IOException e) {
            throw new NetslimException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** Reads at most {@code limit} labels (all when limit ≤ 0). */
    public static int[] readLabels(Path file, int limit) {
        try (DataInputStream in = open(file)) {
            checkMagic(file, in.readInt(), LABELS_MAGIC, "label");
            int n = in.readInt();
            if (n < 0 || n > MAX_ELEMENTS) throw new NetslimException(file + ": implausible IDX label count " + n);
            int count = limit > 0 ? Math.min(limit, n) : n;
            byte[] b = readBytes(in, count, file, count + " labels");
            int[] labels = new int[count];
            for (int i = 0; i < count; i++) labels[i] = b[i] & 0xff;
            return labels;
        } catch (EOFException e) {
            throw new NetslimException(file + ": truncated IDX file (the header is cut short)", e);
        } catch (IOException e) {
            throw new NetslimException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static void checkMagic(Path file, int magic, int expected, String what) {
        if (magic != expected) {
            throw new NetslimException(file + ": not an IDX " + what + " file (magic 0x" + Integer.toHexString(magic)
                    + ", expected 0x" + Integer.toHexString(expected) + ")");
        }
    }

    /** Reads exactly {@code count} bytes, growing the buffer as data arrives; a short file is "truncated". */
    private static byte[] readBytes(InputStream in, int count, Path file, String expected) throws IOException {
        byte[] buf = new byte[Math.min(count, FIRST_CHUNK)];
        int filled = 0;
        while (filled < count) {
            if (filled == buf.length) buf = Arrays.copyOf(buf, (int) Math.min(count, 2L * buf.length));
            int r;
            try {
                r = in.read(buf, filled, buf.length - filled);
            } catch (EOFException e) {
                r = -1; // a gzip stream cut in the middle
            }
            if (r < 0) {
                throw new NetslimException(file + ": truncated IDX file (header promises " + expected + ", data ends after "
                        + filled + " of " + count + " bytes)");
            }
            filled += r;
        }
        return buf;
    }

    private static DataInputStream open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new NetslimException(file + ": no such file");
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        raw.mark(2);
        int b0 = raw.read(), b1 = raw.read();
        raw.reset();
        InputStream in = (b0 == 0x1f && b1 == 0x8b) ? new GZIPInputStream(raw, 1 << 16) : raw;
        return new DataInputStream(new BufferedInputStream(in, 1 << 16));
    }
}
