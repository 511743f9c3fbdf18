package netslim.io;

import java.util.Arrays;

import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/** What an ONNX value name stands for while a model is imported. */
sealed interface OnnxValue {

    /** The output of a netslim node (or the graph input), with its shape at the import batch size. */
    record Act(String node, Shape shape) implements OnnxValue {
    }

    /** A float constant (initializer or Constant node). */
    record Floats(Tensor tensor) implements OnnxValue {
    }

    /**
     * An integer constant (shapes, axes, indices). Shape arithmetic of dynamic-batch exports (Shape → Gather →
     * Unsqueeze → Concat → Reshape) is evaluated on these, with {@link #BATCH} standing for the batch size.
     */
    record Ints(long[] values, int[] dims) implements OnnxValue {
        /** The symbolic batch dimension, as produced by Shape of an activation. */
        static final long BATCH = Long.MIN_VALUE;

        static Ints vector(long... values) {
            return new Ints(values, new int[] {values.length});
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; i < values.length; i++) {
                b.append(i > 0 ? ", " : "").append(values[i] == BATCH ? "N" : Long.toString(values[i]));
            }
            return b.append(']').toString();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Ints i && Arrays.equals(values, i.values) && Arrays.equals(dims, i.dims);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(values) + Arrays.hashCode(dims);
        }
    }

    /**
     * The output of a zero-padding Pad node, not materialised: its only reader (a Conv, or an AveragePool as PyTorch
     * emits for count_include_pad=True) takes the padding into its own geometry.
     */
    record Padded(Act source, int padH, int padW) implements OnnxValue {
    }
}
