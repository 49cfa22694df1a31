"""Whole-pipeline benchmark (issues #3 and #4): one real run over a generated set, scored against its truth.

Runs ``taxcheck.pipeline.run_batch`` (ingest → OCR → extraction → checks → classifier → reports, 2 worker
processes, OMP_THREAD_LIMIT=1) over a generated set, scores reading accuracy with ``taxcheck.evaluate``,
and in the same run times the plain Tesseract CLI (``tesseract <page> - -l jpn``) over a seeded sample of
the same page images, as the yardstick for one bare full-page OCR pass: right before the pipeline's run and
right after it, since this machine's speed drifts by up to 15 % within an hour; the ratio is quoted against
each and against their mean. The run folder it leaves is what
``bench/flag_bench.py --run-dir`` re-scores for the flagging figures, so the expensive OCR is done once.

    .venv/bin/taxcheck samples --out /work/benchdata/bench9001 --n 1000 --seed 9001
    .venv/bin/python bench/pipeline_bench.py --set /work/benchdata/bench9001 --run /work/benchdata/run9001
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
HERE = Path(__file__).resolve().parent


def _read_bench():
    """bench/read_bench.py's helpers (page images, CLI timing, the report layout): one way to do each."""
    spec = importlib.util.spec_from_file_location("read_bench", HERE / "read_bench.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", type=Path, required=True, help="generated set (holds truth.json)")
    ap.add_argument("--run", type=Path, required=True, help="run folder (created; reused if it holds metrics.json)")
    ap.add_argument("--model", type=Path, default=None, help="model folder (default: models/default)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cli-pages", type=int, default=80, help="pages sampled for the plain tesseract CLI timing")
    ap.add_argument("--out", type=Path, default=HERE, help="folder for pipeline_bench.md/.json")
    a = ap.parse_args(argv)
    rb = _read_bench()

    from taxcheck.evaluate import score
    from taxcheck.pipeline import run_batch

    truth_path = a.set / "truth.json"
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    metrics_path = a.run / "metrics.json"
    # plain tesseract over a seeded sample of the same pages, same machine, same workers: before and after the run
    files = sorted(p for p in a.set.rglob("*") if p.is_file() and p.name != "truth.json")
    broken = {d["file"] for d in truth["documents"] if d.get("broken")}
    good = [f for f in files if f.relative_to(a.set).as_posix() not in broken]
    sample = random.Random(0).sample(good, min(len(good), a.cli_pages))
    with tempfile.TemporaryDirectory() as tmp:
        pngs = rb._page_images(sample, a.set, Path(tmp))
        cli = {}
        if not metrics_path.is_file():
            cli["before"] = _time_cli(rb, pngs, a.workers)
            t0 = time.perf_counter()
            run_batch(a.set, a.run, model_dir=a.model, truth=truth_path, workers=a.workers, label="bench")
            wall = time.perf_counter() - t0
        else:
            wall = None
        cli["after"] = _time_cli(rb, pngs, a.workers)
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    wall = wall or metrics.get("wall_seconds") or metrics["timings"].get("total")
    scores = score(a.run / "results.csv", truth_path, a.run / "quarantine.csv")
    cli_spp = sum(c["seconds_per_page_per_worker"] for c in cli.values()) / len(cli)
    cli_wall = sum(c["wall_seconds"] for c in cli.values()) / len(cli)
    spp = metrics.get("seconds_per_page")
    ratios = {when: round(spp / c["seconds_per_page_per_worker"], 2) for when, c in cli.items()} if spp else {}
    if spp and len(cli) > 1:
        ratios["mean"] = round(spp / cli_spp, 2)

    pages = int(metrics["pages"])
    n_found = int(metrics["forms"])
    result = {
        "seed": truth["seed"], "n_forms": truth.get("n_forms", len(truth["forms"])), "documents": len(files),
        "pages": pages, "scan_pages": pages - sum(d["pages"] for d in truth["documents"] if d["variant"].startswith("pdf_text")),
        "workers": a.workers,
        "read_wall_seconds": round(wall, 1) if wall else None,
        "forms_per_minute": round(60 * n_found / wall, 1) if wall else None,
        "seconds_per_page_per_worker": metrics.get("seconds_per_page"),
        "tesseract_cli": {"pages": len(pngs), "wall_seconds": round(cli_wall, 1),
                          "seconds_per_page_per_worker": round(cli_spp, 2),
                          "pages_per_minute": round(60 * len(pngs) / cli_wall, 1) if cli_wall else None,
                          "forms_per_minute_equivalent": round(60 * a.workers / cli_spp * n_found / max(1, pages), 1),
                          **cli},
        "pipeline_to_cli": ratios,
        "pipeline_pages_per_minute": round(60 * pages / wall, 1) if wall else None,
        "scores": scores, "targets": rb.TARGETS, "flags": metrics.get("flags"),
    }
    a.out.mkdir(parents=True, exist_ok=True)
    md = rb._markdown(result).replace("# Reading-stage benchmark (issue #3)",
                                      "# Whole-pipeline benchmark (issues #3, #4)\n\n"
                                      f"Command: `.venv/bin/python bench/pipeline_bench.py --set {a.set} --run {a.run}`")
    md = md.replace("| reading wall time |", "| whole-pipeline wall time (read, check, score, reports) |")
    md += (f"\nPipeline pages per minute: {result['pipeline_pages_per_minute']}; plain tesseract CLI pages per minute "
           f"(same workers, {len(pngs)} sampled pages): {result['tesseract_cli']['pages_per_minute']}.\n")
    md += "".join(f"\nThe CLI {when} the run: {c['seconds_per_page_per_worker']} s a page per worker; the pipeline's time a "
                  f"page per worker is {ratios.get(when)}× that.\n" for when, c in cli.items())
    if "mean" in ratios:
        md += f"\nAgainst the mean of the two: {ratios['mean']}×.\n"
    (a.out / "pipeline_bench.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (a.out / "pipeline_bench.md").write_text(md, encoding="utf-8")
    print(md)
    return 0


def _time_cli(rb, pngs: list[Path], workers: int) -> dict:
    """bench/read_bench.py's CLI timing, after one page read untimed, so that the first timing does not pay for
    loading the model from a cold disk."""
    rb._tesseract_cli(pngs[0])
    wall, per_page = rb._time_cli(pngs, workers)
    return {"wall_seconds": round(wall, 1), "seconds_per_page_per_worker": round(per_page, 2)}


if __name__ == "__main__":
    sys.exit(main())
