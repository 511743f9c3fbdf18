package netslim.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * A minimal .npy reader for test fixtures (version 1.0 headers, little-endian float32 or float64, C order), kept
 * separate from netslim.io.Npy so the kernel tests do not depend on the code under test elsewhere.
 */
public final class TestNpy {
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private TestNpy() {
    }

    /** The parsed contents of one file, values widened to double. */
    private record Raw(Shape shape, double[] values) {
    }

    /** Reads a classpath resource, e.g. {@code "/ops/linear/x.npy"}; float64 is rounded to float32. */
    public static Tensor resource(String path) {
        Raw raw = read(path);
        float[] data = new float[raw.values().length];
        for (int i = 0; i < data.length; i++) data[i] = (float) raw.values()[i];
        return Tensor.of(raw.shape(), data);
    }

    /** Reads a resource's values without rounding to float (for op parameters stored as float64). */
    public static double[] doubles(String path) {
        return read(path).values();
    }

    private static Raw read(String path) {
        try (InputStream in = TestNpy.class.getResourceAsStream(path)) {
            if (in == null) throw new IllegalArgumentException("missing test resource " + path);
            return parse(in.readAllBytes(), path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Raw parse(byte[] bytes, String what) {
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[6];
        buf.get(magic);
        if (!"\u0093NUMPY".equals(new String(magic, StandardCharsets.ISO_8859_1))) {
            throw new IllegalArgumentException(what + ": not a .npy file");
        }
        int major = buf.get(), minor = buf.get();
        if (major != 1) throw new IllegalArgumentException(what + ": .npy version " + major + "." + minor + " unsupported");
        int headerLen = Short.toUnsignedInt(buf.getShort());
        String header = new String(bytes, 10, headerLen, StandardCharsets.ISO_8859_1);
        buf.position(10 + headerLen);
        String descr = find(DESCR, header, what);
        if (!find(FORTRAN, header, what).equals("False")) throw new IllegalArgumentException(what + ": Fortran order");
        Shape shape = parseShape(find(SHAPE, header, what));
        double[] values = new double[shape.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = switch (descr) {
                case "<f4" -> buf.getFloat();
                case "<f8" -> buf.getDouble();
                default -> throw new IllegalArgumentException(what + ": dtype " + descr + " unsupported");
            };
        }
        return new Raw(shape, values);
    }

    private static String find(Pattern p, String header, String what) {
        Matcher m = p.matcher(header);
        if (!m.find()) throw new IllegalArgumentException(what + ": bad header " + header);
        return m.group(1);
    }

    private static Shape parseShape(String s) {
        String[] parts = s.split(",");
        int count = 0;
        int[] dims = new int[parts.length];
        for (String p : parts) {
            if (!p.isBlank()) dims[count++] = Integer.parseInt(p.trim());
        }
        return Shape.of(java.util.Arrays.copyOf(dims, count));
    }
}
