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
    def torch_ms(model, batch, prec, mode):
        for r in th:
            if (r.get("model"), r.get("batch"), r.get("precision"), r.get("mode")) == (model, batch, prec, mode):
                return r.get("median_ms")
        return None

    fmt = lambda v: f"{v:.2f}" if v else "-"
    seen = set()
    for r in sorted(ns, key=lambda r: (r.get("variant", ""), r.get("precision", ""), r.get("batch", 0))):
        model, batch, prec, variant = r.get("model"), r.get("batch"), r.get("precision"), r.get("variant", "dense")
        n = r.get("median_ms")
        e = torch_ms(model, batch, prec, "eager") if variant == "dense" else None
        c = torch_ms(model, batch, prec, "compile") if variant == "dense" else None
        seen.add((model, batch, prec))
        ratio = f"{n / e:.2f}x" if n and e else "-"
        print(f"| {model} {variant} b{batch} {prec} | {fmt(n)} | {fmt(e)} | {fmt(c)} | {ratio} |")
    for r in th:  # torch workloads netslim did not produce (its step failed)
        key = (r.get("model"), r.get("batch"), r.get("precision"))
        if key not in seen and r.get("mode") == "eager":
            print(f"| {key[0]} dense b{key[1]} {key[2]} | - | {fmt(r.get('median_ms'))} | "
                  f"{fmt(torch_ms(*key, 'compile'))} | - |")
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
