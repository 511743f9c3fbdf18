"""Side-by-side table for bench/gpu/run.sh: netslim bench JSON lines vs torch_bench.py JSON lines (same GPU).

  python3 table.py NETSLIM_JSONL TORCH_JSONL [TRAIN_JSONL] > table.md
"""
import json
import sys


def load(path):
    rows = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError:
                        pass
    except OSError:
        pass
    return rows


def main():
    ns = load(sys.argv[1])
    th = load(sys.argv[2])
    tr = load(sys.argv[3]) if len(sys.argv) > 3 else []
    print("| workload | netslim ms | torch eager ms | torch compile ms | netslim / eager |")
    print("|---|---:|---:|---:|---:|")
    keys = sorted({(r.get("model"), r.get("batch"), r.get("precision")) for r in ns + th
                   if "median_ms" in r}, key=lambda k: (str(k[0]), k[2] or "", k[1] or 0))
    for model, batch, prec in keys:
        def pick(rows, mode=None):
            for r in rows:
                if (r.get("model"), r.get("batch"), r.get("precision")) == (model, batch, prec) \
                        and (mode is None or r.get("mode") == mode) and "median_ms" in r:
                    return r["median_ms"]
            return None
        n, e, c = pick(ns), pick(th, "eager"), pick(th, "compile")
        ratio = f"{n / e:.2f}x" if n and e else "-"
        fmt = lambda v: f"{v:.2f}" if v else "-"
        print(f"| {model} b{batch} {prec} | {fmt(n)} | {fmt(e)} | {fmt(c)} | {ratio} |")
    if tr:
        print()
        print("| training step | images/s | median step ms |")
        print("|---|---:|---:|")
        for r in tr:
            who = r.get("device", "torch " + r.get("mode", "")) + (" " + r["variant"] if "variant" in r else "")
            print(f"| {who} {r.get('model')} b{r.get('batch')} {r.get('precision', 'tf32' if r.get('tf32') else 'fp32')}"
                  f" | {r.get('images_per_s')} | {r.get('median_step_ms')} |")


if __name__ == "__main__":
    main()
