package netslim.tensor;

import java.util.Arrays;

/**
 * A float32 tensor: a {@link Shape} over a {@link Storage}, C order (NCHW for activations), starting at element
 * {@code offset} of the storage. Tensors are mutable buffers; ops write into preallocated outputs.
 */
public final class Tensor {
    private final Shape shape;
    private final Storage storage;
    private final int offset;

    public Tensor(Shape shape, Storage storage, int offset) {
        if (offset < 0 || offset + shape.numel() > storage.capacity()) {
            throw new IllegalArgumentException("shape " + shape + " at offset " + offset + " does not fit storage of "
                    + storage.capacity());
        }
        this.shape = shape;
        this.storage = storage;
        this.offset = offset;
    }

    /** A zero-filled host tensor. */
    public static Tensor zeros(Shape shape) {
        return new Tensor(shape, new HostStorage(new float[shape.size()]), 0);
    }

    public static Tensor zeros(int... dims) {
        return zeros(Shape.of(dims));
    }

    /** Wraps (does not copy) a host array. */
    public static Tensor of(Shape shape, float[] data) {
        if (data.length != shape.numel()) {
            throw new IllegalArgumentException("shape " + shape + " needs " + shape.numel() + " values, got " + data.length);
        }
        return new Tensor(shape, new HostStorage(data), 0);
    }

    public Shape shape() {
        return shape;
    }

    public Storage storage() {
        return storage;
    }

    public int offset() {
        return offset;
    }

    public int size() {
        return shape.size();
    }

    public boolean isHost() {
        return storage.isHost();
    }

    /** The backing host array (elements start at {@link #offset()}). Throws for device tensors. */
    public float[] data() {
        if (!(storage instanceof HostStorage h)) {
            throw new IllegalStateException("tensor " + shape + " lives on a device; copy it to the host first");
        }
        return h.array();
    }

    /** Same storage, another shape with the same number of elements (a reshape view). */
    public Tensor view(Shape newShape) {
        if (newShape.numel() != shape.numel()) {
            throw new IllegalArgumentException("cannot view " + shape + " as " + newShape);
        }
        return new Tensor(newShape, storage, offset);
    }

    /** A fresh host copy of the elements (offset 0). */
    public float[] toArray() {
        float[] d = data();
        return Arrays.copyOfRange(d, offset, offset + size());
    }

    /** A deep host copy. */
    public Tensor copy() {
        return of(shape, toArray());
    }

    public float get(int i) {
        return data()[offset + i];
    }

    public void set(int i, float v) {
        data()[offset + i] = v;
    }

    public void fill(float v) {
        Arrays.fill(data(), offset, offset + size(), v);
    }

    public void copyFrom(Tensor src) {
        if (src.size() != size()) throw new IllegalArgumentException("copy " + src.shape + " into " + shape);
        System.arraycopy(src.data(), src.offset, data(), offset, size());
    }

    @Override
    public String toString() {
        return "Tensor" + shape;
    }
}
