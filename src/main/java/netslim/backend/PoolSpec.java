package netslim.backend;

/**
 * Geometry of a 2-D max or average pool, as PyTorch defines it (including {@code ceil_mode}, which torchvision's
 * GoogLeNet uses, and {@code count_include_pad} for average pooling). Max pooling pads with -infinity.
 */
public record PoolSpec(int kh, int kw, int strideH, int strideW, int padH, int padW, boolean ceilMode,
                       boolean countIncludePad) {

    public PoolSpec {
        if (kh <= 0 || kw <= 0 || strideH <= 0 || strideW <= 0 || padH < 0 || padW < 0) {
            throw new IllegalArgumentException("invalid pool geometry " + this);
        }
        if (2 * padH > kh || 2 * padW > kw) {
            throw new IllegalArgumentException("pool padding must be at most half the kernel: " + this);
        }
    }

    public static PoolSpec of(int k, int stride, int pad, boolean ceilMode) {
        return new PoolSpec(k, k, stride, stride, pad, pad, ceilMode, true);
    }

    public int outH(int h) {
        return outSize(h, kh, strideH, padH);
    }

    public int outW(int w) {
        return outSize(w, kw, strideW, padW);
    }

    /** PyTorch's pooling_output_shape: with ceil mode the last window must start inside the (left-padded) input. */
    private int outSize(int in, int k, int s, int p) {
        int num = in + 2 * p - k;
        int out = (ceilMode ? Math.floorDiv(num + s - 1, s) : Math.floorDiv(num, s)) + 1;
        if (ceilMode && (long) (out - 1) * s >= in + p) out--;
        return out;
    }
}
