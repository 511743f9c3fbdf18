package netslim.nn;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import netslim.NetslimException;
import netslim.backend.ConvSpec;
import netslim.backend.PoolSpec;
import netslim.tensor.Shape;

/**
 * The layer kinds a {@link Graph} may hold. Each kind knows its output shape (validating its inputs) and the shapes
 * of its parameters, keyed by suffix ("weight", "bias", "running_mean", ...); the full parameter name is
 * {@code nodeName + "." + suffix}, as in PyTorch's state dict. Shapes here include the batch dimension.
 */
public sealed interface Layer {

    /** Kind name as written in graph.json and in stats ("Conv2d", "BatchNorm2d", ...). */
    String kind();

    /** Output shape for the given input shapes; throws {@link NetslimException} naming the problem. */
    Shape outputShape(List<Shape> inputs);

    /** Parameter and buffer shapes by suffix, in a stable order. */
    default Map<String, Shape> params() {
        return Map.of();
    }

    /** Number of inputs, or -1 for any number ≥ 1. */
    default int arity() {
        return 1;
    }

    /**
     * Multiply-adds of one image through layer l with output shape out: convs and linear layers count, everything
     * else is 0 (the convention of netslim.report.ModelStats, which reports it).
     */
    static long macs(Layer l, Shape out) {
        if (l instanceof Conv2d c) return c.spec().macs(out.h(), out.w());
        if (l instanceof Linear lin) return (long) lin.in() * lin.out();
        return 0;
    }

    private static Shape requireRank4(String kind, Shape s) {
        if (s.rank() != 4) throw new NetslimException(kind + " expects an NCHW input, got " + s);
        return s;
    }

    /** 2-D convolution; weight (out, in/groups, kh, kw), optional bias (out). */
    record Conv2d(ConvSpec spec, boolean bias) implements Layer {
        public String kind() { return "Conv2d"; }

        public Shape outputShape(List<Shape> in) {
            Shape x = requireRank4(kind(), in.get(0));
            if (x.c() != spec.inChannels()) {
                throw new NetslimException("Conv2d expects " + spec.inChannels() + " input channels, got " + x);
            }
            int oh = spec.outH(x.h()), ow = spec.outW(x.w());
            if (oh <= 0 || ow <= 0) throw new NetslimException("Conv2d input " + x + " is smaller than its kernel");
            return Shape.of(x.n(), spec.outChannels(), oh, ow);
        }

        public Map<String, Shape> params() {
            Map<String, Shape> p = new LinkedHashMap<>();
            p.put("weight", Shape.of(spec.outChannels(), spec.inChannels() / spec.groups(), spec.kh(), spec.kw()));
            if (bias) p.put("bias", Shape.of(spec.outChannels()));
            return p;
        }
    }

    /** BatchNorm2d; weight = γ, bias = β, running_mean, running_var (buffers). */
    record BatchNorm2d(int channels, float eps, float momentum) implements Layer {
        public String kind() { return "BatchNorm2d"; }

        public Shape outputShape(List<Shape> in) {
            Shape x = requireRank4(kind(), in.get(0));
            if (x.c() != channels) throw new NetslimException("BatchNorm2d expects " + channels + " channels, got " + x);
            return x;
        }

        public Map<String, Shape> params() {
            Map<String, Shape> p = new LinkedHashMap<>();
            for (String s : List.of("weight", "bias", "running_mean", "running_var")) p.put(s, Shape.of(channels));
            return p;
        }
    }

    record Relu() implements Layer {
        public String kind() { return "ReLU"; }
        public Shape outputShape(List<Shape> in) { return in.get(0); }
    }

    /** min(max(x, lo), hi); ReLU6 is Clip(0, 6). */
    record Clip(float lo, float hi) implements Layer {
        public String kind() { return "Clip"; }
        public Shape outputShape(List<Shape> in) { return in.get(0); }
    }

    record MaxPool2d(PoolSpec spec) implements Layer {
        public String kind() { return "MaxPool2d"; }

