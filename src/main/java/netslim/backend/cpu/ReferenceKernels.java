package netslim.backend.cpu;

import netslim.backend.Backend;

/** Scalar, readable reference implementation of every {@link Backend} op: the executable spec (placeholder). */
public abstract class ReferenceKernels implements Backend {
    public static ReferenceKernels create() {
        throw new UnsupportedOperationException("TODO(reference helper): ReferenceKernels");
    }
}
