"""The pilot evaluation report: how much staff time taxcheck saves, and what risk that takes.

Time saved compares checking every form by hand with reviewing the flagged forms plus an audit
sample of the cleared ones (minutes and audit rate in ``config/pilot.yaml``; measured minutes
from staff decisions replace the defaults once there are enough). The risk taken is the error
rate left among cleared forms, estimated from the audit sample with a Wilson interval. Precision
and recall come from ground truth (metrics.json of a run with truth) and from staff decisions.
Nerima's −53.1% (1,450 → 680 hours) is shown beside our figure. The flag rate is also given per kind of input
(a PDF's text layer, or an image read by OCR): on the flagging benchmarks a scanned form is flagged two to four
times as often as a born-digital one, so the share of electronic submissions is the ward's own lever on the workload.

:func:`pilot_summary` returns the same figures as plain data (no personal data) for the
orchestration layer to publish; :func:`summary_markdown` renders them as a short markdown text.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import os
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from statistics import NormalDist
from typing import Any

import yaml

from taxcheck.report.labels import reason_label

JA_FONT = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"
RISK_BINS = 10
# Kinds of input a form was read from, in report order, with their labels.
INPUT_KINDS = {"text_layer": "電子データ（PDF の文字情報）", "image": "画像（スキャン・FAX・画像 PDF）"}


class PilotConfigError(ValueError):
    """pilot.yaml holds a value that cannot be right; the message names the key."""


@dataclass
class PilotConfig:
    """Parameters of the time-saved estimate (see config/pilot.yaml for their meaning)."""

    manual_minutes_per_form: float = 3.0
    review_minutes_per_flagged: float = 4.0
    audit_minutes_per_form: float = 3.0
    audit_rate: float = 0.05
    min_measured_forms: int = 10
    confidence: float = 0.95
    baseline: dict[str, Any] = field(
        default_factory=lambda: {"name": "練馬区", "hours_before": 1450, "hours_after": 680})

    def __post_init__(self) -> None:
        for k in ("manual_minutes_per_form", "review_minutes_per_flagged", "audit_minutes_per_form"):
            v = float(getattr(self, k))
            if not (v > 0):
                raise PilotConfigError(f"pilot.yaml: {k} must be > 0 minutes, got {v}")
            setattr(self, k, v)
        self.audit_rate = float(self.audit_rate)
        if not 0 <= self.audit_rate <= 1:
            raise PilotConfigError(f"pilot.yaml: audit_rate must be in 0..1, got {self.audit_rate}")
        if not 0 < float(self.confidence) < 1:
            raise PilotConfigError(f"pilot.yaml: confidence must be in (0, 1), got {self.confidence}")
        self.min_measured_forms = int(self.min_measured_forms)
        for k in ("hours_before", "hours_after"):
            if k not in self.baseline:
                raise PilotConfigError(f"pilot.yaml: baseline.{k} is missing")


def load_pilot_config(config: str | Path | PilotConfig | dict | None = None) -> PilotConfig:
    """The pilot parameters: the packaged defaults, overridden by a YAML file or dict."""
    if isinstance(config, PilotConfig):
        return config
    data = yaml.safe_load((resources.files("taxcheck.config") / "pilot.yaml").read_text(encoding="utf-8")) or {}
    if isinstance(config, dict):
        data.update(config)
    elif config is not None:
        path = Path(config)
        if not path.is_file():
            raise PilotConfigError(f"{path}: no such pilot configuration file")
        data.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    unknown = set(data) - set(PilotConfig.__dataclass_fields__)
    if unknown:
        raise PilotConfigError(f"pilot configuration: unknown key(s) {sorted(unknown)}")
    return PilotConfig(**data)


# ------------------------------------------------------------------------------ statistics


def wilson_interval(errors: int, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval of a proportion errors/n (None when n is 0)."""
    if n <= 0:
        return None
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    p = errors / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def audit_sample_size(n_cleared: int, audit_rate: float) -> int:
    """Cleared forms drawn for audit: the rate times the cleared count, rounded up."""
    return math.ceil(round(n_cleared * audit_rate, 9))


