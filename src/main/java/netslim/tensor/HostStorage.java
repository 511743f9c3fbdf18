package netslim.tensor;

/**
 * Host (Java heap) storage: a plain float array. A planner may point a storage at another array of at least its
 * capacity ({@link #share}): the serving plan gives activations whose lifetimes do not overlap one array.
 */
public final class HostStorage implements Storage {
    private float[] data;
    private final int capacity;

    public HostStorage(float[] data) {
        this.data = data;
        this.capacity = data.length;
    }

    public float[] array() {
        return data;
    }

    /**
     * From now on this storage's elements are {@code array}'s first {@link #capacity()} (its old elements are not
     * copied): for a planner that lets storages whose contents are never needed at the same time use one array.
     * Tensors over this storage see the new array.
     */
    public void share(float[] array) {
        if (array.length < capacity) {
            throw new IllegalArgumentException("an array of " + array.length + " floats cannot hold a storage of "
                    + capacity);
        }
        this.data = array;
    }

    /** The floats this storage was made with; a {@link #share}d array may be longer. */
    @Override
    public long capacity() {
        return capacity;
    }

    @Override
    public boolean isHost() {
        return true;
    }
}
