package netslim.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import netslim.NetslimException;
import netslim.tensor.Shape;

/**
 * The header of a .npy file (NumPy's format spec, versions 1.0, 2.0 and 3.0): magic, version, header length and a
 * Python dict literal {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}. Parsing is strict and
 * bounded; the element count is checked to fit a Java array before anyone allocates it.
 */
record NpyHeader(String descr, boolean fortranOrder, Shape shape, long headerBytes) {
    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** NumPy itself refuses headers over 10 000 bytes by default; allow more but never an unbounded one. */
    static final int MAX_HEADER_LEN = 1 << 20;

    /** Bytes per element for the supported dtypes. */
    int itemSize() {
        return descr.equals("<f8") ? 8 : 4;
    }

    long dataBytes() {
        return shape.numel() * itemSize();
    }

    /** Reads and validates the header; the stream is left at the first data byte. */
    static NpyHeader read(InputStream in, String name) throws IOException {
        byte[] pre = in.readNBytes(8);
        if (pre.length < 8 || !Arrays.equals(Arrays.copyOf(pre, 6), MAGIC)) {
            throw new NetslimException(name + ": not a .npy file (bad magic)");
        }
        int major = pre[6] & 0xff, minor = pre[7] & 0xff;
        long len;
        int prefix;
        if (major == 1) {
            byte[] b = in.readNBytes(2);
            if (b.length < 2) throw truncated(name);
            len = (b[0] & 0xff) | (b[1] & 0xff) << 8;
            prefix = 10;
        } else if (major == 2 || major == 3) {
            byte[] b = in.readNBytes(4);
            if (b.length < 4) throw truncated(name);
            len = (b[0] & 0xffL) | (b[1] & 0xffL) << 8 | (b[2] & 0xffL) << 16 | (b[3] & 0xffL) << 24;
            prefix = 12;
        } else {
            throw new NetslimException(name + ": .npy version " + major + "." + minor + " is not supported");
        }
        if (len > MAX_HEADER_LEN) throw new NetslimException(name + ": .npy header of " + len + " bytes is too long");
        byte[] text = in.readNBytes((int) len);
        if (text.length < len) throw truncated(name);
        // Versions 1 and 2 use latin-1, version 3 UTF-8; the dict we accept is plain ASCII either way.
        String dict = new String(text, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        return fromDict(dict, name, prefix + len);
    }

    private static NetslimException truncated(String name) {
        return new NetslimException(name + ": truncated .npy header");
    }

    private static NpyHeader fromDict(String dict, String name, long headerBytes) {
        Map<String, Object> d;
        try {
            d = new PyLiteral(dict).parseDict();
        } catch (IllegalArgumentException e) {
            throw new NetslimException(name + ": malformed .npy header (" + e.getMessage() + ")");
        }
        if (!d.keySet().equals(java.util.Set.of("descr", "fortran_order", "shape"))) {
            throw new NetslimException(name + ": .npy header must have exactly the keys descr, fortran_order, shape; got "
                    + d.keySet());
        }
        if (!(d.get("descr") instanceof String descr) || !(descr.equals("<f4") || descr.equals("<f8"))) {
            throw new NetslimException(name + ": dtype " + d.get("descr")
                    + " is not supported (expected float32 '<f4' or float64 '<f8')");
        }
        if (!(d.get("fortran_order") instanceof Boolean fortran)) {
            throw new NetslimException(name + ": .npy header: fortran_order must be True or False");
        }
        if (fortran) {
            throw new NetslimException(name + ": Fortran-order arrays are not supported (save a C-order array, "
                    + "e.g. numpy.ascontiguousarray)");
        }
        if (!(d.get("shape") instanceof List<?> dims)) {
            throw new NetslimException(name + ": .npy header: shape must be a tuple of integers");
        }
        return new NpyHeader(descr, false, checkedShape(dims, name), headerBytes);
    }

    /** Dimensions must be non-negative and their product must fit a Java float array. */
    private static Shape checkedShape(List<?> dims, String name) {
        int[] d = new int[dims.size()];
        long numel = 1;
        for (int i = 0; i < d.length; i++) {
            if (!(dims.get(i) instanceof Long v) || v < 0) {
                throw new NetslimException(name + ": .npy header: bad dimension " + dims.get(i) + " in shape " + dims);
            }
            if (v > Integer.MAX_VALUE || (v > 0 && numel > (Integer.MAX_VALUE - 8) / v)) {
                throw new NetslimException(name + ": shape " + dims + " is too large (more than "
                        + (Integer.MAX_VALUE - 8) + " elements)");
            }
            d[i] = (int) (long) v;
            numel *= v;
        }
        return new Shape(d);
    }

    /** Header bytes for a float32 C-order array: version 1.0, padded with spaces so the data starts 64-aligned. */
    static byte[] formatF4(Shape shape) {
        StringBuilder s = new StringBuilder("{'descr': '<f4', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.rank(); i++) s.append(i > 0 ? ", " : "").append(shape.dim(i));
        s.append(shape.rank() == 1 ? ",), }" : "), }");
        int total = 10 + s.length() + 1;
        s.append(" ".repeat((64 - total % 64) % 64)).append('\n');
        byte[] dict = s.toString().getBytes(StandardCharsets.ISO_8859_1);
        if (dict.length > 0xffff) throw new IllegalArgumentException("shape " + shape + " has too many dimensions");
        byte[] out = Arrays.copyOf(MAGIC, 10 + dict.length);
        out[6] = 1;
        out[7] = 0;
        out[8] = (byte) dict.length;
        out[9] = (byte) (dict.length >>> 8);
        System.arraycopy(dict, 0, out, 10, dict.length);
        return out;
    }

    /** A recursive-descent parser for the Python literals a .npy header uses: dict, tuple, str, int, bool. */
    private static final class PyLiteral {
        private final String s;
        private int pos;

        PyLiteral(String s) {
            this.s = s;
        }

        Map<String, Object> parseDict() {
            Object v = value(0);
            skipSpace();
            if (pos != s.length()) throw new IllegalArgumentException("unexpected text after the dict at " + pos);
            if (!(v instanceof Map<?, ?> m)) throw new IllegalArgumentException("the header is not a dict");
            @SuppressWarnings("unchecked")
            Map<String, Object> dict = (Map<String, Object>) m;
            return dict;
        }

        private Object value(int depth) {
            if (depth > 8) throw new IllegalArgumentException("nested too deeply");
            skipSpace();
            if (pos >= s.length()) throw new IllegalArgumentException("unexpected end");
            char c = s.charAt(pos);
            if (c == '{') return dict(depth);
            if (c == '(' || c == '[') return sequence(c == '(' ? ')' : ']', depth);
            if (c == '\'' || c == '"') return string();
            if (c == '-' || isDigit(c)) return integer();
            if (s.startsWith("True", pos)) {
                pos += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("False", pos)) {
                pos += 5;
                return Boolean.FALSE;
            }
            throw new IllegalArgumentException("unexpected '" + c + "' at " + pos);
        }

        private Map<String, Object> dict(int depth) {
            Map<String, Object> m = new LinkedHashMap<>();
            pos++;
            while (true) {
                skipSpace();
                if (peek() == '}') {
                    pos++;
                    return m;
                }
                if (!(value(depth + 1) instanceof String key)) throw new IllegalArgumentException("dict key is not a str");
                skipSpace();
                expect(':');
                if (m.put(key, value(depth + 1)) != null) throw new IllegalArgumentException("duplicate key " + key);
                if (!commaOr('}')) {
                    pos++;
                    return m;
                }
            }
        }

        private List<Object> sequence(char close, int depth) {
            List<Object> items = new ArrayList<>();
            pos++;
            while (true) {
                skipSpace();
                if (peek() == close) {
                    pos++;
                    return items;
                }
                if (items.size() > 64) throw new IllegalArgumentException("too many items");
                items.add(value(depth + 1));
                if (!commaOr(close)) {
                    pos++;
                    return items;
                }
            }
        }

        /** After an item: true if a comma follows (more may come), false if the closing bracket does. */
        private boolean commaOr(char close) {
            skipSpace();
            char c = peek();
            if (c == ',') {
                pos++;
                return true;
            }
            if (c == close) return false;
            throw new IllegalArgumentException("expected ',' or '" + close + "' at " + pos);
        }

        private String string() {
            char q = s.charAt(pos++);
            int end = s.indexOf(q, pos);
            if (end < 0) throw new IllegalArgumentException("unterminated string");
            String v = s.substring(pos, end);
            if (v.indexOf('\\') >= 0) throw new IllegalArgumentException("escapes in strings are not supported");
            pos = end + 1;
            return v;
        }

        private Long integer() {
            int start = pos;
            if (peek() == '-') pos++;
            while (pos < s.length() && isDigit(s.charAt(pos))) pos++;
            String digits = s.substring(start, pos);
            if (pos < s.length() && s.charAt(pos) == 'L') pos++; // Python 2 long literal, as old files have
            if (digits.isEmpty() || digits.equals("-") || digits.length() > 18) {
                throw new IllegalArgumentException("bad integer '" + digits + "'");
            }
            return Long.parseLong(digits);
        }

        private void expect(char c) {
            if (peek() != c) throw new IllegalArgumentException("expected '" + c + "' at " + pos);
            pos++;
        }

        private char peek() {
            if (pos >= s.length()) throw new IllegalArgumentException("unexpected end");
            return s.charAt(pos);
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }

        private void skipSpace() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) pos++;
        }
    }
}
