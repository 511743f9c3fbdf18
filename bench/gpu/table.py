"""Side-by-side table for bench/gpu/run.sh: netslim bench JSON lines vs torch_bench.py JSON lines (same GPU).

  python3 table.py NETSLIM_JSONL TORCH_JSONL [TRAIN_JSONL] > table.md
"""
import json
import sys


def load(path):
    """Every JSON object in the file: one per line (torch_bench.py) or pretty-printed over several (netslim --json)."""
    rows = []
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return rows
    decoder = json.JSONDecoder()
    i = text.find("{")
    while i >= 0:
        try:
            obj, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            i = text.find("{", i + 1)
            continue
        if isinstance(obj, dict):
            rows.append(obj)
        i = text.find("{", end)
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
        if "cuda_graph" in r:
            variant += " (graph)" if r["cuda_graph"] else " (eager)"
        dense = variant.startswith("dense")
        e = torch_ms(model, batch, prec, "eager") if dense else None
        c = torch_ms(model, batch, prec, "compile") if dense else None
        seen.add((model, batch, prec))
        ratio = f"{n / e:.2f}x" if n and e else "-"
        print(f"| {model} {variant} b{batch} {prec} | {fmt(n)} | {fmt(e)} | {fmt(c)} | {ratio} |")
    for r in th:  # torch workloads netslim did not produce (its step failed)
        key = (r.get("model"), r.get("batch"), r.get("precision"))
        if key not in seen and r.get("mode") == "eager":
            print(f"| {key[0]} dense b{key[1]} {key[2]} | - | {fmt(r.get('median_ms'))} | "
                  f"{fmt(torch_ms(*key, 'compile'))} | - |")
    # Compressed against dense at the same batch, precision and graph mode: latency ratio beside the MACs ratio.
    pairs = []
    for t in ns:
        if t.get("variant", "dense") == "dense":
            continue
        for d in ns:
            if (d.get("variant", "dense") == "dense" and d.get("batch") == t.get("batch")
                    and d.get("precision") == t.get("precision") and d.get("cuda_graph") == t.get("cuda_graph")
                    and d.get("macs_per_image") and t.get("macs_per_image") and t.get("median_ms")):
                pairs.append((t, d))
    if pairs:
        print()
        print("| compressed | batch | dense ms | compressed ms | latency ratio | MACs ratio | MACs / latency ratio |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for t, d in pairs:
            lat = d["median_ms"] / t["median_ms"]
            mac = d["macs_per_image"] / t["macs_per_image"]
            print(f"| {t.get('model')} {t.get('variant')} {t.get('precision')} | {t.get('batch')} | "
                  f"{d['median_ms']:.2f} | {t['median_ms']:.2f} | {lat:.2f}x | {mac:.2f}x | {mac / lat:.2f} |")
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
