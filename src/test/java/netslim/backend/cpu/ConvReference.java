package netslim.backend.cpu;

import netslim.backend.ConvSpec;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/** What the CPU convs' tests compare against: the double-accumulating reference conv, then ReLU when asked. */
final class ConvReference {
    private ConvReference() {
    }

    /** y = conv(x, w) + bias (may be null), then max(·, 0) when relu; shaped by s from x. */
    static Tensor of(Tensor x, Tensor w, Tensor bias, ConvSpec s, boolean relu) {
        Shape xs = x.shape();
        Tensor y = Tensor.zeros(Shape.of(xs.n(), s.outChannels(), s.outH(xs.h()), s.outW(xs.w())));
        ReferenceConv.conv2d(x, w, bias, y, s);
        if (relu) for (int i = 0; i < y.size(); i++) y.set(i, Math.max(y.get(i), 0f));
        return y;
    }
}
