#!/usr/bin/python3
"""Generates the ONNX fixtures of OnnxImporterTest (tiny CNNs, seeded) into src/test/resources/onnx/.

Run from the repository root with Debian's PyTorch 1.13 and onnx:  /usr/bin/python3 src/test/python/make_onnx_fixtures.py
For each fixture NAME it writes NAME.onnx, NAME.input.npy (a seeded float32 batch of 2) and NAME.output.npy
(PyTorch's output for it, or numpy's for the hand-built graphs). bad_*.onnx are invalid-for-netslim models
(unsupported op, asymmetric pads, ...) that must be refused with a clear message.

Notes on what torch 1.13 emits (checked when writing this):
- the default export (do_constant_folding=True, training=EVAL) folds BatchNorm into the preceding Conv;
  BatchNormalization survives with training=TrainingMode.PRESERVE on a model in eval mode (do_constant_folding=False
  additionally keeps the state-dict names of all initializers); do_constant_folding=False alone still folds it.
- AvgPool2d(count_include_pad=True) with padding becomes an explicit Pad node followed by AveragePool.
- ReLU6 is Relu followed by Clip(0, 6): attributes up to opset 10, constant inputs from opset 11.
- x.view(x.size(0), -1) is a Reshape with a constant shape [N, -1] for a static batch, and a
  Shape-Gather-Unsqueeze-Concat chain with a dynamic batch (dynamic_axes).
- Dropout and nn.Identity leave no node in an eval-mode export, so those fixtures insert the nodes by hand.
"""
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import TensorProto, helper, numpy_helper
from torch.onnx import TrainingMode

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "onnx")


def seeded(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)


def randomize_bn(model):
    """Non-trivial BatchNorm parameters and statistics, so BN handling is really exercised."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)


def save_io(name, x, y):
    np.save(os.path.join(OUT, name + ".input.npy"), np.ascontiguousarray(x, dtype=np.float32))
    np.save(os.path.join(OUT, name + ".output.npy"), np.ascontiguousarray(y, dtype=np.float32))


def export(name, model, shape, opset=13, seed=0, dynamic=False, fresh_bn=False, **kw):
    """Exports a seeded model (eval mode) plus a seeded input and torch's output."""
    seeded(seed)
    if not fresh_bn:
        randomize_bn(model)
    model.eval()
    x = torch.randn(2, *shape)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(OUT, name + ".onnx")
    extra = dict(input_names=["input"], output_names=["output"])
    if dynamic:
        extra["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
    torch.onnx.export(model, x, path, opset_version=opset, **extra, **kw)
    onnx.checker.check_model(onnx.load(path))
    save_io(name, x.numpy(), y.numpy())
    return path


def conv_bn_relu():
    seeded(1)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.Conv2d(8, 4, 3, stride=2), nn.BatchNorm2d(4), nn.ReLU())


class Pools(nn.Module):
    def __init__(self):
        super().__init__()
        self.mp1 = nn.MaxPool2d(3, 2, padding=1, ceil_mode=True)
        self.conv = nn.Conv2d(3, 4, 1)
        self.mp2 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.ap1 = nn.AvgPool2d(3, 2, padding=1, count_include_pad=False, ceil_mode=True)
        self.ap2 = nn.AvgPool2d(3, 1, padding=1, count_include_pad=True)
        self.ap3 = nn.AvgPool2d(2, 2, ceil_mode=True)

    def forward(self, x):
        a = self.mp2(self.conv(self.mp1(x)))          # 11 -> 6 -> 3 (ceil keeps the partial windows)
        b = self.ap3(self.ap2(self.ap1(self.conv(x))))  # 11 -> 6 -> 6 -> 3
        return torch.cat([a, b], 1)


class Inception(nn.Module):
    def __init__(self):
        super().__init__()
        self.b1 = nn.Sequential(nn.Conv2d(4, 3, 1), nn.ReLU())
        self.b2 = nn.Sequential(nn.Conv2d(4, 2, 1), nn.ReLU(), nn.Conv2d(2, 5, 3, padding=1), nn.ReLU())
        self.b3 = nn.Sequential(nn.MaxPool2d(3, 1, padding=1, ceil_mode=True), nn.Conv2d(4, 2, 1), nn.ReLU())
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(10, 3))

    def forward(self, x):
        return self.head(torch.cat([self.b1(x), self.b2(x), self.b3(x)], 1))


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU())
        self.body = nn.Sequential(nn.Conv2d(6, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6), nn.ReLU(),
                                  nn.Conv2d(6, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6))

    def forward(self, x):
        x = self.stem(x)
        return torch.relu(self.body(x) + x)


