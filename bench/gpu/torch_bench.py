"""PyTorch side of bench/gpu/run.sh: the same workloads as `netslim bench` and TrainStepBench, on the same GPU.

  python3 torch_bench.py infer  --batches 1,32,256 [--compile]   -> JSON lines: googlenet 224 inference latency
  python3 torch_bench.py train  --batch 128 --steps 30            -> JSON line: googlenet-cifar training step

Models are defined here (torchvision's GoogLeNet without aux heads, eps 0.001, ceil-mode pools, the 3x3 "5x5";
kuangliu's CIFAR GoogLeNet with a global final pool), so torchvision is not needed. Timing: warm-up, then CUDA
events around each iteration, median; host->device copy of the input inside the timed region, as netslim's bench
uploads its input every iteration. FP32 disables TF32 in cuBLAS and cuDNN; TF32 enables both.
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

INCEPTION = [  # stage, in, 1x1, 3x3red, 3x3, 5x5red, 5x5, pool
    ("3a", 192, 64, 96, 128, 16, 32, 32), ("3b", 256, 128, 128, 192, 32, 96, 64),
    ("4a", 480, 192, 96, 208, 16, 48, 64), ("4b", 512, 160, 112, 224, 24, 64, 64),
    ("4c", 512, 128, 128, 256, 24, 64, 64), ("4d", 512, 112, 144, 288, 32, 64, 64),
    ("4e", 528, 256, 160, 320, 32, 128, 128), ("5a", 832, 256, 160, 320, 32, 128, 128),
    ("5b", 832, 384, 192, 384, 48, 128, 128)]


def basic(cin, cout, k, s=1, p=0, eps=1e-3, bias=False):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, p, bias=bias), nn.BatchNorm2d(cout, eps=eps), nn.ReLU(True))


class Inception(nn.Module):
    def __init__(self, cin, n1, r3, n3, r5, n5, pp, cifar):
        super().__init__()
        eps, bias = (1e-5, True) if cifar else (1e-3, False)
        self.b1 = basic(cin, n1, 1, eps=eps, bias=bias)
        self.b2 = nn.Sequential(basic(cin, r3, 1, eps=eps, bias=bias), basic(r3, n3, 3, p=1, eps=eps, bias=bias))
        b3 = [basic(cin, r5, 1, eps=eps, bias=bias), basic(r5, n5, 3, p=1, eps=eps, bias=bias)]
        if cifar:
            b3.append(basic(n5, n5, 3, p=1, eps=eps, bias=bias))
        self.b3 = nn.Sequential(*b3)
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=not cifar), basic(cin, pp, 1, eps=eps, bias=bias))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


def googlenet(classes=1000):
    layers = [basic(3, 64, 7, 2, 3), nn.MaxPool2d(3, 2, ceil_mode=True), basic(64, 64, 1), basic(64, 192, 3, p=1),
              nn.MaxPool2d(3, 2, ceil_mode=True)]
    for st, *c in INCEPTION:
        layers.append(Inception(*c, cifar=False))
        if st == "3b":
            layers.append(nn.MaxPool2d(3, 2, ceil_mode=True))
        if st == "4e":
            layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(1024, classes)]
    return nn.Sequential(*layers)


def googlenet_cifar(in_ch=1, classes=10):
    layers = [basic(in_ch, 192, 3, p=1, eps=1e-5, bias=True)]
    for st, *c in INCEPTION:
        layers.append(Inception(*c, cifar=True))
        if st in ("3b", "4e"):
            layers.append(nn.MaxPool2d(3, 2, 1))
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, classes)]
    return nn.Sequential(*layers)


def precision(tf32):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32


def timed(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    return times[len(times) // 2]


def infer(args):
    dev = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    for tf32 in [p == "tf32" for p in args.precisions.split(",")]:
        precision(tf32)
        for b in [int(v) for v in args.batches.split(",")]:
            model = googlenet().to(dev).eval()
            x = torch.randn(b, 3, 224, 224)
            mode = "eager"
            if args.compile:
                model = torch.compile(model)
                mode = "compile"
            with torch.inference_mode():
                t0 = time.time()
                model(x.to(dev))  # includes compilation when compiling
                first = time.time() - t0
                ms = timed(lambda: model(x.to(dev)).float().cpu(), 3, args.iters if b < 256 else max(5, args.iters // 2))
            print(json.dumps({"model": "googlenet", "batch": b, "precision": "tf32" if tf32 else "fp32",
                              "mode": mode, "median_ms": round(ms, 3), "images_per_s": round(b * 1000 / ms, 1),
                              "first_call_s": round(first, 2)}), flush=True)


def train(args):
    dev = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    precision(args.tf32)
    model = googlenet_cifar().to(dev).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    g = torch.Generator().manual_seed(3)
    xs = [torch.rand(args.batch, 1, 28, 28, generator=g) for _ in range(4)]
    ys = [torch.randint(0, 10, (args.batch,), generator=g) for _ in range(4)]
    step = [0]

    def one():
        i = step[0] % 4
        step[0] += 1
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(xs[i].to(dev)), ys[i].to(dev))
        loss.backward()
        opt.step()
        return loss.item()  # a host sync per step, as netslim's loss read-back

    ms = timed(one, max(2, args.steps // 5), args.steps)
    print(json.dumps({"model": "googlenet-cifar", "batch": args.batch, "precision": "tf32" if args.tf32 else "fp32",
                      "mode": "eager-train", "median_step_ms": round(ms, 3),
                      "images_per_s": round(args.batch * 1000 / ms, 1)}), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["infer", "train"])
    p.add_argument("--batches", default="1,32,256")
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--precisions", default="fp32,tf32")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--tf32", action="store_true")
    a = p.parse_args()
    if not torch.cuda.is_available():
        print("torch: no CUDA device", file=sys.stderr)
        sys.exit(1)
    print(f"# torch {torch.__version__} on {torch.cuda.get_device_name(0)}", file=sys.stderr)
    infer(a) if a.what == "infer" else train(a)


if __name__ == "__main__":
    main()
