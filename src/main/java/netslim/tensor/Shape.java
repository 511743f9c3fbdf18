package netslim.tensor;

import java.util.Arrays;

/** An immutable tensor shape (row-major / C order). For activations the convention is NCHW. */
public record Shape(int[] dims) {

    public Shape {
        dims = dims.clone();
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
        }
    }

    public static Shape of(int... dims) {
        return new Shape(dims);
    }

    public int rank() {
        return dims.length;
    }

    public int dim(int i) {
        return dims[i < 0 ? dims.length + i : i];
    }

    @Override
    public int[] dims() {
        return dims.clone();
    }

    /** Number of elements; throws if it does not fit an int (tensors are backed by Java arrays). */
    public int size() {
        long n = numel();
        if (n > Integer.MAX_VALUE) throw new ArithmeticException("tensor of " + n + " elements is too large: " + this);
        return (int) n;
    }

    /** Number of elements as a long (no overflow check). */
    public long numel() {
        long n = 1;
        for (int d : dims) n *= d;
        return n;
    }

    /** A copy of this shape with dimension {@code i} replaced by {@code v}. */
    public Shape with(int i, int v) {
        int[] d = dims.clone();
        d[i < 0 ? d.length + i : i] = v;
        return new Shape(d);
    }

    /** N, C, H, W accessors for rank-4 activations. */
    public int n() { return dims[0]; }
    public int c() { return dims[1]; }
    public int h() { return dims[2]; }
    public int w() { return dims[3]; }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    /** Written as 2x3x4 (the CLI's CxHxW style). */
    @Override
    public String toString() {
        if (dims.length == 0) return "scalar";
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) b.append('x');
            b.append(dims[i]);
        }
        return b.toString();
    }

    /** Parses "3x224x224" (also accepts commas). */
    public static Shape parse(String s) {
        String[] parts = s.trim().split("[x,X]");
        int[] d = new int[parts.length];
        for (int i = 0; i < parts.length; i++) d[i] = Integer.parseInt(parts[i].trim());
        return new Shape(d);
    }
}