class Clips(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.relu6 = nn.ReLU6()

    def forward(self, x):
        return torch.cat([self.relu6(self.conv(x)), torch.clamp(x, -0.5, 0.5)], 1)


class Grouped(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1, groups=2), nn.ReLU(),
                                 nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8, bias=False), nn.BatchNorm2d(8),
                                 nn.ReLU(), nn.Conv2d(8, 6, 1))

    def forward(self, x):
        return self.net(x)


class Dilated(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=2, dilation=2)
        self.b = nn.Conv2d(4, 5, (3, 5), stride=(1, 2), padding=(2, 1), dilation=(2, 1))

    def forward(self, x):
        return self.b(torch.relu(self.a(x)))


class FlattenLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))

    def forward(self, x):
        return self.fc(self.features(x))


class ViewLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3, stride=2)
        self.fc = nn.Linear(2 * 3 * 3, 4)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        return self.fc(x.view(x.size(0), -1))


class MatMulAdd(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3, stride=2)
        self.w = nn.Parameter(torch.randn(18, 5) * 0.3)
        self.b = nn.Parameter(torch.randn(5))
        self.w2 = nn.Parameter(torch.randn(5, 3) * 0.3)

    def forward(self, x):
        h = torch.relu(torch.matmul(torch.flatten(self.conv(x), 1), self.w) + self.b)
        return torch.matmul(h, self.w2)


def insert_after(model, producer_output, nodes):
    """Rewires the graph: nodes (the first reading producer_output) now sit between the producer and its readers."""
    g = model.graph
    last = nodes[-1].output[0]
    for n in g.node:
        for i, name in enumerate(n.input):
            if name == producer_output:
                n.input[i] = last
    for o in g.output:
        if o.name == producer_output:
            o.name = last
    idx = [i for i, n in enumerate(g.node) if producer_output in n.output][0]
    for k, n in enumerate(nodes):
        g.node.insert(idx + 1 + k, n)


def dropout_identity():
    """FlattenLinear with a Dropout (ratio as an input, opset 13) and an Identity spliced in by hand."""
    name = "dropout_identity"
    path = export(name, FlattenLinear(), (3, 6, 6), opset=13, seed=9)
    m = onnx.load(path)
    flat = [n for n in m.graph.node if n.op_type == "Flatten"][0].output[0]
    ratio = helper.make_node("Constant", [], ["drop_ratio"], name="drop_ratio",
                             value=numpy_helper.from_array(np.array(0.25, dtype=np.float32)))
    drop = helper.make_node("Dropout", [flat, "drop_ratio"], ["dropped"], name="fc_dropout")
    ident = helper.make_node("Identity", ["dropped"], ["ident_out"], name="")  # unnamed: named after its output
    insert_after(m, flat, [ratio, drop, ident])
    onnx.checker.check_model(m)
    onnx.save(m, path)


def make_model(nodes, inputs, outputs, initializers, opset=13):
    g = helper.make_graph(nodes, "handmade", inputs, outputs, initializers)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="make_onnx_fixtures")
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def gemm_alpha_beta():
    """Gemm with transB=0, alpha, beta and a (1, M) bias; initializers also listed as graph inputs (old style)."""
    seeded(11)
    x = np.random.randn(2, 6).astype(np.float32)
    b = np.random.randn(6, 4).astype(np.float32)
    c = np.random.randn(1, 4).astype(np.float32)
    y = 0.5 * x @ b + 2.0 * c
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 6]),
              helper.make_tensor_value_info("B", TensorProto.FLOAT, [6, 4]),
              helper.make_tensor_value_info("C", TensorProto.FLOAT, [1, 4])]
    node = helper.make_node("Gemm", ["x", "B", "C"], ["y"], name="gemm", alpha=0.5, beta=2.0, transB=0)
    m = make_model([node], inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])],
                   [numpy_helper.from_array(b, "B"), numpy_helper.from_array(c, "C")], opset=11)
    onnx.save(m, os.path.join(OUT, "gemm_alpha_beta.onnx"))
    save_io("gemm_alpha_beta", x, y)


