package netslim.backend.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A growable device buffer reused across calls (im2col columns, labels, per-row losses). Every use is on the one
 * stream, so reuse is ordered; growing synchronises first so no queued kernel still reads the old buffer.
 */
final class DeviceScratch {
    private final CudaContext ctx;
    private final String what;
    private CUdeviceptr ptr;
    private long bytes;

    DeviceScratch(CudaContext ctx, String what) {
        this.ctx = ctx;
        this.what = what;
    }

    /** A buffer of at least {@code need} bytes (contents undefined). */
    CUdeviceptr get(long need) {
        if (need > bytes) {
            release();
            long size = Math.max(need, Math.min(2 * bytes, need + (64L << 20))); // grow with some headroom
            ptr = ctx.allocate(size);
            bytes = size;
        }
        return ptr;
    }

    void release() {
        if (ptr != null) {
            ctx.synchronize("scratch " + what);
            ctx.free(ptr);
            ptr = null;
            bytes = 0;
        }
    }
}
