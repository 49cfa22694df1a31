"""Flagging benchmark: does the classifier send ≥ 99% of the forms needing correction to a person while
flagging ≤ 30% of all forms?

On a freshly generated set (seed unseen in training) read by the real pipeline
(``taxcheck.pipeline.run_batch``), reports recall and flag rate at the model's threshold, recall per
error code, false-flag rate per oddity kind, recall and flag rate per scan kind, the same for the rules alone and
for a DummyClassifier, ROC-AUC / PR-AUC / Brier and a reliability plot. The expensive OCR run is done once: pass
``--run-dir`` to score an existing run folder again (it needs forms.jsonl, and truth.json there or
``--truth``).

    .venv/bin/python bench/flag_bench.py --n 1000 --seed 9001            # generate, run, score
    .venv/bin/python bench/flag_bench.py --run-dir /tmp/flag_9001/run    # re-score an existing run

Writes bench/flag_bench.md, bench/flag_bench.json and bench/flag_bench.png (``--out`` changes the stem).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TARGET_RECALL = 0.99
TARGET_FLAG_RATE = 0.30


def prepare_run(args) -> tuple[Path, Path]:
    """The run folder and truth file to score: reuse, or generate + run the pipeline once."""
    if args.run_dir and (Path(args.run_dir) / "forms.jsonl").is_file():
        run_dir = Path(args.run_dir)
        truth = Path(args.truth) if args.truth else run_dir / "truth.json"
        return run_dir, truth
    work = Path(args.work or f"/tmp/taxcheck_flag_bench_{args.seed}")
    samples = work / "samples"
    truth = samples / "truth.json"
    if not truth.is_file():
        from taxcheck.samples import generate

        t0 = time.time()
        truth = Path(generate(samples, n=args.n, seed=args.seed))
        print(f"generated {args.n} forms (seed {args.seed}) in {time.time() - t0:.0f}s", file=sys.stderr)
    run_dir = Path(args.run_dir) if args.run_dir else work / "run"
    from taxcheck.pipeline import run_batch

    t0 = time.time()
    run_batch(samples, run_dir, model_dir=Path(args.model), truth=truth, workers=args.workers)
    print(f"pipeline ran in {time.time() - t0:.0f}s", file=sys.stderr)
    shutil.copy(truth, run_dir / "truth.json")
    return run_dir, truth


def rates(flagged: np.ndarray, y: np.ndarray) -> dict:
    from taxcheck.classify.train import rates as _rates

    return _rates(flagged.astype(bool), y)


def per_kind(flagged: np.ndarray, y: np.ndarray, truth: list[dict]) -> tuple[dict, dict]:
    """Recall per error code; false-flag rate per oddity kind (among forms needing no correction)."""
    errs: dict[str, list[bool]] = defaultdict(list)
    odds: dict[str, list[bool]] = defaultdict(list)
    for i, t in enumerate(truth):
        for code in {e["code"] for e in t.get("errors", [])}:
            errs[code].append(bool(flagged[i]))
        if y[i] == 0:
            for kind in set(t.get("oddities", [])) or {"(none)"}:
                odds[kind].append(bool(flagged[i]))
    recall = {c: {"n": len(v), "recall": float(np.mean(v))} for c, v in sorted(errs.items())}
    false_flag = {k: {"n": len(v), "false_flag_rate": float(np.mean(v))} for k, v in sorted(odds.items())}
    return recall, false_flag


def per_scan(flagged: np.ndarray, y: np.ndarray, truth: list[dict]) -> dict:
    """Per scan kind (the generator's variant: text-layer PDF, 2-up, fax, …): forms, recall and false-flag rate
    at the shipped threshold. Where the flag rate is lost tells the ward what asking for cleaner input would buy."""
    kinds: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(truth):
        kinds[(t or {}).get("variant") or "(unknown)"].append(i)
    out = {}
    for kind, idx in sorted(kinds.items()):
        pos = [i for i in idx if y[i]]
        neg = [i for i in idx if not y[i]]
        out[kind] = {"n": len(idx), "needing_correction": len(pos),
                     "recall": float(np.mean(flagged[pos])) if pos else None,
                     "flag_rate": float(np.mean(flagged[idx])),
                     "false_flag_rate": float(np.mean(flagged[neg])) if neg else None}
    return out


def operating_points(risk: np.ndarray, y: np.ndarray, always: np.ndarray) -> list[dict]:
    """Recall and flag rate at other thresholds (the always-error rules flag whatever the threshold)."""
    points = []
    for target in (0.90, 0.95, 0.97, 0.99):
        pos = np.sort(risk[(y == 1) & ~always])[::-1]
        need = int(np.ceil(target * y.sum())) - int(((y == 1) & always).sum())
        thr = float(pos[need - 1]) - 1e-12 if 0 < need <= len(pos) else 1.0
        flagged = always | (risk > thr)
        points.append({"target_recall": target, "threshold": thr, **rates(flagged, y)})
    for budget in (0.30, 0.50):
        order = np.argsort(-risk[~always])
        k = max(0, int(budget * len(y)) - int(always.sum()))
        flagged = always.copy()
        idx = np.flatnonzero(~always)[order[:k]]
        flagged[idx] = True
        points.append({"flag_budget": budget, **rates(flagged, y)})
    return points


def _least_sure(form) -> tuple[str, float]:
    """The box read least surely, as the features see it (a box an exact equation confirms counts as sure)."""
    from taxcheck.classify.features import sure_confidences

    conf, name = min(((c, n) for n, c in sure_confidences(form).items()), default=(1.0, "(none)"))
    return name, conf


BANDS = ((0.5, "< 0.5"), (0.7, "0.5–0.7"), (0.8, "0.7–0.8"), (float("inf"), "≥ 0.8"))  # of a box's confidence


def _band(conf: float) -> str:
    return next(label for top, label in BANDS if conf < top)


def limits(batch, risk: np.ndarray, threshold: float, lowest: int = 12) -> dict:
    """What sets the flag rate at a recall threshold: the right forms flagged there, by the box each was read least
    surely in, and the forms needing correction the model ranks lowest (what was misread, how surely, and whether
    the full-page pass read the box alike). Box names only: no value read is written."""
    y, always = batch.y, batch.always
    false_flags: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for i in np.flatnonzero((y == 0) & (always | (risk > threshold))):
        name, conf = _least_sure(batch.forms[i])
        false_flags[name][_band(conf)] += 1
    negatives = np.sort(risk[y == 0])[::-1]
    ranked = []
    for i in np.flatnonzero((y == 1) & ~always)[np.argsort(risk[(y == 1) & ~always])][:lowest]:
        form, t = batch.forms[i], batch.truth[i] or {}
        boxes = []
        for name in batch.wrong[i]:
            fv = form.fields.get(name)
            page = None if fv is None or fv.page_read is None else \
                fv.page_read.replace(" ", "") == (fv.value or "").replace(" ", "")
            boxes.append({"box": name, "confidence": None if fv is None else round(float(fv.confidence), 2),
                          "page_pass_agrees": page})
        ranked.append({"form": form.key, "variant": t.get("variant"), "risk": float(risk[i]),
                       "right_forms_ranked_above": int((negatives > risk[i]).sum()),
                       "error_codes": sorted({e["code"] for e in t.get("errors", [])}), "misread": boxes})
    return {"threshold": threshold, "false_flags_by_least_sure_box": {k: dict(v) for k, v in false_flags.items()},
            "lowest_ranked_needing_correction": ranked}


def reliability_plot(y: np.ndarray, risk: np.ndarray, threshold: float, path: Path) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.calibration import calibration_curve

    frac, mean = calibration_curve(y, risk, n_bins=10, strategy="quantile")
    fig, (ax, hx) = plt.subplots(1, 2, figsize=(10, 4.5))
    ax.plot([0, 1], [0, 1], "k:", label="perfectly calibrated")
    ax.plot(mean, frac, "o-", label="FlagModel (calibrated)")
    ax.set_xlabel("predicted risk (bin mean)")
    ax.set_ylabel("fraction needing correction")
    ax.set_title("Reliability")
    ax.legend(loc="upper left")
    bins = np.linspace(0, 1, 41)
    hx.hist(risk[y == 0], bins=bins, alpha=0.6, label="clean")
    hx.hist(risk[y == 1], bins=bins, alpha=0.6, label="needs correction")
    hx.axvline(threshold, color="red", ls="--", label=f"threshold {threshold:.3f}")
    hx.set_yscale("log")
    hx.set_xlabel("risk")
    hx.set_title("Risk by label")
    hx.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return {"bin_mean_risk": [float(v) for v in mean], "bin_fraction_positive": [float(v) for v in frac]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="forms to generate (≥ 1,000 for the real figures)")
    ap.add_argument("--seed", type=int, default=9001, help="generator seed; must not be one used in training")
    ap.add_argument("--work", help="folder for samples/ and run/ (default /tmp/taxcheck_flag_bench_<seed>)")
    ap.add_argument("--run-dir", help="existing run folder (forms.jsonl) to score again, or where to run")
    ap.add_argument("--truth", help="truth.json of the run (default: run-dir/truth.json)")
    ap.add_argument("--model", default=str(ROOT / "models" / "default"), help="model folder")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=str(ROOT / "bench" / "flag_bench"), help="output stem (.md/.json/.png)")
    args = ap.parse_args()

    from sklearn.dummy import DummyClassifier
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    from taxcheck.classify import Scorer
    from taxcheck.classify.train import choose_threshold, load_run

    run_dir, truth_path = prepare_run(args)
    batch = load_run(run_dir, truth_path)
    scorer = Scorer(Path(args.model), require_model=True)
    t0 = time.time()
    result = scorer.assess(batch.forms, batch.findings)  # the whole batch, as the pipeline's final scoring
    score_s = time.time() - t0
    y = batch.y
    risk = np.array([result[f.key].decision.risk for f in batch.forms])
    flagged = np.array([result[f.key].decision.flagged for f in batch.forms])
    rules = np.array([any(x.severity == "error" for x in batch.findings[f.key]) for f in batch.forms])
    dummy = DummyClassifier(strategy="prior").fit(np.zeros((len(y), 1)), y)
    dummy_risk = dummy.predict_proba(np.zeros((len(y), 1)))[:, 1]
    dummy_flag = dummy_risk > choose_threshold(dummy_risk, y, np.zeros(len(y), bool), TARGET_RECALL)

    stored = {}
    with open(run_dir / "forms.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                stored[row.get("key") or f"{row['source']}#p{row['page']}s{row['slot']}"] = bool(row.get("flagged"))
    agree = [stored[f.key] == bool(flagged[i]) for i, f in enumerate(batch.forms) if f.key in stored]
    all_truth = json.loads(Path(truth_path).read_text(encoding="utf-8"))["forms"]
    found = {(t.get("source"), t.get("page"), t.get("slot")) for t in batch.truth if t}
    missed = [t for t in all_truth if (t["source"], t["page"], t["slot"]) not in found]
    pos_missed = sum(bool(t.get("needs_correction")) for t in missed)
    model_rates = rates(flagged, y)
    end_to_end = (model_rates["recall"] * y.sum()) / max(1, y.sum() + pos_missed)
    err_recall, odd_false = per_kind(flagged, y, batch.truth)
    rules_err, rules_odd = per_kind(rules, y, batch.truth)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    calib = reliability_plot(y, risk, scorer.threshold, out.with_suffix(".png"))
    misread_only = batch.misread & np.array([not (t or {}).get("needs_correction") for t in batch.truth])
    content = np.array([bool((t or {}).get("needs_correction")) for t in batch.truth]).astype(int)
    report = {
        "run_dir": str(run_dir),
        "model_dir": str(args.model),
        "model_trained_on": scorer.metadata.get("training_data", {}).get("runs"),
        "threshold": scorer.threshold,
        "n_truth_forms": len(all_truth),
        "n_forms_found": len(batch.forms),
        "n_truth_forms_not_found": len(missed),
        "n_needing_correction": int(y.sum()),
        "n_misread_only": int(misread_only.sum()),
        "model": model_rates,
        "recall_misread_only": float(flagged[misread_only].mean()) if misread_only.any() else None,
        "end_to_end_recall_incl_forms_not_found": float(end_to_end),
        "content_errors_only": rates(flagged, content),
        "operating_points": (points := operating_points(risk, y, batch.always)),
        "limits_at_target_recall": limits(batch, risk, next(p["threshold"] for p in points
                                                            if p.get("target_recall") == TARGET_RECALL)),
        "rules_alone": rates(rules, y),
        "always_error_alone": rates(batch.always, y),
        "dummy_prior": rates(dummy_flag, y),
        "roc_auc": float(roc_auc_score(y, risk)) if 0 < y.sum() < len(y) else None,
        "pr_auc": float(average_precision_score(y, risk)) if y.sum() else None,
        "brier": float(brier_score_loss(y, risk)),
        "dummy_roc_auc": 0.5,
        "dummy_pr_auc": float(y.mean()),
        "recall_per_error_code": err_recall,
        "rules_recall_per_error_code": rules_err,
        "false_flag_rate_per_oddity": odd_false,
        "rules_false_flag_rate_per_oddity": rules_odd,
        "per_scan_kind": per_scan(flagged, y, batch.truth),
        "calibration": calib,
        "scoring_seconds": round(score_s, 2),
        "agreement_with_pipeline_flags": float(np.mean(agree)) if agree else None,
        "targets": {"recall": TARGET_RECALL, "flag_rate": TARGET_FLAG_RATE},
        "meets_targets": bool(model_rates["recall"] >= TARGET_RECALL and model_rates["flag_rate"] <= TARGET_FLAG_RATE),
    }
    out.with_suffix(".json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    out.with_suffix(".md").write_text(to_markdown(report, out.with_suffix(".png").name), encoding="utf-8")
    print(to_markdown(report, out.with_suffix(".png").name))
    return 0


def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def to_markdown(r: dict, png: str) -> str:
    m, ru, al, du = r["model"], r["rules_alone"], r["always_error_alone"], r["dummy_prior"]
    lines = [
        "# Flagging benchmark",
        "",
        f"Run `{r['run_dir']}`: {r['n_truth_forms']} forms generated, {r['n_forms_found']} found by the pipeline "
        f"({r['n_truth_forms_not_found']} not found), {r['n_needing_correction']} needing correction "
        f"({r['n_misread_only']} only because a value was misread). Threshold {r['threshold']:.4f}.",
        "",
        f"Targets: recall ≥ {_pct(r['targets']['recall'])}, flag rate ≤ {_pct(r['targets']['flag_rate'])} → "
        f"**{'met' if r['meets_targets'] else 'NOT met'}**.",
        "",
        "| flagger | recall | flag rate | precision |",
        "| --- | --- | --- | --- |",
        f"| model + always-error rules | {_pct(m['recall'])} | {_pct(m['flag_rate'])} | {_pct(m['precision'])} |",
        f"| rules alone (any error finding) | {_pct(ru['recall'])} | {_pct(ru['flag_rate'])} | {_pct(ru['precision'])} |",
        f"| always-error + review rules alone | {_pct(al['recall'])} | {_pct(al['flag_rate'])} | {_pct(al['precision'])} |",
        f"| DummyClassifier (prior) at target recall | {_pct(du['recall'])} | {_pct(du['flag_rate'])} | {_pct(du['precision'])} |",
        "",
        f"End-to-end recall counting forms the pipeline never found as missed: {_pct(r['end_to_end_recall_incl_forms_not_found'])}. "
        f"Recall on misread-only forms: {_pct(r['recall_misread_only'])}. Counting only the generator's content errors "
        f"(not misreads) as needing correction: recall {_pct(r['content_errors_only']['recall'])}, precision "
        f"{_pct(r['content_errors_only']['precision'])}.",
        "",
        "## Other operating points of the same model",
        "",
        "| operating point | threshold | recall | flag rate | precision |",
        "| --- | --- | --- | --- | --- |",
        *[f"| {'recall ≥ ' + _pct(p['target_recall']) if 'target_recall' in p else 'flag budget ' + _pct(p['flag_budget'])} "
          f"| {p.get('threshold', float('nan')):.4f} | {_pct(p['recall'])} | {_pct(p['flag_rate'])} | {_pct(p['precision'])} |"
          for p in r["operating_points"]],
        "",
        f"ROC-AUC {r['roc_auc'] or 0:.4f} (dummy 0.5) · PR-AUC {r['pr_auc'] or 0:.4f} (dummy {r['dummy_pr_auc']:.4f}) · "
        f"Brier {r['brier']:.4f}",
        "",
        "## Recall per error code",
        "",
        "| code | forms | model | rules alone |",
        "| --- | --- | --- | --- |",
    ]
    for code, v in r["recall_per_error_code"].items():
        lines.append(f"| {code} | {v['n']} | {_pct(v['recall'])} | {_pct(r['rules_recall_per_error_code'][code]['recall'])} |")
    lines += ["", "## False-flag rate per oddity (forms needing no correction)", "",
              "| oddity | forms | model | rules alone |", "| --- | --- | --- | --- |"]
    for kind, v in r["false_flag_rate_per_oddity"].items():
        lines.append(f"| {kind} | {v['n']} | {_pct(v['false_flag_rate'])} | "
                     f"{_pct(r['rules_false_flag_rate_per_oddity'][kind]['false_flag_rate'])} |")
    lines += ["", "## By scan kind (at the shipped threshold)", "",
              "| scan | forms | needing correction | recall | flag rate | false-flag rate |",
              "| --- | --- | --- | --- | --- | --- |"]
    for kind, v in r["per_scan_kind"].items():
        lines.append(f"| {kind} | {v['n']} | {v['needing_correction']} | {_pct(v['recall'])} | "
                     f"{_pct(v['flag_rate'])} | {_pct(v['false_flag_rate'])} |")
    lines += ["", f"![reliability]({png})", "", *limits_markdown(r["limits_at_target_recall"]), ""]
    return "\n".join(lines)


def limits_markdown(lim: dict) -> list[str]:
    from taxcheck.forms import salary_fields

    fields = salary_fields()

    def label(name: str) -> str:
        return f"{fields[name].box} ({name})" if name in fields else name

    bands = [label for _, label in BANDS]
    flags = sorted(lim["false_flags_by_least_sure_box"].items(), key=lambda kv: -sum(kv[1].values()))
    lines = ["## What limits the flag rate", "",
             (f"At the recall ≥ {_pct(TARGET_RECALL)} point (threshold {lim['threshold']:.4f}), the forms needing no "
              "correction that are flagged, by the box each was read least surely in (a box an exact equation of the "
              "form confirms counts as sure) and that box's confidence:"), "",
             "| least-sure box | " + " | ".join(bands) + " | all |", "| --- |" + " --- |" * (len(bands) + 1)]
    for name, by_band in flags:
        lines.append(f"| {label(name)} | " + " | ".join(str(by_band.get(b, 0)) for b in bands)
                     + f" | {sum(by_band.values())} |")
    lines += ["", ("The forms needing correction that the model ranks lowest (no always-error rule fired): these "
                   "set the threshold a recall target needs."), "",
              "| form | scan | risk | right forms ranked above | misread box: confidence, page pass alike | error codes |",
              "| --- | --- | --- | --- | --- | --- |"]
    for p in lim["lowest_ranked_needing_correction"]:
        misread = "; ".join(f"{label(b['box'])}: {'–' if b['confidence'] is None else format(b['confidence'], '.2f')}"
                            f"{'' if b['page_pass_agrees'] is None else ', alike' if b['page_pass_agrees'] else ', differs'}"
                            for b in p["misread"]) or "–"
        lines.append(f"| {p['form']} | {p['variant'] or '–'} | {p['risk']:.3f} | {p['right_forms_ranked_above']} | "
                     f"{misread} | {', '.join(p['error_codes']) or '–'} |")
    return lines


if __name__ == "__main__":
    sys.exit(main())