def bad_models():
    """Graphs netslim must refuse, each with a clear message naming the node."""
    w = numpy_helper.from_array(np.ones((2, 3, 3, 3), np.float32), "w")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])

    def save(name, nodes, out_shape, inits=(w,)):
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)
        onnx.save(make_model(nodes, [x], [y], list(inits)), os.path.join(OUT, name + ".onnx"))

    conv = dict(kernel_shape=[3, 3])
    save("bad_unsupported_op", [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1], **conv),
                                helper.make_node("LRN", ["c"], ["y"], name="norm1", size=3)], [1, 2, 8, 8])
    save("bad_asymmetric_pads", [helper.make_node("Conv", ["x", "w"], ["y"], name="conv_asym", pads=[0, 0, 1, 1],
                                                  **conv)], [1, 2, 7, 7])
    save("bad_auto_pad", [helper.make_node("Conv", ["x", "w"], ["y"], name="conv_same", auto_pad="SAME_LOWER",
                                           **conv)], [1, 2, 8, 8])
    save("bad_pool_dilation", [helper.make_node("MaxPool", ["x"], ["y"], name="pool_dil", kernel_shape=[2, 2],
                                                dilations=[2, 2])], [1, 3, 6, 6], inits=())
    shape = numpy_helper.from_array(np.array([1, 3, 64], np.int64), "shape")
    save("bad_pad_before_relu", [helper.make_node("Pad", ["x", "pads"], ["p"], name="pad", mode="constant"),
                                  helper.make_node("Relu", ["p"], ["y"], name="relu_after_pad")], [1, 3, 10, 10],
         inits=(numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads"),))
    save("bad_broadcast_add", [helper.make_node("GlobalAveragePool", ["x"], ["g"], name="gap"),
                               helper.make_node("Add", ["x", "g"], ["y"], name="add_bcast")], [1, 3, 8, 8], inits=())
    x2 = helper.make_tensor_value_info("x2", TensorProto.FLOAT, [1, 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])
    onnx.save(make_model([helper.make_node("Add", ["x", "x2"], ["y"], name="add2")], [x, x2], [y], []),
              os.path.join(OUT, "bad_two_inputs.onnx"))
    save("bad_reshape", [helper.make_node("Reshape", ["x", "shape"], ["y"], name="to_3d")], [1, 3, 64],
         inits=(shape,))


def main():
    os.makedirs(OUT, exist_ok=True)
    export("conv_bn_relu_folded", conv_bn_relu(), (3, 9, 9), opset=13, seed=2)
    export("conv_bn_relu_bn_kept", conv_bn_relu(), (3, 9, 9), opset=11, seed=2,
           do_constant_folding=False, training=TrainingMode.PRESERVE)
    # freshly initialised BN (weight = running_var = 1, bias = running_mean = 0): torch de-duplicates the equal
    # initializers and reads them through Identity nodes
    export("conv_bn_fresh_identity_aliases", conv_bn_relu(), (3, 9, 9), opset=13, seed=2, fresh_bn=True,
           training=TrainingMode.PRESERVE)
    seeded(3)
    export("pools", Pools(), (3, 11, 11), opset=13, seed=3)
    seeded(4)
    export("inception_concat", Inception(), (4, 7, 7), opset=17, seed=4, dynamic=True)
    seeded(5)
    export("residual_add", Residual(), (3, 6, 6), opset=13, seed=5, training=TrainingMode.PRESERVE)
    seeded(6)
    clips = Clips()
    export("clip_relu6_opset11", clips, (3, 5, 5), opset=11, seed=6)
    export("clip_relu6_opset10", clips, (3, 5, 5), opset=10, seed=6)
    seeded(7)
    export("grouped_depthwise", Grouped(), (4, 8, 8), opset=13, seed=7, training=TrainingMode.PRESERVE)
    seeded(8)
    export("dilation", Dilated(), (3, 9, 10), opset=13, seed=8)
    seeded(9)
    export("flatten_linear", FlattenLinear(), (3, 6, 6), opset=13, seed=9)
    seeded(10)
    view = ViewLinear()
    export("view_linear_static", view, (3, 7, 7), opset=13, seed=10)
    export("view_linear_dynamic", view, (3, 7, 7), opset=13, seed=10, dynamic=True)
    seeded(12)
    export("matmul_add", MatMulAdd(), (3, 7, 7), opset=13, seed=12)
    seeded(9)
    dropout_identity()
    gemm_alpha_beta()
    bad_models()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
