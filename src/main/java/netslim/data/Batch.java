package netslim.data;

import netslim.tensor.Tensor;

/**
 * One batch: {@code x} is (N, C, H, W) normalised pixels, {@code labels[k]} the class of row k and
 * {@code indices[k]} its example index in the dataset. N = {@code labels.length} (smaller for a last partial batch).
 * The arrays are the loader's reused buffers: valid until the next call to {@link Epoch#next()} or
 * {@link Epoch#close()}; copy what must outlive that.
 *
 * @param index the batch's position in its epoch, from 0
 */
public record Batch(int index, Tensor x, int[] labels, int[] indices) {
    public int size() {
        return labels.length;
    }
}
