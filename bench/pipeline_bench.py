"""Whole-pipeline benchmark (issues #3 and #4): one real run over a generated set, scored against its truth.

Runs ``taxcheck.pipeline.run_batch`` (ingest → OCR → extraction → checks → classifier → reports, 2 worker
processes, OMP_THREAD_LIMIT=1) over a generated set, scores reading accuracy with ``taxcheck.evaluate``,
and times the pipeline against the plain Tesseract CLI (``tesseract <page> - -l jpn``), the yardstick of one bare
full-page OCR pass: side by side, round by round over a seeded sample of the set's files, the pipeline's per-file
work and the CLI over the same pages, which goes first alternating. This machine's speed drifts by up to a
third within a run; timings taken at different minutes (the CLI before and after the whole run, as up to
session 21) moved the ratio by ±0.15, the rounds meet the same machine. The run folder it leaves is what
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
import statistics
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
    ap.add_argument("--paired-files", type=int, default=160, help="files sampled for the side-by-side timing")
    ap.add_argument("--per-round", type=int, default=16, help="files a round of the side-by-side timing")
    ap.add_argument("--out", type=Path, default=HERE, help="folder for pipeline_bench.md/.json")
    a = ap.parse_args(argv)
    if a.paired_files < max(a.workers, 1) or a.per_round < a.workers:
        # checked before the run: the timing comes after it, and a run of the whole set takes a quarter of an hour
        ap.error("the side-by-side timing needs --paired-files and --per-round of at least --workers files")
    rb = _read_bench()

    from taxcheck.evaluate import score
    from taxcheck.pipeline import discover, run_batch

    truth_path = a.set / "truth.json"
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    metrics_path = a.run / "metrics.json"
    if not metrics_path.is_file():
        t0 = time.perf_counter()
        run_batch(a.set, a.run, model_dir=a.model, truth=truth_path, workers=a.workers, label="bench")
        wall = time.perf_counter() - t0
    else:
        wall = None
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    wall = wall or metrics.get("wall_seconds") or metrics["timings"].get("total")
    scores = score(a.run / "results.csv", truth_path, a.run / "quarantine.csv")
    # the pipeline's work a file and plain tesseract over the same pages, side by side, on a seeded sample
    broken = {d["file"] for d in truth["documents"] if d.get("broken")}
    good = [f for f in discover(a.set, exclude=[truth_path]) if f.source not in broken]
    sample = random.Random(0).sample(good, min(len(good), a.paired_files))
    paired = _paired(rb, sample, a.set, a.model, a.workers, a.per_round)
    cli_spp = paired["cli_seconds_per_page_per_worker"]
    cli_wall = paired["cli_wall_seconds"]
    spp = metrics.get("seconds_per_page")
    ratios = {"paired": paired["ratio"]}
    if spp:
        ratios["full_run"] = round(spp / cli_spp, 2)
    pages = int(metrics["pages"])
    n_found = int(metrics["forms"])
    result = {
        "seed": truth["seed"], "n_forms": truth.get("n_forms", len(truth["forms"])), "documents": len(good) + len(broken),
        "pages": pages, "scan_pages": pages - sum(d["pages"] for d in truth["documents"] if d["variant"].startswith("pdf_text")),
        "workers": a.workers,
        "read_wall_seconds": round(wall, 1) if wall else None,
        "forms_per_minute": round(60 * n_found / wall, 1) if wall else None,
        "seconds_per_page_per_worker": metrics.get("seconds_per_page"),
        "tesseract_cli": {"pages": paired["pages"], "wall_seconds": cli_wall,
                          "seconds_per_page_per_worker": cli_spp,
                          "pages_per_minute": round(60 * paired["pages"] / cli_wall, 1) if cli_wall else None,
                          "forms_per_minute_equivalent": round(60 * a.workers / cli_spp * n_found / max(1, pages), 1)},
        "paired": paired,
        "pipeline_to_cli": ratios,
        "pipeline_pages_per_minute": round(60 * pages / wall, 1) if wall else None,
        "scores": scores, "targets": rb.TARGETS, "flags": metrics.get("flags"),
    }
    a.out.mkdir(parents=True, exist_ok=True)
    md = rb._markdown(result).replace("# Reading-stage benchmark (issue #3)",
                                      "# Whole-pipeline benchmark (issues #3, #4)\n\n"
                                      f"Command: `.venv/bin/python bench/pipeline_bench.py --set {a.set} --run {a.run} "
                                      f"--paired-files {a.paired_files} --per-round {a.per_round}`")
    md = md.replace("| reading wall time |", "| whole-pipeline wall time (read, check, score, reports) |")
    md += (f"\nPipeline pages per minute (the whole run): {result['pipeline_pages_per_minute']}.\n\n"
           f"Side by side ({paired['rounds']} rounds over {len(sample)} sampled files, {paired['pages']} pages; in each round "
           f"the pipeline's reading, checks and scoring of {a.per_round} files, one lot a worker, and plain tesseract "
           f"over the same pages, {a.workers} at once, which of the two goes first alternating):\n\n"
           "| | seconds a page per worker |\n| --- | --- |\n"
           f"| pipeline (per file, as `seconds_per_page` of metrics.json) | {paired['pipeline_seconds_per_page_per_worker']} |\n"
           f"| plain `tesseract <page> - -l jpn` | {cli_spp} |\n"
           f"| **pipeline ÷ CLI** | **{paired['ratio']}×** (95 % interval over the rounds, bootstrap: "
           f"{paired['ratio_95'][0]}–{paired['ratio_95'][1]}; per round {paired['round_ratio_min']}–"
           f"{paired['round_ratio_max']}, median {paired['round_ratio_median']}) |\n")
    if spp:
        md += (f"\nThe whole run's {spp} s a page per worker is {ratios['full_run']}× the CLI's time above; that run was "
               "timed at another hour than the side-by-side rounds.\n")
    (a.out / "pipeline_bench.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (a.out / "pipeline_bench.md").write_text(md, encoding="utf-8")
    print(md)
    return 0


def _paired(rb, files: list, root: Path, model: Path | None, workers: int, per_round: int) -> dict:
    """The pipeline's per-file work (``process_files``: reading, checks, scoring, crops) and the plain CLI over the
    same files' pages, round by round, each with ``workers`` at once and the order alternating, so that both meet
    the machine at the same speed (it drifts by up to a third within a run). One lot a worker and one CLI page are
    read untimed first: model loads are paid once, as in a run."""
    from concurrent.futures import ProcessPoolExecutor

    from taxcheck.pipeline import Settings, process_files

    rounds = [files[i:i + per_round] for i in range(0, len(files), per_round)]
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(max_workers=workers) as pool:
        settings = Settings(str(Path(root).resolve()), str(Path(tmp, "out")), str(model) if model else None)

        def pipeline(batch: list) -> tuple[float, int]:
            lots = [batch[w::workers] for w in range(workers)]
            outcomes = [o for fut in [pool.submit(process_files, lot, settings) for lot in lots if lot]
                        for o in fut.result()]
            return sum(o.seconds for o in outcomes), sum(o.pages for o in outcomes)

        pipeline(rounds[0][:workers])
        rows = []
        for i, batch in enumerate(rounds):
            Path(tmp, f"r{i}").mkdir()
            pngs = rb._page_images([Path(f.path) for f in batch], root, Path(tmp, f"r{i}"))
            if i == 0:
                rb._tesseract_cli(pngs[0])
            timed = {}
            for what in (("pipeline", "cli") if i % 2 == 0 else ("cli", "pipeline")):
                if what == "pipeline":
                    timed["pipeline"] = pipeline(batch)
                else:
                    wall, per_page = rb._time_cli(pngs, workers)
                    timed["cli"] = (per_page * len(pngs), len(pngs), wall)
            rows.append({"files": len(batch), "pages": timed["cli"][1], "pipeline_seconds": timed["pipeline"][0],
                         "pipeline_pages": timed["pipeline"][1], "cli_seconds": timed["cli"][0],
                         "cli_wall_seconds": timed["cli"][2], "pipeline_first": i % 2 == 0})
    p_sec, c_sec = sum(r["pipeline_seconds"] for r in rows), sum(r["cli_seconds"] for r in rows)
    pages = sum(r["pages"] for r in rows)
    per_round = sorted(r["pipeline_seconds"] / r["cli_seconds"] for r in rows)
    # how far the ratio could move with other rounds of the same kind: rounds resampled, the ratio of sums each time
    rng = random.Random(0)
    resampled = sorted(sum(r["pipeline_seconds"] for r in pick) / sum(r["cli_seconds"] for r in pick)
                       for pick in ([rng.choice(rows) for _ in rows] for _ in range(2000)))
    return {"rounds": len(rows), "pages": pages, "ratio": round(p_sec / c_sec, 3),
            "ratio_95": [round(resampled[49], 2), round(resampled[1949], 2)],
            "pipeline_seconds_per_page_per_worker": round(p_sec / max(1, sum(r["pipeline_pages"] for r in rows)), 3),
            "cli_seconds_per_page_per_worker": round(c_sec / max(1, pages), 3),
            "cli_wall_seconds": round(sum(r["cli_wall_seconds"] for r in rows), 1),
            "round_ratio_min": round(per_round[0], 2), "round_ratio_max": round(per_round[-1], 2),
            "round_ratio_median": round(statistics.median(per_round), 2), "per_round": rows}


if __name__ == "__main__":
    sys.exit(main())
