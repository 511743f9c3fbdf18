#!/usr/bin/python3
"""Writes PyTorch ground truth for ReferenceVsTorchTest under src/test/resources/ops/<case>/<tensor>.npy.

Run from the repository root with the Debian PyTorch (1.13):  /usr/bin/python3 src/test/python/make_op_fixtures.py
Each case directory holds a float64 `spec.npy` (the op's parameters, in the order the Java test reads them), the
inputs, and PyTorch's outputs and gradients (float32). Everything is seeded; keep the tensors tiny.
"""
import os
import shutil

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "ops")


def save(case, **tensors):
    d = os.path.join(ROOT, case)
    os.makedirs(d, exist_ok=True)
    for name, t in tensors.items():
        a = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
        a = a.astype(np.float64 if name == "spec" else np.float32)
        np.save(os.path.join(d, name + ".npy"), np.ascontiguousarray(a))


def uniform(*shape):
    return torch.rand(*shape, dtype=torch.float32) * 2 - 1


def grads(y, dy, *xs):
    return torch.autograd.grad(y, xs, dy)


def conv_cases():
    # spec: in, out, kh, kw, sh, sw, ph, pw, dh, dw, groups, has_bias ; x shape
    cases = {
        "conv_g2_dil2": ((4, 6, 3, 3, 1, 1, 2, 2, 2, 2, 2, 1), (2, 4, 7, 6)),
        "conv_depthwise_s2": ((4, 4, 3, 3, 2, 2, 1, 1, 1, 1, 4, 0), (2, 4, 9, 8)),
        "conv_rect": ((3, 5, 1, 3, 2, 1, 0, 1, 1, 1, 1, 1), (1, 3, 6, 5)),
    }
    for name, (spec, xshape) in cases.items():
        cin, cout, kh, kw, sh, sw, ph, pw, dh, dw, g, has_bias = spec
        x = uniform(*xshape).requires_grad_()
        w = uniform(cout, cin // g, kh, kw).requires_grad_()
        b = uniform(cout).requires_grad_() if has_bias else None
        y = F.conv2d(x, w, b, (sh, sw), (ph, pw), (dh, dw), g)
        dy = uniform(*y.shape)
        inputs = (x, w, b) if has_bias else (x, w)
        gs = grads(y, dy, *inputs)
        out = dict(spec=spec, x=x, w=w, y=y, dy=dy, dx=gs[0], dw=gs[1])
        if has_bias:
            out.update(b=b, db=gs[2])
        save(name, **out)


def linear_case():
    x, w, b = uniform(3, 7).requires_grad_(), uniform(5, 7).requires_grad_(), uniform(5).requires_grad_()
    y = F.linear(x, w, b)
    dy = uniform(*y.shape)
    dx, dw, db = grads(y, dy, x, w, b)
    save("linear", x=x, w=w, b=b, y=y, dy=dy, dx=dx, dw=dw, db=db)


def pool_cases():
    # maxpool spec: kh, kw, sh, sw, ph, pw, ceil ; integer-valued inputs make many ties (first max wins).
    maxpools = {
        "maxpool_k3s2_ceil_7": ((3, 3, 2, 2, 0, 0, 1), (1, 2, 7, 7)),
        "maxpool_k3s2p1_ceil_7": ((3, 3, 2, 2, 1, 1, 1), (1, 2, 7, 7)),
        "maxpool_k3s2_ceil_13": ((3, 3, 2, 2, 0, 0, 1), (1, 2, 13, 13)),
        "maxpool_k2s2_ceil_5": ((2, 2, 2, 2, 0, 0, 1), (2, 1, 5, 5)),
        "maxpool_k3s1p1": ((3, 3, 1, 1, 1, 1, 0), (1, 2, 6, 6)),
        "maxpool_rect": ((3, 2, 2, 1, 1, 1, 1), (1, 2, 6, 5)),
    }
    for name, (spec, xshape) in maxpools.items():
        kh, kw, sh, sw, ph, pw, ceil = spec
        x = torch.randint(0, 3, xshape).float().requires_grad_()
        y = F.max_pool2d(x, (kh, kw), (sh, sw), (ph, pw), ceil_mode=bool(ceil))
        dy = uniform(*y.shape)
        save(name, spec=spec, x=x, y=y, dy=dy, dx=grads(y, dy, x)[0])
    # avgpool spec: kh, kw, sh, sw, ph, pw, ceil, count_include_pad
    avgpools = {
        "avgpool_k3s2p1_ceil_cip_7": ((3, 3, 2, 2, 1, 1, 1, 1), (1, 2, 7, 7)),
        "avgpool_k3s2p1_ceil_nopad_7": ((3, 3, 2, 2, 1, 1, 1, 0), (1, 2, 7, 7)),
        "avgpool_k3s2p1_nopad_6": ((3, 3, 2, 2, 1, 1, 0, 0), (1, 2, 6, 6)),
        "avgpool_k2s2_ceil_cip_5": ((2, 2, 2, 2, 0, 0, 1, 1), (2, 1, 5, 5)),
        "avgpool_k3s1p1_nopad_5": ((3, 3, 1, 1, 1, 1, 0, 0), (1, 2, 5, 5)),
        "avgpool_k5s3_8": ((5, 5, 3, 3, 0, 0, 0, 1), (1, 2, 8, 8)),
        "avgpool_rect_ceil_cip": ((3, 2, 2, 1, 1, 1, 1, 1), (1, 2, 6, 5)),
    }
    for name, (spec, xshape) in avgpools.items():
        kh, kw, sh, sw, ph, pw, ceil, cip = spec
        x = uniform(*xshape).requires_grad_()
        y = F.avg_pool2d(x, (kh, kw), (sh, sw), (ph, pw), ceil_mode=bool(ceil), count_include_pad=bool(cip))
        dy = uniform(*y.shape)
        save(name, spec=spec, x=x, y=y, dy=dy, dx=grads(y, dy, x)[0])
    x = uniform(2, 3, 4, 5).requires_grad_()
    y = F.adaptive_avg_pool2d(x, 1)
    dy = uniform(*y.shape)
    save("global_avgpool", x=x, y=y, dy=dy, dx=grads(y, dy, x)[0])


def batchnorm_cases():
    # spec: momentum, eps
    cases = {"bn_train": ((0.1, 1e-5), (4, 3, 3, 5)), "bn_two_per_channel": ((0.3, 1e-3), (2, 2, 1, 1))}
    for name, (spec, xshape) in cases.items():
        momentum, eps = spec
        c = xshape[1]
        bn = torch.nn.BatchNorm2d(c, eps=eps, momentum=momentum)
        with torch.no_grad():
            bn.weight.copy_(uniform(c) + 1.5)
            bn.bias.copy_(uniform(c))
            bn.running_mean.copy_(uniform(c))
            bn.running_var.copy_(torch.rand(c) + 0.5)
        run_mean0, run_var0 = bn.running_mean.clone(), bn.running_var.clone()
        x = (uniform(*xshape) * 2 + 0.3).requires_grad_()
        bn.train()
        y = bn(x)
        dy = uniform(*y.shape)
        dx, dgamma, dbeta = grads(y, dy, x, bn.weight, bn.bias)
        bn.eval()
        y_eval = bn(x)
        save(name, spec=spec, x=x, gamma=bn.weight, beta=bn.bias, run_mean0=run_mean0, run_var0=run_var0, y=y,
             run_mean1=bn.running_mean, run_var1=bn.running_var, dy=dy, dx=dx, dgamma=dgamma, dbeta=dbeta,
             y_eval=y_eval)


def cross_entropy_cases():
    # spec: label_smoothing, scale (the upstream gradient of the mean loss)
    cases = {"ce_plain": ((0.0, 1.0), 1.0), "ce_smooth": ((0.1, 0.5), 1.0), "ce_large_logits": ((0.2, 2.0), 60.0)}
    for name, (spec, magnitude) in cases.items():
        smoothing, scale = spec
        logits = (uniform(5, 7) * magnitude).requires_grad_()
        labels = torch.randint(0, 7, (5,))
        loss = F.cross_entropy(logits, labels, label_smoothing=smoothing)
        (dlogits,) = grads(loss, torch.tensor(scale), logits)
        save(name, spec=spec, logits=logits, labels=labels, loss=loss, probs=F.softmax(logits, dim=1),
             dlogits=dlogits)


def sgd_cases():
    # spec: lr, momentum, weight_decay, nesterov, steps
    cases = {"sgd_plain": (0.1, 0.0, 0.0, 0, 2), "sgd_momentum_wd": (0.05, 0.9, 5e-4, 0, 3),
             "sgd_nesterov_wd": (0.05, 0.9, 1e-3, 1, 3)}
    for name, spec in cases.items():
        lr, momentum, wd, nesterov, steps = spec
        p = torch.nn.Parameter(uniform(11))
        p0 = p.detach().clone()
        opt = torch.optim.SGD([p], lr=lr, momentum=momentum, weight_decay=wd, nesterov=bool(nesterov))
        gs = uniform(steps, 11)
        for s in range(steps):
            p.grad = gs[s].clone()
            opt.step()
        out = dict(spec=spec, p0=p0, grads=gs, p1=p)
        if momentum > 0:
            out["v1"] = opt.state[p]["momentum_buffer"]
        save(name, **out)


def activation_cases():
    x = torch.tensor([-1.5, -0.0, 0.0, 0.25, 3.0, 6.0, 7.5, -2.0, 5.999, 6.001, 1e-3, -1e-3])
    x = x.reshape(1, 3, 2, 2).requires_grad_()
    dy = uniform(*x.shape)
    y = F.relu(x)
    save("relu", x=x, y=y, dy=dy, dx=grads(y, dy, x)[0])
    y6 = F.relu6(x)  # hardtanh(0, 6): zero gradient at and beyond the bounds
    save("relu6", spec=(0.0, 6.0), x=x, y=y6, dy=dy, dx=grads(y6, dy, x)[0])


def main():
    torch.manual_seed(20261126)
    shutil.rmtree(ROOT, ignore_errors=True)
    conv_cases()
    linear_case()
    pool_cases()
    batchnorm_cases()
    cross_entropy_cases()
    sgd_cases()
    activation_cases()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(ROOT) for f in fs)
    print(f"wrote {ROOT} ({total} bytes)")


if __name__ == "__main__":
    main()
