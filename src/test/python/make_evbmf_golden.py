#!/usr/bin/python3
"""Reference values for netslim.decompose.Evbmf, computed independently from the formulas of ALGORITHMS.md.

Run:  /usr/bin/python3 src/test/python/make_evbmf_golden.py [--out src/test/resources/evbmf]
Needs NumPy and SciPy (Debian python3-numpy, python3-scipy).

EVBMF (Nakajima et al. 2013, global analytic solution) for Y (L x M after transposing so that L <= M) with all its
H = L singular values g_1 >= ... >= g_H (netslim always uses the full spectrum, so the residual and (L - H) terms
vanish; they are kept below to mirror the formula):
  alpha = L/M, tau_bar = 2.5129 sqrt(alpha), x_bar = (1 + tau_bar)(1 + alpha/tau_bar)
  residual = ||Y||_F^2 - sum g^2 (0 when H = L)
  sigma2 = argmin over [lower, upper] of
     F = sum_{x<=x_bar} (x - ln x) + sum_{x>x_bar} (x - tau(x) + ln((tau(x)+1)/x) + alpha ln(tau(x)/alpha + 1))
         + residual/(M sigma2) + (L - H) ln sigma2,       x_h = g_h^2/(M sigma2)
  upper = (sum g^2 + residual)/(L M); k = min(ceil(L/(1+alpha)) - 1, H) - 1;
  lower = max(g_{k+1}^2/(M x_bar), mean(g_{k+1..H}^2)/M)
  threshold = sqrt(M sigma2 x_bar); rank = #{g_h > threshold}
The minimisation here differs on purpose from the Java one (grid in ln sigma2 + own Brent): a dense grid of 4001
points in sigma2 itself brackets the lowest value, then SciPy's bounded Brent refines it to xatol = 1e-13 * upper.
The script also runs SciPy directly on the whole interval (what most peer code does) and prints both results.

Writes, under --out: caseN.npy (float64 matrix, C order) and golden.json:
  {"cases": [{"name", "file", "rows", "cols", "singular_values", "sigma2", "threshold", "rank", "lower", "upper"}]}
"""
import argparse
import json
import os

import numpy as np
from scipy.optimize import minimize_scalar

TAU_BAR_FACTOR = 2.5129


def tau(x, alpha):
    b = x - (1 + alpha)
    return 0.5 * (b + np.sqrt(np.maximum(b * b - 4 * alpha, 0.0)))


def objective(sigma2, L, M, g, residual, x_bar):
    H = len(g)
    alpha = L / M
    x = g ** 2 / (M * sigma2)
    small = x[x <= x_bar]
    big = x[x > x_bar]
    t = tau(big, alpha)
    return (np.sum(small - np.log(small)) + np.sum(big - t + np.log((t + 1) / big) + alpha * np.log(t / alpha + 1))
            + residual / (M * sigma2) + (L - H) * np.log(sigma2))


def evbmf(Y):
    if Y.shape[0] > Y.shape[1]:
        Y = Y.T
    L, M = Y.shape
    g_all = np.linalg.svd(Y, compute_uv=False)
    H = L
    g = g_all[:H]
    residual = 0.0
    alpha = L / M
    tau_bar = TAU_BAR_FACTOR * np.sqrt(alpha)
    x_bar = (1 + tau_bar) * (1 + alpha / tau_bar)
    upper = (np.sum(g ** 2) + residual) / (L * M)
    k = int(min(np.ceil(L / (1 + alpha)) - 1, H)) - 1
    lower = max(g[k + 1] ** 2 / (M * x_bar), np.mean(g[k + 1:] ** 2) / M)
    f = lambda s: objective(s, L, M, g, residual, x_bar)
    grid = np.linspace(lower, upper, 4001)
    values = np.array([f(s) for s in grid])
    i = int(np.argmin(values))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    res = minimize_scalar(f, bounds=(a, b), method="bounded", options={"xatol": 1e-13 * upper, "maxiter": 2000})
    sigma2 = res.x if res.fun <= values[i] else grid[i]
    naive = minimize_scalar(f, bounds=(lower, upper), method="bounded", options={"xatol": 1e-13 * upper}).x
    threshold = np.sqrt(M * sigma2 * x_bar)
    rank = int(np.sum(g > threshold))
    return dict(g=g, sigma2=float(sigma2), threshold=float(threshold), rank=rank, lower=float(lower),
                upper=float(upper), naive=float(naive), L=L, M=M)


def planted(rng, rows, cols, rank, noise):
    """A rank-`rank` matrix with singular values spread over [1, 5] times sqrt(max dim), plus Gaussian noise."""
    u, _ = np.linalg.qr(rng.standard_normal((rows, rank)))
    v, _ = np.linalg.qr(rng.standard_normal((cols, rank)))
    s = np.linspace(5, 1, rank) * np.sqrt(max(rows, cols))
    return (u * s) @ v.T + noise * rng.standard_normal((rows, cols))


def cases(rng):
    """(name, matrix): wide, tall, square, conv-like unfoldings, planted ranks (some weak), pure noise, one row."""
    yield "wide_planted_r5", planted(rng, 20, 60, 5, 1.0)
    yield "tall_planted_r4", planted(rng, 50, 18, 4, 1.0)
    yield "square_planted_r7", planted(rng, 32, 32, 7, 1.0)
    yield "square_noise", rng.standard_normal((24, 24))
    yield "wide_noise", 0.01 * rng.standard_normal((16, 144))
    yield "conv_mode0_like", 0.05 * rng.standard_normal((32, 16 * 9)) + 0.02 * planted(rng, 32, 144, 6, 0.0)
    yield "tall_decaying", rng.standard_normal((40, 12)) * np.geomspace(3, 0.1, 12)
    yield "wide_strong_r6", 3 * planted(rng, 24, 96, 6, 0.3)
    yield "row_vector", rng.standard_normal((1, 9))
    yield "tiny_2x3", rng.standard_normal((2, 3))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "resources", "evbmf"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(20240601)
    golden = []
    for i, (name, Y) in enumerate(cases(rng)):
        Y = np.ascontiguousarray(Y, dtype=np.float64)
        r = evbmf(Y)
        fname = f"case{i}.npy"
        np.save(os.path.join(args.out, fname), Y)
        golden.append(dict(name=name, file=fname, rows=Y.shape[0], cols=Y.shape[1],
                           singular_values=[float(x) for x in r["g"]], sigma2=r["sigma2"], threshold=r["threshold"],
                           rank=r["rank"], lower=r["lower"], upper=r["upper"]))
        print(f"{name:20s} {Y.shape[0]:3d}x{Y.shape[1]:<3d} rank={r['rank']:2d} "
              f"sigma2={r['sigma2']:.10g} (scipy on the whole interval: {r['naive']:.10g}, "
              f"rel diff {abs(r['naive'] - r['sigma2']) / r['sigma2']:.1e}) bounds=[{r['lower']:.4g}, {r['upper']:.4g}]")
    with open(os.path.join(args.out, "golden.json"), "w") as f:
        json.dump({"cases": golden}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
