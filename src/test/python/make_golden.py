#!/usr/bin/python3
"""Golden files for netslim's model tests: ONNX exports, inputs and PyTorch's logits, kept small.

Run:  /usr/bin/python3 src/test/python/make_golden.py [--out src/test/resources/golden] [--only NAME ...]
Needs Debian's python3-torch (1.13), python3-torchvision (0.14) and python3-onnx (1.12).

For every model NAME this writes, under --out:
  NAME.onnx.gz        gzipped ONNX (opset 13, input "input" NCHW with a dynamic batch axis, output "logits"),
                      exported UNFOLDED: torch.onnx.export(..., training=TrainingMode.PRESERVE on a model in eval
                      mode, do_constant_folding=False). PRESERVE skips torch's eval-mode Conv+BN fusion pass, so
                      every BatchNormalization node survives and every initializer is named by its state-dict key
                      ("conv1.conv.weight", "conv1.bn.running_var", ...). One file serves both ZooGoldenTest (weights
                      copied by name into the zoo model) and OnnxGoldenTest (imported as a graph). The script asserts
                      both properties.
  NAME.folded.onnx.gz (CIFAR models only) the default export (training=EVAL, do_constant_folding=True): PyTorch
                      folds each BatchNorm into the preceding Conv (weights and bias), which is what users' files look
                      like; OnnxGoldenTest only.
  NAME.input.npy      the seeded input batch (float32 NCHW, batch 2, standard normal).
  NAME.output.npy     the logits (float32) of the same model evaluated in float64: the exact answer, so that PyTorch's
                      own float32 result and netslim's are both measured against it (the script prints PyTorch's
                      float32 error; about 1e-6 to 3e-5 relative L2).
Models (10 classes each):
  googlenet      torchvision GoogLeNet(aux_logits=False, transform_input=False), input 3x64x64 (its ceil-mode pools
                 give 32->16->8->4->2 px).
  resnet18       torchvision resnet18, input 3x64x64.
  mobilenet_v2   torchvision mobilenet_v2 (not in the zoo; OnnxGoldenTest only), input 3x64x64.
  googlenet-cifar, vgg11-cifar, resnet20-cifar: the PyTorch twins below of netslim.nn.models (same module paths as
                 the zoo's node names), inputs as in INPUTS.

How the weights were made, so that the files compress (total <= 12 MB) and still test something:
  * Conv/Linear weights: sparse, quantised and zero-sum. Each output unit keeps about NNZ_PER_OUTPUT randomly placed
    nonzero taps (all of them when its fan-in is smaller), in +-pairs; a nonzero is q * step with q uniform in
    {+-1, ..., +-4} and step a power of two chosen so that Var(w) ~ 2 / fan_in (He init). Values k * 2^e have short
    mantissas and most are exactly +0.0 (never -0.0: a random sign bit on every zero costs a bit per weight), which
    deflate packs into ~1-2 bits per weight instead of 32.
  * Conv/Linear biases: uniform in [-0.1, 0.1] rounded to multiples of 2^-7.
  * BatchNorm: calibrated layer by layer on the golden input itself, in execution order, so that every layer's
    activations stay O(1) (otherwise deep random nets reduce to their last biases): running_mean = the batch mean
    of the BN input + noise, running_var = its batch variance (floored at a tenth of the layer's mean variance) times
    a random factor; gamma ~ U(GAMMA), beta ~ U(BETA). beta is positive so that most ReLUs pass: with beta centred on
    0 these random nets amplify rounding, and even PyTorch's own float32 googlenet and mobilenet_v2 logits were 2e-4
    (relative L2) away from float64; zero-sum weights and positive beta bring that to ~2e-5, well under the tests'
    1e-4. For the torchvision models the statistics are arbitrary floats (var factor in [0.7, 1.4]). For the CIFAR
    models (which also get a folded file) var + eps and gamma are powers of two (var = 4^j - eps exactly, so
    sqrt(var + eps) = 2^j in float32), so that folding gamma / sqrt(var + eps) into the conv weights is exact and the
    folded file compresses too.
  * Seeds: torch.manual_seed(SEED + index of the model in MODELS) before building, weighting and drawing the input.
"""
import argparse
import copy
import gzip
import io
import math
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torchvision

SEED = 20261126
CLASSES = 10
BATCH = 2
NNZ_PER_OUTPUT = 96
GAMMA = (0.5, 1.5)
BETA = (0.25, 1.25)
INPUTS = {
    "googlenet": (3, 64, 64),
    "resnet18": (3, 64, 64),
    "mobilenet_v2": (3, 64, 64),
    "googlenet-cifar": (1, 28, 28),
    "vgg11-cifar": (1, 28, 28),
    "resnet20-cifar": (3, 32, 32),
}
MODELS = list(INPUTS)
FOLDED = {"googlenet-cifar", "vgg11-cifar", "resnet20-cifar"}


# ---------------------------------------------------------------------------------------------------------------
# PyTorch twins of the zoo's CIFAR-size models (module paths = netslim node names)
# ---------------------------------------------------------------------------------------------------------------