        public Shape outputShape(List<Shape> in) {
            Shape x = requireRank4(kind(), in.get(0));
            int oh = spec.outH(x.h()), ow = spec.outW(x.w());
            if (oh <= 0 || ow <= 0) throw new NetslimException("MaxPool2d input " + x + " is smaller than its window");
            return Shape.of(x.n(), x.c(), oh, ow);
        }
    }

    record AvgPool2d(PoolSpec spec) implements Layer {
        public String kind() { return "AvgPool2d"; }

        public Shape outputShape(List<Shape> in) {
            Shape x = requireRank4(kind(), in.get(0));
            int oh = spec.outH(x.h()), ow = spec.outW(x.w());
            if (oh <= 0 || ow <= 0) throw new NetslimException("AvgPool2d input " + x + " is smaller than its window");
            return Shape.of(x.n(), x.c(), oh, ow);
        }
    }

    /** Mean over H and W: (N, C, H, W) → (N, C, 1, 1). */
    record GlobalAvgPool() implements Layer {
        public String kind() { return "GlobalAvgPool"; }

        public Shape outputShape(List<Shape> in) {
            Shape x = requireRank4(kind(), in.get(0));
            return Shape.of(x.n(), x.c(), 1, 1);
        }
    }

    /** (N, in) → (N, out); weight (out, in), optional bias (out). */
    record Linear(int in, int out, boolean bias) implements Layer {
        public String kind() { return "Linear"; }

        public Shape outputShape(List<Shape> ins) {
            Shape x = ins.get(0);
            if (x.rank() != 2 || x.dim(1) != in) {
                throw new NetslimException("Linear expects (N, " + in + "), got " + x);
            }
            return Shape.of(x.dim(0), out);
        }

        public Map<String, Shape> params() {
            Map<String, Shape> p = new LinkedHashMap<>();
            p.put("weight", Shape.of(out, in));
            if (bias) p.put("bias", Shape.of(out));
            return p;
        }
    }

    /** Inverted dropout in training, identity in inference. */
    record Dropout(float p) implements Layer {
        public Dropout {
            if (!(p >= 0 && p < 1)) throw new NetslimException("Dropout probability must be in [0, 1), got " + p);
        }
        public String kind() { return "Dropout"; }
        public Shape outputShape(List<Shape> in) { return in.get(0); }
    }

    /** (N, ...) → (N, prod(...)); a view, no data movement. */
    record Flatten() implements Layer {
        public String kind() { return "Flatten"; }

        public Shape outputShape(List<Shape> in) {
            Shape x = in.get(0);
            return Shape.of(x.dim(0), (int) (x.numel() / Math.max(1, x.dim(0))));
        }
    }

    /** Channel concatenation (axis 1) of NCHW inputs with equal N, H, W. */
    record Concat() implements Layer {
        public String kind() { return "Concat"; }
        public int arity() { return -1; }

        public Shape outputShape(List<Shape> in) {
            Shape first = requireRank4(kind(), in.get(0));
            int c = 0;
            for (Shape s : in) {
                requireRank4(kind(), s);
                if (s.n() != first.n() || s.h() != first.h() || s.w() != first.w()) {
                    throw new NetslimException("Concat inputs differ in N, H or W: " + in);
                }
                c += s.c();
            }
            return first.with(1, c);
        }
    }

    /** Elementwise sum of inputs of equal shape (residual connections). */
    record Add() implements Layer {
        public String kind() { return "Add"; }
        public int arity() { return -1; }

        public Shape outputShape(List<Shape> in) {
            for (Shape s : in) {
                if (!s.equals(in.get(0))) throw new NetslimException("Add inputs differ in shape: " + in);
            }
            return in.get(0);
        }
    }

    /** Passes its input through (ONNX Identity); a view. */
    record Identity() implements Layer {
        public String kind() { return "Identity"; }
        public Shape outputShape(List<Shape> in) { return in.get(0); }
    }
}