def select_audit_sample(cleared_keys: Iterable[str], audit_rate: float, seed: str | int = 0) -> list[str]:
    """The form keys drawn for the audit: a deterministic pseudo-random ``audit_rate`` share of the
    cleared forms (rounded up), the same for the same keys and seed (a rerun draws the same sample)."""
    keys = sorted(set(cleared_keys))
    n = audit_sample_size(len(keys), audit_rate)
    ranked = sorted(keys, key=lambda k: hashlib.sha256(f"{seed}|{k}".encode("utf-8")).hexdigest())
    return sorted(ranked[:n])


def write_audit_sample(form_rows: Iterable[dict[str, Any]], out_dir: str | Path, seed: str | int,
                       config: str | Path | PilotConfig | dict | None = None) -> Path | None:
    """Draw the audit sample among the cleared forms of ``form_rows`` (dicts of
    ``taxcheck.store.forms_for_run``) and write it as ``audit.xlsx`` for staff; None when nothing to draw."""
    from taxcheck.records import Decision, form_from_dict
    from taxcheck.report.exceptions import audit_row, write_audit_workbook

    cfg = load_pilot_config(config)
    cleared = {r["key"]: r for r in form_rows if r.get("risk") is not None and not r.get("flagged")}
    keys = select_audit_sample(cleared, cfg.audit_rate, seed)
    if not keys:
        return None
    rows = [audit_row(form_from_dict(cleared[k]), Decision(float(cleared[k]["risk"]), False)) for k in keys]
    return write_audit_workbook(rows, out_dir)


def time_saved(n_forms: int, n_flagged: int, cfg: PilotConfig,
               review_minutes: float | None = None, audit_minutes: float | None = None) -> dict[str, float]:
    """Hours by hand (every form) vs with taxcheck (flagged forms reviewed + the audit sample)."""
    review = review_minutes if review_minutes is not None else cfg.review_minutes_per_flagged
    audit = audit_minutes if audit_minutes is not None else cfg.audit_minutes_per_form
    n_cleared = n_forms - n_flagged
    n_audit = audit_sample_size(n_cleared, cfg.audit_rate)
    manual_h = n_forms * cfg.manual_minutes_per_form / 60
    review_h = n_flagged * review / 60
    audit_h = n_audit * audit / 60
    with_h = review_h + audit_h
    saved_h = manual_h - with_h
    return {
        "forms": n_forms,
        "flagged": n_flagged,
        "cleared": n_cleared,
        "audit_sample": n_audit,
        "manual_minutes_per_form": cfg.manual_minutes_per_form,
        "review_minutes_per_flagged": review,
        "audit_minutes_per_form": audit,
        "manual_hours": manual_h,
        "review_hours": review_h,
        "audit_hours": audit_h,
        "with_taxcheck_hours": with_h,
        "saved_hours": saved_h,
        "saved_percent": 100 * saved_h / manual_h if manual_h else 0.0,
    }


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def _flag_metrics(m: dict[str, Any]) -> dict[str, Any] | None:
    """Flag precision/recall (and counts when given) out of a metrics.json, whatever its nesting."""
    for key in ("flags", "flag", "flagging", "classifier"):
        sub = m.get(key)
        if isinstance(sub, dict) and ("precision" in sub or "tp" in sub):
            return sub
    if "flag_precision" in m or "flag_recall" in m:
        return {"precision": m.get("flag_precision"), "recall": m.get("flag_recall"),
                **{k: m[f"flag_{k}"] for k in ("tp", "fp", "fn", "tn") if f"flag_{k}" in m}}
    return None