def conv_bn_relu(cin, cout, k):
    """Conv (with bias, as in kuangliu/pytorch-cifar) + BN + ReLU, 'same' padding."""
    return [nn.Conv2d(cin, cout, k, padding=k // 2), nn.BatchNorm2d(cout), nn.ReLU(True)]


class CifarInception(nn.Module):
    """kuangliu/pytorch-cifar's Inception: b3 is 1x1 -> 3x3 -> 3x3 (a factorised 5x5)."""

    def __init__(self, cin, n1, n3r, n3, n5r, n5, pool):
        super().__init__()
        self.b1 = nn.Sequential(*conv_bn_relu(cin, n1, 1))
        self.b2 = nn.Sequential(*conv_bn_relu(cin, n3r, 1), *conv_bn_relu(n3r, n3, 3))
        self.b3 = nn.Sequential(*conv_bn_relu(cin, n5r, 1), *conv_bn_relu(n5r, n5, 3), *conv_bn_relu(n5, n5, 3))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), *conv_bn_relu(cin, pool, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


INCEPTIONS = [  # name, in, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj (GoogLeNet's table)
    ("a3", 192, 64, 96, 128, 16, 32, 32), ("b3", 256, 128, 128, 192, 32, 96, 64),
    ("a4", 480, 192, 96, 208, 16, 48, 64), ("b4", 512, 160, 112, 224, 24, 64, 64),
    ("c4", 512, 128, 128, 256, 24, 64, 64), ("d4", 512, 112, 144, 288, 32, 64, 64),
    ("e4", 528, 256, 160, 320, 32, 128, 128), ("a5", 832, 256, 160, 320, 32, 128, 128),
    ("b5", 832, 384, 192, 384, 48, 128, 128),
]


class GoogLeNetCifar(nn.Module):
    """Inception v1 for 28-32 px inputs (kuangliu/pytorch-cifar, HRank), with a global average pool."""

    def __init__(self, cin, classes):
        super().__init__()
        self.pre_layers = nn.Sequential(*conv_bn_relu(cin, 192, 3))
        for name, *spec in INCEPTIONS:
            setattr(self, name, CifarInception(*spec))
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(1024, classes)

    def forward(self, x):
        x = self.b3(self.a3(self.pre_layers(x)))
        x = self.maxpool(x)
        x = self.e4(self.d4(self.c4(self.b4(self.a4(x)))))
        x = self.maxpool(x)
        x = self.b5(self.a5(x))
        return self.linear(torch.flatten(self.avgpool(x), 1))


class Vgg11Cifar(nn.Module):
    """VGG-11 with BN; ceil-mode 2x2 pools (28 px: 14, 7, 4, 2, 1) and a global average pool before Linear(512)."""

    CFG = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]

    def __init__(self, cin, classes):
        super().__init__()
        layers = []
        for v in self.CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=True))
            else:
                layers += conv_bn_relu(cin, v, 3)
                cin = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(512, classes)

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class CifarBasicBlock(nn.Module):
    """He et al. 2016 basic block with a 1x1 conv + BN projection when the shape changes (torchvision names)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet20Cifar(nn.Module):
    def __init__(self, cin, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        c = 16
        for stage, (cout, stride) in enumerate([(16, 1), (32, 2), (64, 2)], start=1):
            blocks = []
            for b in range(3):
                blocks.append(CifarBasicBlock(c, cout, stride if b == 0 else 1))
                c = cout
            setattr(self, f"layer{stage}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def build(name, cin):
    if name == "googlenet":
        return torchvision.models.googlenet(weights=None, num_classes=CLASSES, aux_logits=False,
                                            transform_input=False, init_weights=False)
    if name in ("resnet18", "mobilenet_v2"):
        return getattr(torchvision.models, name)(weights=None, num_classes=CLASSES)
    return {"googlenet-cifar": GoogLeNetCifar, "vgg11-cifar": Vgg11Cifar, "resnet20-cifar": ResNet20Cifar}[name](
        cin, CLASSES)


# ---------------------------------------------------------------------------------------------------------------
# Compressible weights and calibrated BatchNorm statistics
# ---------------------------------------------------------------------------------------------------------------

def sparse_quantised_(w):
    """Overwrites w (out, fan_in...) with sparse, zero-sum k * 2^e values, Var ~ 2 / fan_in (see header)."""
    out = w.shape[0]
    fan_in = w[0].numel()
    nnz = min(fan_in, NNZ_PER_OUTPUT)
    half = nnz // 2
    # q uniform in {+-1, ..., +-4}: E[q^2] = 7.5; density nnz / fan_in
    step = 2.0 ** round(math.log2(math.sqrt(2.0 / (max(nnz, 1) * 7.5))))
    q = torch.randint(1, 5, (out, half)).float() * (torch.randint(0, 2, (out, half)).float() * 2 - 1)
    values = torch.cat([q, -q, torch.randint(1, 5, (out, nnz - 2 * half)).float()], 1) * step
    # zero-sum in +-pairs: a unit's output then has little mean over positive (post-ReLU) inputs, which keeps the
    # BN mean subtraction from cancelling digits (PyTorch's own float32 result drifts from float64 otherwise)
    places = torch.rand(out, fan_in).argsort(1)[:, :nnz]
    dense = torch.zeros(out, fan_in).scatter_(1, places, values)  # +0.0 only: -0.0 would cost a bit each
    w.copy_(dense.reshape(w.shape))


def init_weights(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                sparse_quantised_(m.weight)
                if m.bias is not None:
                    m.bias.copy_(torch.round(torch.empty_like(m.bias).uniform_(-0.1, 0.1) * 128) / 128)


def calibrate_bn(model, x, power_of_two):
    """Sets each BN's statistics from its own input on x, in registration (= execution) order."""
    model.eval()
    for bn in [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]:
        seen = {}
        hook = bn.register_forward_pre_hook(lambda mod, inp: seen.setdefault("x", inp[0].detach()))
        with torch.no_grad():
            model(x)
        hook.remove()
        z = seen["x"]
        c = z.shape[1]
        mean = z.mean((0, 2, 3))
        var = z.var((0, 2, 3))
        var = var.clamp_min(0.1 * var.mean().item() + 1e-4)  # nearly dead channels would amplify rounding noise
        with torch.no_grad():
            bn.running_mean.copy_(mean + 0.1 * var.sqrt() * torch.randn(c))
            bn.bias.uniform_(*BETA)
            if power_of_two:
                j = torch.round(torch.log2(var) / 2) + torch.randint(-1, 2, (c,))  # var ~ 4^j, off by <= 1 octave
                bn.running_var.copy_(4.0 ** j - bn.eps)
                assert torch.equal((bn.running_var + bn.eps).sqrt(), 2.0 ** j), "sqrt(var + eps) not exact"
                bn.weight.copy_(2.0 ** torch.randint(-1, 1, (c,)).float())
            else:
                bn.running_var.copy_(var * torch.empty(c).uniform_(0.7, 1.4))
                bn.weight.uniform_(*GAMMA)


