package netslim.prune;

import netslim.tensor.Tensor;

/** A batch of inputs (N, C, H, W) on the host and their class labels, for the data-driven criteria. */
public record LabeledBatch(Tensor x, int[] labels) {
    public LabeledBatch {
        if (x.shape().rank() < 1 || x.shape().dim(0) != labels.length) {
            throw new IllegalArgumentException("batch of " + x.shape() + " with " + labels.length + " labels");
        }
    }

    public int size() {
        return labels.length;
    }
}