def truth_metrics(metrics: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Precision and recall of the flags against ground truth, pooled over runs' metrics.json."""
    found = [f for f in (_flag_metrics(m) for m in metrics) if f]
    if not found:
        return None
    if all(all(k in f for k in ("tp", "fp", "fn", "tn")) for f in found):
        tp, fp, fn, tn = (sum(int(f[k]) for f in found) for k in ("tp", "fp", "fn", "tn"))
        return {"runs": len(found), "tp": tp, "fp": fp, "fn": fn, "tn": tn,
                "precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn),
                "residual_rate": _ratio(fn, fn + tn)}  # forms needing a fix among the cleared ones
    last = found[-1]
    return {"runs": len(found), "precision": last.get("precision"), "recall": last.get("recall")}


def input_kind(fields: dict[str, dict[str, Any]]) -> str:
    """``text_layer`` when most of a form's filled boxes came from a PDF's text layer, else ``image`` (read by OCR)."""
    sources = [f.get("source") for f in fields.values() if f.get("value")]
    typed = sum(src == "text_layer" for src in sources)
    return "text_layer" if sources and 2 * typed >= len(sources) else "image"


def compute_summary(forms: list[dict[str, Any]], staff: list[dict[str, Any]], cfg: PilotConfig,
                    metrics: list[dict[str, Any]] | None = None, runs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """All pilot figures from plain rows: forms (``risk``, ``flagged``, ``reasons``, ``findings``, ``key``,
    ``input``: :func:`input_kind`), staff decisions (``form_key``, ``decision``, ``minutes``, ``flagged``) and
    metrics.json dicts."""
    n_forms = len(forms)
    flagged_keys = {f["key"] for f in forms if f.get("flagged")}
    n_flagged = len(flagged_keys)

    reasons: Counter[str] = Counter()
    for f in forms:
        if f.get("flagged"):
            codes = set(f.get("reasons") or []) | {x.get("code") for x in f.get("findings") or [] if x.get("code")}
            reasons.update(codes)
    by_reason = [{"code": c, "label": reason_label(c), "forms": n} for c, n in reasons.most_common()]

    hist, hist_flagged = [0] * RISK_BINS, [0] * RISK_BINS
    for f in forms:
        if f.get("risk") is not None:
            i = min(RISK_BINS - 1, max(0, int(float(f["risk"]) * RISK_BINS)))
            hist[i] += 1
            hist_flagged[i] += bool(f.get("flagged"))

    # Staff decisions, per form: 要修正 on any box makes the form "needed a correction".
    per_form: dict[str, dict[str, Any]] = defaultdict(lambda: {"needs_fix": False, "minutes": 0.0, "timed": False})
    for d in staff:
        k = d["form_key"]
        s = per_form[k]
        s["needs_fix"] |= d.get("decision") == "要修正"
        if d.get("minutes") is not None:
            s["minutes"] += float(d["minutes"])
            s["timed"] = True
        flagged = d.get("flagged")
        s["flagged"] = (k in flagged_keys) if flagged is None else bool(flagged)
    reviewed = {k: s for k, s in per_form.items() if s["flagged"]}
    audited = {k: s for k, s in per_form.items() if not s["flagged"]}
    tp_staff = sum(s["needs_fix"] for s in reviewed.values())
    audit_errors = sum(s["needs_fix"] for s in audited.values())

    def measured(group: dict[str, dict[str, Any]]) -> float | None:
        timed = [s["minutes"] for s in group.values() if s["timed"]]
        return sum(timed) / len(timed) if len(timed) >= cfg.min_measured_forms else None

    review_measured, audit_measured = measured(reviewed), measured(audited)
    time = time_saved(n_forms, n_flagged, cfg, review_measured, audit_measured)
    time["review_minutes_source"] = "measured" if review_measured is not None else "config"
    time["audit_minutes_source"] = "measured" if audit_measured is not None else "config"

    n_cleared = n_forms - n_flagged
    residual = None
    if audited:
        ci = wilson_interval(audit_errors, len(audited), cfg.confidence)
        rate = audit_errors / len(audited)
        residual = {
            "audited": len(audited), "errors": audit_errors, "rate": rate,
            "ci_low": ci[0], "ci_high": ci[1], "confidence": cfg.confidence,
            "expected_missed_forms": rate * n_cleared,
            "missed_forms_high": ci[1] * n_cleared,
        }
    truth = truth_metrics(metrics or [])
    if truth and truth.get("residual_rate") is not None:
        ci = wilson_interval(truth["fn"], truth["fn"] + truth["tn"], cfg.confidence)
        truth["residual_ci_low"], truth["residual_ci_high"] = ci
    staff_pr = None
    if reviewed:
        staff_pr = {"reviewed_flagged": len(reviewed), "needs_fix": tp_staff, "precision": tp_staff / len(reviewed),
                    "recall": None}
        if residual is not None:  # errors caught (precision × flagged) over caught + missed among cleared
            caught = staff_pr["precision"] * n_flagged
            staff_pr["recall"] = _ratio(caught, caught + residual["rate"] * n_cleared)

    per_run: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    for f in forms:
        per_run[f.get("run_id")][0] += 1
        per_run[f.get("run_id")][1] += bool(f.get("flagged"))
    by_run = []
    for r in runs or []:
        n, k = per_run.get(r.get("id"), [0, 0])
        started = r.get("started_at")
        by_run.append({"run_id": r.get("id"), "label": r.get("label") or "",
                       "started": started.isoformat(timespec="minutes") if hasattr(started, "isoformat") else str(started or ""),
                       "forms": n, "flagged": k, "flag_rate": _ratio(k, n)})

    per_input: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for f in forms:
        counts = per_input[f.get("input") or "image"]
        counts[0] += 1
        counts[1] += bool(f.get("flagged"))
    by_input = [{"input": kind, "label": label, "forms": per_input[kind][0], "flagged": per_input[kind][1],
                 "flag_rate": _ratio(per_input[kind][1], per_input[kind][0])}
                for kind, label in INPUT_KINDS.items() if per_input[kind][0]]

    b = cfg.baseline
    base_before, base_after = float(b["hours_before"]), float(b["hours_after"])
    return {
        "generated": datetime.now().astimezone().isoformat(timespec="seconds"),
        "runs": len(runs or []),
        "by_run": by_run,
        "by_input": by_input,
        "forms": n_forms,
        "flagged": n_flagged,
        "cleared": n_cleared,
        "flag_rate": _ratio(n_flagged, n_forms),
        "risk_histogram": {"bins": [round(i / RISK_BINS, 2) for i in range(RISK_BINS + 1)], "counts": hist,
                           "flagged": hist_flagged},
        "by_reason": by_reason,
        "time": time,
        "residual_error": residual,
        "truth": truth,
        "staff": {"decisions": len(staff), "forms": len(per_form), "precision_recall": staff_pr},
        "baseline": {
            "name": b.get("name", ""), "short_name": b.get("short_name", ""), "hours_before": base_before, "hours_after": base_after,
            "saved_percent": 100 * (base_before - base_after) / base_before,
        },
        "config": asdict(cfg),
    }


# ------------------------------------------------------------------------------ store


def _metrics_of_runs(runs: list[dict[str, Any]], extra: list[str | Path] = ()) -> list[dict[str, Any]]:
    paths = [Path(r["out_dir"]) / "metrics.json" for r in runs if r.get("out_dir")] + [Path(p) for p in extra]
    out, seen = [], set()
    for p in paths:
        if p in seen or not p.is_file():
            continue
        seen.add(p)
        try:
            out.append(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return out


def pilot_summary(store_url, config: str | Path | PilotConfig | dict | None = None,
                  metrics_files: list[str | Path] = ()) -> dict[str, Any]:
    """The pilot figures of everything in the store, as plain data (no personal data)."""
    from taxcheck.store import forms_for_run, open_store, run_stats, staff_decisions

    cfg = load_pilot_config(config)
    store = open_store(store_url, create=False)
    try:
        forms = forms_for_run(store, None)
        staff = staff_decisions(store)
        runs = run_stats(store)["runs"]
    finally:
        if store is not store_url:
            store.close()
    slim = [{"key": f["key"], "run_id": f.get("run_id"), "risk": f.get("risk"), "flagged": f.get("flagged"), "reasons": f.get("reasons"),
             "findings": [{"code": x.get("code")} for x in f.get("findings") or []],
             "input": input_kind(f.get("fields") or {})} for f in forms]
    return compute_summary(slim, staff, cfg, _metrics_of_runs(runs, metrics_files), runs)


# ------------------------------------------------------------------------------ rendering


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def summary_markdown(s: dict[str, Any]) -> str:
    """A short markdown text of the summary (for a Prefect markdown artifact)."""
    t, b = s["time"], s["baseline"]
    lines = [
        "# taxcheck パイロット評価",
        "",
        f"- 処理した帳票: {s['forms']} 件、要確認: {s['flagged']} 件（{_pct(s['flag_rate'])}）",
        f"- 作業時間: 全件手作業 {t['manual_hours']:.1f} 時間 → taxcheck 利用 {t['with_taxcheck_hours']:.1f} 時間"
        f"（削減 {t['saved_hours']:.1f} 時間、{t['saved_percent']:.1f}%）",
        f"- 参考: {b['name']} {b['hours_before']:,.0f} → {b['hours_after']:,.0f} 時間（−{b['saved_percent']:.1f}%）",
    ]
    for k in s.get("by_input") or []:
        lines.append(f"  - {k['label']}: {k['forms']} 件、要確認 {k['flagged']} 件（{_pct(k['flag_rate'])}）")
    r = s.get("residual_error")
    if r:
        lines.append(f"- 問題なしとした帳票の残存誤り率: {_pct(r['rate'])}（{r['confidence']:.0%} 信頼区間 "
                     f"{_pct(r['ci_low'])}〜{_pct(r['ci_high'])}、抜き取り {r['audited']} 件中 {r['errors']} 件）")
    if s.get("truth"):
        lines.append(f"- 正解データに対する適合率 {_pct(s['truth']['precision'])}、再現率 {_pct(s['truth']['recall'])}")
    pr = (s.get("staff") or {}).get("precision_recall")
    if pr:
        lines.append(f"- 職員の判断による適合率 {_pct(pr['precision'])}（{pr['reviewed_flagged']} 件）"
                     + (f"、推定再現率 {_pct(pr['recall'])}" if pr.get("recall") is not None else ""))
    return "\n".join(lines) + "\n"


def summary_table(s: dict[str, Any]) -> list[dict[str, Any]]:
    """Key figures as rows {項目, 値} (for a Prefect table artifact)."""
    t = s["time"]
    rows = [
        ("帳票数", s["forms"]), ("要確認", s["flagged"]), ("要確認率", _pct(s["flag_rate"])),
        ("全件手作業（時間）", round(t["manual_hours"], 2)), ("taxcheck 利用（時間）", round(t["with_taxcheck_hours"], 2)),
        ("削減（時間）", round(t["saved_hours"], 2)), ("削減率", f"{t['saved_percent']:.1f}%"),
        ("練馬区の削減率", f"{s['baseline']['saved_percent']:.1f}%"),
    ]
    r = s.get("residual_error")
    if r:
        rows.append(("残存誤り率（95%区間）" if r["confidence"] == 0.95 else "残存誤り率",
                     f"{_pct(r['rate'])} [{_pct(r['ci_low'])}, {_pct(r['ci_high'])}]"))
    return [{"項目": k, "値": v} for k, v in rows]


def _setup_matplotlib():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    if os.path.exists(JA_FONT):
        font_manager.fontManager.addfont(JA_FONT)
        plt.rcParams["font.family"] = font_manager.FontProperties(fname=JA_FONT).get_name()
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    fig.clf()
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _plots(s: dict[str, Any]) -> dict[str, str]:
    plt = _setup_matplotlib()
    plots: dict[str, str] = {}
    t, b = s["time"], s["baseline"]

    runs = [r for r in s.get("by_run") or [] if r["forms"]]
    if len(runs) > 1:
        fig, ax = plt.subplots(figsize=(7, 3))
        names = [r["label"] or f"#{r['run_id']}" for r in runs]
        ax.bar(names, [r["forms"] - r["flagged"] for r in runs], color="#70ad47", label="問題なし")
        ax.bar(names, [r["flagged"] for r in runs], bottom=[r["forms"] - r["flagged"] for r in runs],
               color="#c00000", label="要確認")
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel("帳票数")
        ax.set_title("実行ごとの処理件数")
        ax.legend()
        plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
        plots["runs"] = _png(fig)
        plt.close(fig)

    kinds = s.get("by_input") or []
    if kinds:
        fig, ax = plt.subplots(figsize=(7, 0.6 * len(kinds) + 1.2))
        kinds = kinds[::-1]  # the first kind on top
        labels, cleared = [k["label"] for k in kinds], [k["forms"] - k["flagged"] for k in kinds]
        ax.barh(labels, cleared, color="#70ad47", label="問題なし")
        ax.barh(labels, [k["flagged"] for k in kinds], left=cleared, color="#c00000", label="要確認")
        for y, k in enumerate(kinds):
            ax.text(k["forms"], y, f" {_pct(k['flag_rate'])}", va="center")
        ax.set_xlim(0, 1.15 * max(k["forms"] for k in kinds))  # room for the rates
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("帳票数")
        ax.set_title("入力の種類別の要確認（右端の数字は要確認率）")
        ax.legend(loc="upper left", bbox_to_anchor=(1.08, 1.0))
        plots["inputs"] = _png(fig)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar(["処理した帳票", "要確認", "問題なし"], [s["forms"], s["flagged"], s["cleared"]],
           color=["#4472c4", "#c00000", "#70ad47"])
    ax.set_ylabel("件数")
    ax.set_title(f"帳票数と要確認率 {_pct(s['flag_rate'])}")
    plots["forms"] = _png(fig)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3))
    h = s["risk_histogram"]
    xs = [x + 0.05 for x in h["bins"][:-1]]
    cleared = [n - k for n, k in zip(h["counts"], h["flagged"])]
    ax.bar(xs, cleared, width=0.09, color="#70ad47", label="問題なし")
    ax.bar(xs, h["flagged"], width=0.09, bottom=cleared, color="#c00000", label="要確認")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend()
    ax.set_xlabel("リスク（誤りの確率）")
    ax.set_ylabel("帳票数")
    ax.set_title("リスクの分布")
    plots["risk"] = _png(fig)
    plt.close(fig)

    reasons = s["by_reason"][:15]
    fig, ax = plt.subplots(figsize=(7, max(2.0, 0.35 * len(reasons) + 1)))
    ax.barh([r["label"] for r in reasons][::-1], [r["forms"] for r in reasons][::-1], color="#ed7d31")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("要確認の帳票数")
    ax.set_title("理由別の件数")
    plots["reasons"] = _png(fig)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3))
    short = b.get("short_name") or "参考"
    labels = ["全件手作業", "taxcheck 利用", f"{short} 導入前", f"{short} 導入後"]
    ours = [100.0, 100 - t["saved_percent"]]
    theirs = [100.0, 100 - b["saved_percent"]]
    ax.bar(labels, ours + theirs, color=["#a5a5a5", "#4472c4", "#a5a5a5", "#ffc000"])
    ax.set_ylabel("作業時間（導入前 = 100）")
    ax.set_title(f"作業時間の削減: 本パイロット −{t['saved_percent']:.1f}% / 練馬区 −{b['saved_percent']:.1f}%")
    plots["time"] = _png(fig)
    plt.close(fig)
    return plots


def write_pilot_report(store_url, out_dir: str | Path, config: str | Path | PilotConfig | dict | None = None,
                       metrics_files: list[str | Path] = ()) -> Path:
    """Write ``pilot_report.html`` (plots inlined) into ``out_dir`` and return its path."""
    import jinja2

    summary = pilot_summary(store_url, config, metrics_files)
    env = jinja2.Environment(loader=jinja2.PackageLoader("taxcheck.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined)
    env.filters["pct"] = _pct
    html = env.get_template("pilot.html.j2").render(s=summary, plots=_plots(summary))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "pilot_report.html"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)
    return path
