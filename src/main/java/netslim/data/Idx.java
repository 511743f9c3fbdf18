package netslim.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

import netslim.NetslimException;

/**
 * Reader for the IDX format of MNIST and Fashion-MNIST (gzipped or raw): unsigned-byte images (magic 0x00000803)
 * and labels (0x00000801). Sizes in the header are checked against limits before anything is allocated.
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

    private static final int MAX_ELEMENTS = 1 << 30;

    /** Reads at most {@code limit} images (all when limit ≤ 0). */
    public static Images readImages(Path file, int limit) {
        try (DataInputStream in = open(file)) {
            int magic = in.readInt();
            if (magic != 0x00000803) throw new NetslimException(file + ": not an IDX image file (magic " + Integer.toHexString(magic) + ")");
            int n = in.readInt(), rows = in.readInt(), cols = in.readInt();
            if (n < 0 || rows <= 0 || cols <= 0 || (long) n * rows * cols > MAX_ELEMENTS) {
                throw new NetslimException(file + ": implausible IDX header " + n + "x" + rows + "x" + cols);
            }
            int count = limit > 0 ? Math.min(limit, n) : n;
            byte[] px = new byte[count * rows * cols];
            in.readFully(px);
            return new Images(count, rows, cols, px);
        } catch (EOFException e) {
            throw new NetslimException(file + ": truncated IDX file");
        } catch (IOException e) {
            throw new NetslimException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    /** Reads at most {@code limit} labels (all when limit ≤ 0). */
    public static int[] readLabels(Path file, int limit) {
        try (DataInputStream in = open(file)) {
            int magic = in.readInt();
            if (magic != 0x00000801) throw new NetslimException(file + ": not an IDX label file (magic " + Integer.toHexString(magic) + ")");
            int n = in.readInt();
            if (n < 0 || n > MAX_ELEMENTS) throw new NetslimException(file + ": implausible IDX label count " + n);
            int count = limit > 0 ? Math.min(limit, n) : n;
            byte[] b = new byte[count];
            in.readFully(b);
            int[] labels = new int[count];
            for (int i = 0; i < count; i++) labels[i] = b[i] & 0xff;
            return labels;
        } catch (EOFException e) {
            throw new NetslimException(file + ": truncated IDX file");
        } catch (IOException e) {
            throw new NetslimException(file + ": cannot read (" + e.getMessage() + ")");
        }
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
