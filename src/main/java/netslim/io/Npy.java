package netslim.io;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import netslim.NetslimException;
import netslim.tensor.Tensor;

/**
 * NumPy .npy files: read (&lt;f4, &lt;f8 converted to float32; versions 1.0/2.0/3.0; C order; any rank, rank 0 is
 * shape []) and write (&lt;f4, version 1.0). Reading never allocates more than the bytes actually present justify:
 * with a known size the header is checked against it first, and from a stream the array grows as data arrives.
 */
public final class Npy {
    private static final int CHUNK = 1 << 16;
    /** Initial capacity (elements) when the available byte count is unknown; the array doubles from there. */
    private static final int INITIAL_ELEMENTS = 1 << 18;

    private Npy() {
    }

    public static Tensor read(Path file) {
        String name = file.toString();
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), CHUNK)) {
            return read(in, name, Files.size(file));
        } catch (IOException | RuntimeException e) {
            throw IoErrors.reading(name, e);
        }
    }

    /** Reads one array from a stream (e.g. a ZIP entry) to its end; {@code nameForErrors} starts every message. */
    public static Tensor read(InputStream in, String nameForErrors) {
        return read(in, nameForErrors, -1);
    }

    /**
     * Reads one array; {@code totalBytes} is the stream's length when known (then a header claiming more data than
     * that is refused before allocating), or -1.
     */
    static Tensor read(InputStream in, String name, long totalBytes) {
        try {
            NpyHeader h = NpyHeader.read(in, name);
            if (totalBytes >= 0) {
                long present = totalBytes - h.headerBytes();
                if (present < h.dataBytes()) {
                    throw new NetslimException(name + ": truncated: shape " + h.shape() + " needs " + h.dataBytes()
                            + " data bytes, the file has " + present);
                }
            }
            float[] data = readData(in, h, name, totalBytes >= 0);
            if (in.read() != -1) throw new NetslimException(name + ": unexpected bytes after the array data");
            return Tensor.of(h.shape(), data);
        } catch (IOException | RuntimeException e) {
            throw IoErrors.reading(name, e);
        }
    }

    /** Decodes an array from bytes (e.g. a checkpoint entry from {@link Nsm#readEntry}). */
    public static Tensor fromBytes(byte[] bytes, String nameForErrors) {
        return read(new ByteArrayInputStream(bytes), nameForErrors, bytes.length);
    }

    private static float[] readData(InputStream in, NpyHeader h, String name, boolean sizeVerified) throws IOException {
        int count = h.shape().size();
        int item = h.itemSize();
        float[] data = new float[sizeVerified ? count : Math.min(count, INITIAL_ELEMENTS)];
        byte[] buf = new byte[CHUNK];
        int done = 0;
        while (done < count) {
            int n = Math.min(count - done, CHUNK / item);
            int got = in.readNBytes(buf, 0, n * item);
            if (got < n * item) {
                throw new NetslimException(name + ": truncated: shape " + h.shape() + " needs " + h.dataBytes()
                        + " data bytes, got " + ((long) done * item + got));
            }
            if (done + n > data.length) data = Arrays.copyOf(data, (int) Math.min(count, 2L * data.length + n));
            ByteBuffer bb = ByteBuffer.wrap(buf, 0, got).order(ByteOrder.LITTLE_ENDIAN);
            if (item == 4) {
                bb.asFloatBuffer().get(data, done, n);
            } else {
                for (int i = 0; i < n; i++) data[done + i] = (float) bb.getDouble(i * 8);
            }
            done += n;
        }
        return data;
    }

    /** Writes atomically (temporary file, then rename). */
    public static void write(Path file, Tensor t) {
        AtomicFiles.write(file, out -> write(out, t));
    }

    /** Writes {@code t} as a float32 C-order .npy (version 1.0) to a stream, e.g. a ZIP entry; does not close it. */
    public static void write(OutputStream out, Tensor t) throws IOException {
        out.write(NpyHeader.formatF4(t.shape()));
        float[] src = t.data();
        int off = t.offset(), count = t.size();
        ByteBuffer bb = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        for (int done = 0; done < count; ) {
            int n = Math.min(count - done, CHUNK / 4);
            bb.clear();
            bb.asFloatBuffer().put(src, off + done, n);
            out.write(bb.array(), 0, n * 4);
            done += n;
        }
    }

    /** The bytes of a .npy file holding {@code t} (e.g. for a checkpoint's extra entries). */
    public static byte[] toBytes(Tensor t) {
        ByteArrayOutputStream b = new ByteArrayOutputStream(128 + 4 * t.size());
        try {
            write(b, t);
        } catch (IOException e) {
            throw new AssertionError("ByteArrayOutputStream does not throw", e);
        }
        return b.toByteArray();
    }
}