# ---------------------------------------------------------------------------------------------------------------
# Export and checks
# ---------------------------------------------------------------------------------------------------------------

def export(model, x, folded):
    buf = io.BytesIO()
    kw = dict(opset_version=13, input_names=["input"], output_names=["logits"],
              dynamic_axes={"input": {0: "n"}, "logits": {0: "n"}})
    if folded:
        torch.onnx.export(model, x, buf, **kw)
    else:
        torch.onnx.export(model, x, buf, training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False, **kw)
    return buf.getvalue()


def check_unfolded(model, data):
    g = onnx.load_from_string(data).graph
    inits = {t.name for t in g.initializer}
    state = {k for k in model.state_dict() if not k.endswith("num_batches_tracked")}
    assert state == inits, f"initializer names differ from state-dict keys: {sorted(state ^ inits)[:5]}"
    bns = sum(1 for n in g.node if n.op_type == "BatchNormalization")
    want = sum(1 for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    assert bns == want, f"{bns} BatchNormalization nodes, model has {want}"


def check_folded(data):
    g = onnx.load_from_string(data).graph
    assert not any(n.op_type == "BatchNormalization" for n in g.node), "folded export still has BatchNormalization"


def write_gz(path, data):
    with open(path, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(data)


def make(name, index, out):
    torch.manual_seed(SEED + index)
    c, h, w = INPUTS[name]
    model = build(name, c).eval()
    init_weights(model)
    x = torch.randn(BATCH, c, h, w)
    calibrate_bn(model, x, power_of_two=name in FOLDED)
    with torch.no_grad():  # the exact answer (float64), not PyTorch's float32 rounding of it
        y = copy.deepcopy(model).double()(x.double())
        y32_error = ((model(x).double() - y).norm() / y.norm()).item()
    np.save(os.path.join(out, name + ".input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out, name + ".output.npy"), y.numpy().astype(np.float32))
    data = export(model, x, folded=False)
    check_unfolded(model, data)
    write_gz(os.path.join(out, name + ".onnx.gz"), data)
    if name in FOLDED:
        folded = export(model, x, folded=True)
        check_folded(folded)
        write_gz(os.path.join(out, name + ".folded.onnx.gz"), folded)
    params = sum(p.numel() for p in model.parameters())
    print(f"{name}: input {tuple(x.shape)} params {params} logits std {y.std().item():.3f}, "
          f"PyTorch float32 vs float64 relative L2 {y32_error:.1e}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "resources", "golden"))
    p.add_argument("--only", nargs="*", default=MODELS)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(2)
    for i, name in enumerate(MODELS):
        if name in a.only:
            make(name, i, a.out)
    total = sum(os.path.getsize(os.path.join(a.out, f)) for f in os.listdir(a.out))
    for f in sorted(os.listdir(a.out)):
        print(f"  {f:40s} {os.path.getsize(os.path.join(a.out, f)):>10,d} B")
    print(f"total {total:,d} B")


if __name__ == "__main__":
    main()
