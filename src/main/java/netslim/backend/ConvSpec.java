package netslim.backend;

/**
 * Geometry of a 2-D convolution, as PyTorch's {@code nn.Conv2d} defines it. Weight shape is
 * {@code (outChannels, inChannels / groups, kh, kw)}.
 */
public record ConvSpec(int inChannels, int outChannels, int kh, int kw, int strideH, int strideW,
                       int padH, int padW, int dilationH, int dilationW, int groups) {

    public ConvSpec {
        if (inChannels <= 0 || outChannels <= 0 || kh <= 0 || kw <= 0 || strideH <= 0 || strideW <= 0
                || padH < 0 || padW < 0 || dilationH <= 0 || dilationW <= 0 || groups <= 0) {
            throw new IllegalArgumentException("invalid conv geometry " + this);
        }
        if (inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("channels " + inChannels + "->" + outChannels
                    + " not divisible by groups " + groups);
        }
    }

    /** Square kernel, same stride and padding on both axes, no dilation, one group. */
    public static ConvSpec of(int in, int out, int k, int stride, int pad) {
        return new ConvSpec(in, out, k, k, stride, stride, pad, pad, 1, 1, 1);
    }

    public ConvSpec withGroups(int g) {
        return new ConvSpec(inChannels, outChannels, kh, kw, strideH, strideW, padH, padW, dilationH, dilationW, g);
    }

    public ConvSpec withChannels(int in, int out) {
        return new ConvSpec(in, out, kh, kw, strideH, strideW, padH, padW, dilationH, dilationW, groups);
    }

    public int outH(int h) {
        return (h + 2 * padH - dilationH * (kh - 1) - 1) / strideH + 1;
    }

    public int outW(int w) {
        return (w + 2 * padW - dilationW * (kw - 1) - 1) / strideW + 1;
    }

    public boolean isPointwise() {
        return kh == 1 && kw == 1 && strideH == 1 && strideW == 1 && padH == 0 && padW == 0 && groups == 1;
    }

    public boolean isDepthwise() {
        return groups > 1 && groups == inChannels && groups == outChannels;
    }

    /** Weight elements per output channel: (in / groups) * kh * kw. */
    public int fanIn() {
        return inChannels / groups * kh * kw;
    }

    /** Multiply-adds for one image with an output plane of oh x ow: fanIn · outChannels · oh · ow. */
    public long macs(int oh, int ow) {
        return (long) fanIn() * outChannels * oh * ow;
    }
}
