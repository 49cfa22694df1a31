"""Generation speed of ``taxcheck samples``: forms per second and bytes per form for a batch.

    .venv/bin/python bench/bench_samples.py --n 1000 --seed 1 --out bench/work/samples1000
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from taxcheck.samples import generate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("bench/work/samples_bench"))
    args = ap.parse_args()
    wall, cpu = time.perf_counter(), time.process_time()
    truth_path = generate(args.out, n=args.n, seed=args.seed)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(json.dumps({
        "forms": len(truth["forms"]), "documents": len(truth["documents"]),
        "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
        "forms_per_s_wall": round(len(truth["forms"]) / wall, 2), "forms_per_s_cpu": round(len(truth["forms"]) / cpu, 2),
        "bytes_total": size, "kb_per_form": round(size / 1024 / len(truth["forms"]), 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "with_errors": sum(f["needs_correction"] for f in truth["forms"]) / len(truth["forms"]),
        "with_oddities": sum(bool(f["oddities"]) for f in truth["forms"]) / len(truth["forms"]),
    }, indent=1))


if __name__ == "__main__":
    main()
