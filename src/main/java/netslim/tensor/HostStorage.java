package netslim.tensor;

/** Host (Java heap) storage: a plain float array. */
public final class HostStorage implements Storage {
    private final float[] data;

    public HostStorage(float[] data) {
        this.data = data;
    }

    public float[] array() {
        return data;
    }

    @Override
    public long capacity() {
        return data.length;
    }

    @Override
    public boolean isHost() {
        return true;
    }
}
