"""The batch: files → forms → checks → risk → store → out dir. Pure library; the Prefect flows only wire it.

Work is keyed by content: each file's sha256 is its identity in the store, so a rerun (after a crash,
a kill, or the next night) processes only files that are new or failed, and the outputs are written
from the store, holding every form exactly once. One file is the unit of work: it is read (with a few others,
whose boxes share Tesseract's runs: ``process_files``), the unsure amounts its own sums show misread are
mended (rules/mend.py), it is checked and scored in a worker process (``process_file``; crops of flagged boxes
are cut while the page image is still in memory) and written to the store in one transaction (``save_outcome``).
Cross-form checks (the same person twice) and the final scoring (batch and within-payer statistics)
need the whole batch and run after all files (``apply_batch_checks``). Nothing here logs a field value.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taxcheck.privacy import mask_digit_runs
from taxcheck.records import Decision, Finding, Form, form_from_dict, form_to_dict

if TYPE_CHECKING:  # the reading stage is imported in the workers only (start-up stays light)
    from taxcheck.extract import DocumentResult

log = logging.getLogger(__name__)

HASH_BLOCK_BYTES = 1 << 20
MAX_ERROR_CHARS = 300
CROPS_DIR = "crops"
DONE_STATUSES = ("done", "quarantined")  # a rerun skips these; "failed" is retried
# Quarantine codes of the reader that say "it crashed", not "the file is bad": the file is recorded as
# failed (in quarantine.csv with the reason, and read again next run: the cause may be passing, or fixed).
RETRY_CODES = ("read_error",)
# files read as one lot (process_files): their boxes share Tesseract's runs, ~0.1 s each to start. Eight against
# four: 5.5 % less reading time on 30 scanned files of the benchmark, the same values; fifteen no less than eight
# (session 20). A worker holds a lot's pages in memory: ~1.5 GB for fifteen files of 300 dpi pages.
READ_TOGETHER = 8


class BatchError(RuntimeError):
    """The batch itself cannot run (no OCR engine, out dir not writable): the CLI exits non-zero."""


@dataclass(frozen=True)
class InputFile:
    """One input file: absolute path, path relative to the input dir (``source``) and content hash."""

    path: str
    source: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Settings:
    """What every worker needs to process a file (picklable: it crosses process boundaries)."""

    input_dir: str
    out_dir: str
    model_dir: str | None = None
    year_hint: int | None = None
    crops: bool = True


@dataclass
class FileOutcome:
    """What processing one file gave: forms with findings and decisions, or why none."""

    sha256: str
    source: str
    status: str  # done / quarantined / failed
    form_rows: list[dict] = field(default_factory=list)
    pages: int = 0
    code: str | None = None
    reason: str | None = None
    error: str | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def flagged(self) -> int:
        return sum(1 for r in self.form_rows if r.get("flagged"))


@dataclass
class Plan:
    """Which discovered files to process now, which are done already, which repeat another file."""

    todo: list[InputFile]
    done: list[InputFile]
    duplicates: list[tuple[InputFile, str]]  # (file, source of the file with the same content)

    @property
    def shas(self) -> list[str]:
        return [f.sha256 for f in self.todo + self.done]


# ---------------------------------------------------------------------------------------------- discover


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(HASH_BLOCK_BYTES):
            h.update(block)
    return h.hexdigest()


def unreadable_id(source: str) -> str:
    """The store identity of a file that could not be hashed: per path (two unreadable files never pass for
    duplicates), 64 characters like a sha256 (the store's column), and never equal to a real content hash."""
    prefix = "unreadable:"
    return prefix + hashlib.sha256(source.encode("utf-8")).hexdigest()[: 64 - len(prefix)]


def discover(input_dir: str | Path, exclude: Sequence[str | Path] = ()) -> list[InputFile]:
    """Every regular file under ``input_dir`` (recursively, sorted), with its content hash.

    Anything found is taken (unknown kinds are quarantined later, never dropped); folders and files
    in ``exclude`` (the out dir when it lies inside the input, the truth file) are skipped.
    """
    root = Path(input_dir).resolve()
    skip = [Path(e).resolve() for e in exclude]
    found: list[InputFile] = []
    for dirpath, dirnames, filenames in os.walk(root):
        d = Path(dirpath)
        dirnames[:] = sorted(n for n in dirnames if (d / n).resolve() not in skip)
        for name in sorted(filenames):
            p = d / name
            if not p.is_file() or p.resolve() in skip:
                continue
            try:
                found.append(InputFile(str(p), p.relative_to(root).as_posix(), sha256_file(p), p.stat().st_size))
            except OSError as exc:  # vanished or unreadable: recorded as failed by the reader later
                source = p.relative_to(root).as_posix()
                found.append(InputFile(str(p), source, unreadable_id(source), 0))
                log.warning("cannot hash %s: %s", mask_digit_runs(source), type(exc).__name__)
    found.sort(key=lambda f: f.source)
    return found


def plan(files: Iterable[InputFile], statuses: dict[str, str], sources: dict[str, str] | None = None) -> Plan:
    """Split discovered files by what the store knows (``statuses``: sha → status).

    A file whose content equals another file's (in this folder, or already stored under another name)
    is a duplicate: reported, not read twice.
    """
    sources = sources or {}
    todo, done, dups = [], [], []
    seen: dict[str, str] = {}
    for f in files:
        if f.sha256 in seen:
            dups.append((f, seen[f.sha256]))
            continue
        seen[f.sha256] = f.source
        stored_source = sources.get(f.sha256)
        if statuses.get(f.sha256) in DONE_STATUSES:
            if stored_source is not None and stored_source != f.source:
                dups.append((f, stored_source))
            else:
                done.append(f)
        else:
            todo.append(f)
    return Plan(todo, done, dups)


def chunked(items: Sequence, size: int) -> list[list]:
    size = max(1, int(size))
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


# ---------------------------------------------------------------------------------------------- process


def safe_error(exc: BaseException) -> str:
    """Exception type and message with long digit runs masked (a message may quote a 個人番号)."""
    return f"{type(exc).__name__}: {mask_digit_runs(exc)}"[:MAX_ERROR_CHARS]


_SCORERS: dict[str | None, Any] = {}


def scorer_for(model_dir: str | None):
    """The classifier (H3's Scorer; rules only when no model is there), loaded once per process."""
    if model_dir not in _SCORERS:
        from taxcheck.classify import Scorer

        _SCORERS[model_dir] = Scorer(Path(model_dir) if model_dir else None)
    return _SCORERS[model_dir]


def model_version(scorer) -> str:
    meta = getattr(scorer, "metadata", None) or {}
    if not meta:
        return "rules-only"
    return str(meta.get("version") or meta.get("model_sha256") or meta.get("created") or "model")


def form_row(form: Form, findings: Sequence[Finding], decision: Decision, crops: dict[str, str] | None = None,
             version: str | None = None) -> dict:
    """The store/forms.jsonl shape of an assessed form."""
    row = form_to_dict(form)
    row.update(findings=[f.to_dict() for f in findings], risk=float(decision.risk), flagged=bool(decision.flagged),
               reasons=list(decision.reasons), drivers=list(decision.drivers), crops=dict(crops or {}),
               model_version=version)
    return row


def _crops(form: Form, findings: Sequence[Finding], decision: Decision, image: Any, out_dir: str | Path) -> dict:
    from taxcheck.report.crops import crop_boxes
    from taxcheck.report.exceptions import flagged_columns

    if image is None:
        return {}
    written = crop_boxes(image, form, flagged_columns(findings, decision), Path(out_dir) / CROPS_DIR)
    return {col: os.path.relpath(p, out_dir) for col, p in written.items()}


@functools.lru_cache(maxsize=1)  # forms come sorted by file: the 2-up page of two late forms is rendered once
def _pages_of(path: str, input_dir: str, mtime_ns: int) -> tuple:  # mtime: a replaced file is read anew
    from taxcheck.ingest.loader import load_document

    return tuple(load_document(Path(path), Path(input_dir)).pages)


def page_image(path: str | Path, input_dir: str | Path, form: Form):
    """The page of ``form`` rendered again from its file, upright as the reader measured it (no OCR).

    For the few forms flagged only at batch level (cross-form checks, batch scoring), whose page image is
    gone by then. Text-layer pages were measured as rendered; scanned ones evened, turned and deskewed as the reader did.
    """
    from taxcheck.layout.geometry import rotate_bound, straighten
    from taxcheck.ocr.preprocess import even_page

    pages = _pages_of(str(path), str(input_dir), os.stat(path).st_mtime_ns)
    page = next((p for p in pages if p.page_no == form.page), None)
    if page is None:
        return None
    if page.text_source == "text_layer" and page.words:
        return page.image
    return straighten(rotate_bound(even_page(page.image), form.rotation // 90))[0]


def _late_crops(form: Form, findings: Sequence[Finding], decision: Decision, crops: dict, input_dir: str | None,
                out_dir: str | Path | None) -> dict:
    """Crops of a form flagged at batch level: the existing ones plus any flagged box still uncut."""
    from taxcheck.report.exceptions import flagged_columns

    crops = dict(crops or {})
    if not (decision.flagged and input_dir and out_dir) or set(flagged_columns(findings, decision)) <= set(crops):
        return crops
    try:
        image = page_image(Path(input_dir) / form.source, input_dir, form)
        return {**crops, **_crops(form, findings, decision, image, out_dir)}
    except Exception as exc:  # noqa: BLE001 - a crop is a nicety; the row still goes out
        log.warning("late crop failed for %s: %s", mask_digit_runs(form.key), type(exc).__name__)
        return crops


def process_files(files: Sequence[InputFile], settings: Settings) -> list[FileOutcome]:
    """:func:`process_file` of several files read as one lot: their forms' boxes share Tesseract's runs
    (``extract.read_documents``). Should the lot's reading crash, each file is read alone, and fails alone."""
    from taxcheck.extract import read_documents
    from taxcheck.ocr import OcrUnavailable

    try:
        docs = read_documents([Path(f.path) for f in files], Path(settings.input_dir), settings.year_hint)
    except OcrUnavailable as exc:  # the engine itself is missing: the batch cannot run
        raise BatchError(f"OCR engine unavailable: {safe_error(exc)}") from None
    except Exception as exc:  # noqa: BLE001
        log.warning("%d files could not be read as one lot (%s): each is read alone", len(files), type(exc).__name__)
        docs = [None] * len(files)
    return [process_file(f, settings, doc) for f, doc in zip(files, docs)]


def process_file(f: InputFile, settings: Settings, doc: DocumentResult | None = None) -> FileOutcome:
    """Read (unless ``doc`` holds its reading already), check, score one file (and crop its flagged boxes).

    A crash on the file becomes a ``failed`` outcome (retried by the next run); only a missing OCR
    engine raises (BatchError), since then no file can be read.
    """
    from taxcheck.ocr import OcrUnavailable

    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    try:
        from taxcheck.extract import read_document

        if doc is None:
            doc = read_document(Path(f.path), root=Path(settings.input_dir), year_hint=settings.year_hint)
        t1 = time.perf_counter()
        t0 = t1 - doc.seconds  # the file's time: its reading (its share of a lot's) and what follows
        timings["read"] = doc.seconds
        n_pages = len(doc.pages or [])
        if doc.quarantined is not None or not doc.forms:
            q = doc.quarantined
            status = "failed" if q is not None and q.code in RETRY_CODES else "quarantined"
            return FileOutcome(f.sha256, f.source, status, pages=n_pages,
                               code=q.code if q else "no_form",
                               reason=q.reason if q else "給与支払報告書が見つかりませんでした。",
                               seconds=time.perf_counter() - t0, timings=timings)
        from taxcheck.classify.decide import LOW_CONFIDENCE
        from taxcheck.rules.mend import mend_amounts

        forms = [mend_amounts(form, LOW_CONFIDENCE) for form in doc.forms]
        for form in forms:  # the contract's source: path relative to --input, with / separators
            form.source = f.source
        scorer = scorer_for(settings.model_dir)
        version = model_version(scorer)
        assessed = scorer.assess(forms)
        t2 = time.perf_counter()
        timings["assess"] = t2 - t1
        pages = {p.page_no: p for p in (doc.pages or [])}
        rows = []
        for form in forms:
            a = assessed[form.key]
            crops = {}
            if settings.crops and a.decision.flagged:
                try:
                    image = getattr(pages.get(form.page), "image", None)
                    crops = _crops(form, a.findings, a.decision, image, settings.out_dir)
                except Exception as exc:  # noqa: BLE001 - a crop is a nicety; the row still goes out
                    log.warning("crop failed for %s: %s", mask_digit_runs(form.key), type(exc).__name__)
            rows.append(form_row(form, a.findings, a.decision, crops, version))
        timings["crops"] = time.perf_counter() - t2
        return FileOutcome(f.sha256, f.source, "done", rows, pages=n_pages, seconds=time.perf_counter() - t0,
                           timings=timings)
    except OcrUnavailable as exc:  # the engine itself is missing: the batch cannot run
        raise BatchError(f"OCR engine unavailable: {safe_error(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
        return FileOutcome(f.sha256, f.source, "failed", code="processing_error",
                           reason="処理中にエラーが発生しました（次回の実行で再処理します）。",
                           error=safe_error(exc), seconds=time.perf_counter() - t0, timings=timings)


def save_outcome(store, outcome: FileOutcome, run_id: int | None) -> None:
    from taxcheck.store import save_document

    save_document(store, sha256=outcome.sha256, source=outcome.source, status=outcome.status, run_id=run_id,
                  form_rows=outcome.form_rows, pages=outcome.pages, code=outcome.code, reason=outcome.reason,
                  error=outcome.error, seconds=outcome.seconds)


def outcome_counts(outcomes: Iterable[FileOutcome]) -> dict[str, Any]:
    """Counts and summed timings of some outcomes: what a flow task may return (no personal data)."""
    c: Counter = Counter()
    timings: Counter = Counter()
    for o in outcomes:
        c["files"] += 1
        c[o.status] += 1
        c["pages"] += o.pages
        c["forms"] += len(o.form_rows)
        c["flagged"] += o.flagged
        timings.update(o.timings)
    return {**{k: c.get(k, 0) for k in ("files", "done", "quarantined", "failed", "pages", "forms", "flagged")},
            "timings": {k: round(v, 3) for k, v in timings.items()}}


def merge_counts(parts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Sum the counts (and timings) that several ``process_chunk`` calls returned."""
    total = outcome_counts([])
    for part in parts:
        for k, v in part.items():
            if k == "timings":
                for name, sec in v.items():
                    total["timings"][name] = round(total["timings"].get(name, 0.0) + sec, 3)
            else:
                total[k] = total.get(k, 0) + v
    return total


def _init_worker() -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"


def process_chunk(files: Sequence[InputFile], settings: Settings, store_url: str, run_id: int | None,
                  workers: int = 1) -> dict[str, Any]:
    """Process some files and write each to the store as it finishes; return counts only.

    What a flow task calls: nothing personal comes back. ``workers`` > 1 reads in a process pool.
    """
    from taxcheck.store import open_store

    store = open_store(store_url)
    outcomes = []
    try:
        for o in iter_outcomes(files, settings, workers):
            save_outcome(store, o, run_id)
            outcomes.append(o)
    finally:
        store.close()
    return outcome_counts(outcomes)


def iter_outcomes(files: Sequence[InputFile], settings: Settings, workers: int = 1):
    """Outcomes in completion order; in-process when ``workers`` <= 1, else in a process pool."""
    # lots of READ_TOGETHER files, smaller when there are too few files to keep every worker busy
    lots = chunked(files, max(1, min(READ_TOGETHER, -(-len(files) // max(1, workers)))))
    if workers <= 1 or len(lots) <= 1:
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        for lot in lots:
            yield from process_files(lot, settings)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker) as pool:
        futures = {pool.submit(process_files, lot, settings): lot for lot in lots}
        for fut in as_completed(futures):
            try:
                yield from fut.result()
            except BatchError:
                for other in futures:
                    other.cancel()
                raise
            except Exception as exc:  # noqa: BLE001 - a worker died (out of memory, signal)
                for f in futures[fut]:
                    yield FileOutcome(f.sha256, f.source, "failed", code="worker_died",
                                      reason="処理中にエラーが発生しました（次回の実行で再処理します）。",
                                      error=safe_error(exc))


# ---------------------------------------------------------------------------------------------- batch level


def _finding_keys(findings: Iterable[dict]) -> list[tuple]:
    return sorted((f.get("code"), f.get("column"), f.get("message")) for f in findings)


def apply_batch_checks(store, shas: Iterable[str], model_dir: str | None = None, input_dir: str | None = None,
                       out_dir: str | Path | None = None) -> int:
    """Cross-form checks over the stored forms of ``shas``, and the final scoring of the whole batch.

    A payer's name and address are first settled over its forms (:func:`settle_payers`). Every form is
    scored again with the batch's statistics (z-scores within the batch and within each payer: a file
    alone holds too few of a payer's forms, and the model was trained on per-batch features);
    only forms whose fields, findings or decision changed are written, in one transaction. Returns the number
    of forms whose findings changed. The page image of a form flagged only now is gone: given ``input_dir``
    and ``out_dir``, its page is rendered again from the file to cut the crops.
    """
    from taxcheck.normalize.payers import settle_payers
    from taxcheck.rules.checks import check_batch
    from taxcheck.store import forms_for_run, save_assessments

    rows = forms_for_run(store, shas=list(shas))
    if len(rows) < 2:
        return 0
    read = [form_from_dict(r) for r in rows]
    forms = settle_payers(read)
    findings = check_batch(forms)
    scorer = scorer_for(model_dir)
    version = model_version(scorer)
    assessed = scorer.assess(forms, findings)
    changed = 0
    updates = []
    for r, f, before in zip(rows, forms, read):
        a = assessed[f.key]
        new_findings = _finding_keys(x.to_dict() for x in a.findings) != _finding_keys(r["findings"])
        changed += new_findings
        if not new_findings and f is before and _same_decision(r, a.decision):
            continue
        crops = _late_crops(f, a.findings, a.decision, r.get("crops"), input_dir, out_dir)
        updates.append((r["id"], form_row(f, a.findings, a.decision, crops, version)))
    save_assessments(store, updates)
    return changed


def _same_decision(row: dict, decision: Decision) -> bool:
    return (row.get("risk") is not None and abs(float(row["risk"]) - decision.risk) < 1e-12
            and bool(row.get("flagged")) == decision.flagged and list(row.get("reasons") or []) == decision.reasons
            and list(row.get("drivers") or []) == decision.drivers)


# ---------------------------------------------------------------------------------------------- outputs


def flag_scores(rows: Sequence[dict], truth_path: str | Path, quarantined: Iterable[str] = ()) -> dict[str, Any] | None:
    """Flag precision/recall against truth.json (``needs_correction`` per form).

    A form the reader missed counts as flagged only when its whole file was quarantined (a person
    sees the file then); otherwise it is a miss, and a miss of a bad form lowers recall.
    """
    import json

    data = json.loads(Path(truth_path).read_text(encoding="utf-8"))
    items = data.get("forms", data) if isinstance(data, dict) else data
    if not isinstance(items, list):
        return None
    needs: dict[tuple, bool] = {}
    for t in items:
        if not isinstance(t, dict) or "source" not in t:
            continue
        label = t.get("needs_correction", t.get("has_error", t.get("errors")))
        if label is None:
            continue
        needs[(t["source"], int(t.get("page", 1)), int(t.get("slot", 1)))] = bool(label)
    if not needs:
        return None
    quarantined = set(quarantined)
    tp = fp = fn = tn = 0
    found = {(r["source"], r["page"], r["slot"]): bool(r.get("flagged")) for r in rows}
    for k, bad in needs.items():
        flagged = found.get(k, k[0] in quarantined)
        tp += bad and flagged
        fn += bad and not flagged
        fp += (not bad) and flagged
        tn += (not bad) and not flagged
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None,
            "flag_rate": round((tp + fp) / len(needs), 4)}


def write_outputs(store, out_dir: str | Path, shas: Sequence[str], *, duplicates: Sequence[tuple[InputFile, str]] = (),
                  metrics: dict[str, Any] | None = None, truth: str | Path | None = None) -> dict[str, Any]:
    """Write results.csv, quarantine.csv, forms.jsonl, the exception reports and metrics.json for ``shas``."""
    from taxcheck.outputs import write_forms_jsonl, write_json, write_quarantine_csv, write_results_csv
    from taxcheck.store import documents_info, forms_for_run

    out = Path(out_dir)
    t0 = time.perf_counter()
    rows = forms_for_run(store, shas=list(shas))
    docs = documents_info(store, shas=list(shas))
    paths: dict[str, Any] = {}
    paths["results"] = write_results_csv(rows, out / "results.csv")
    quarantine = [{"source": d["source"], "reason": d["reason"] or "", "code": d["code"] or ""}
                  for d in docs if d["status"] != "done"]
    quarantine += [{"source": f.source, "reason": f"同じ内容のファイルを処理済みです（{other}）。", "code": "duplicate_file"}
                   for f, other in duplicates]
    paths["quarantine"] = write_quarantine_csv(quarantine, out / "quarantine.csv")
    paths["forms"] = write_forms_jsonl(rows, out / "forms.jsonl")
    try:
        from taxcheck.report.exceptions import rows_from_store, write_exception_reports

        paths.update(write_exception_reports(rows_from_store(store, out, shas=shas), out))
    except Exception as exc:  # noqa: BLE001 - results.csv is the contract; a broken report is logged
        log.error("exception report not written: %s", safe_error(exc))
    status = Counter(d["status"] for d in docs)
    m = dict(metrics or {})
    m.update({
        "documents": {"done": status.get("done", 0), "quarantined": status.get("quarantined", 0),
                      "failed": status.get("failed", 0), "duplicates": len(duplicates)},
        "forms": len(rows),
        "flagged": sum(1 for r in rows if r.get("flagged")),
        "pages": sum(d["pages"] or 0 for d in docs),
        "document_seconds": round(sum(d["seconds"] or 0.0 for d in docs), 3),
    })
    m["flag_rate"] = round(m["flagged"] / m["forms"], 4) if m["forms"] else None
    m["seconds_per_page"] = round(m["document_seconds"] / m["pages"], 3) if m["pages"] else None
    if truth:
        try:
            from taxcheck.evaluate import score

            accuracy = score(paths["results"], truth, paths["quarantine"])
            accuracy.pop("field_errors", None)  # expected/read values are personal: not in metrics.json
            m["accuracy"] = accuracy
        except Exception as exc:  # noqa: BLE001
            m["accuracy"] = {"error": safe_error(exc)}
        try:
            m["flags"] = flag_scores(rows, truth, [q["source"] for q in quarantine])
        except Exception as exc:  # noqa: BLE001 - a bad truth file must not lose the run's outputs
            m["flags"] = {"error": safe_error(exc)}
    m.setdefault("timings", {})["write_outputs"] = round(time.perf_counter() - t0, 3)
    paths["metrics"] = write_json(m, out / "metrics.json")
    return {"paths": paths, "metrics": m}


# ---------------------------------------------------------------------------------------------- run_batch


def check_environment(out_dir: str | Path, input_dir: str | Path | None = None) -> None:
    """Fail fast, before any file is touched, when the batch cannot run at all.

    A missing input folder is an error, not an empty night: a mistyped or unmounted inbox must not
    pass for "no forms today".
    """
    if input_dir is not None and not Path(input_dir).is_dir():
        raise BatchError(f"入力フォルダがありません: {input_dir} (input folder not found)")
    if shutil.which("tesseract") is None:
        raise BatchError("tesseract が見つかりません（scripts/setup.sh で導入してください）: OCR engine missing")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test."):
            pass
    except OSError as exc:
        raise BatchError(f"出力先に書き込めません: {out} ({type(exc).__name__})") from exc


@dataclass
class RunSummary:
    """What a run did, for the console and the caller."""

    run_id: int
    out_dir: str
    store: str
    discovered: int
    processed: int
    skipped: int
    duplicates: int
    metrics: dict[str, Any]
    seconds: float

    def describe(self) -> str:
        m = self.metrics
        d = m.get("documents", {})
        lines = [
            f"run {self.run_id}: {self.discovered} files found, {self.processed} processed, "
            f"{self.skipped} already done, {self.duplicates} duplicates ({self.seconds:.1f} s)",
            f"forms {m.get('forms', 0)}, flagged {m.get('flagged', 0)}, quarantined {d.get('quarantined', 0)}, "
            f"failed {d.get('failed', 0)}, pages {m.get('pages', 0)}",
        ]
        if m.get("flags"):
            f = m["flags"]
            lines.append(f"flags vs truth: {f['error']}" if "error" in f
                         else f"flags vs truth: precision {f['precision']}, recall {f['recall']}")
        lines.append(f"outputs in {self.out_dir} (store {self.store})")
        return "\n".join(lines)


def progress_bar(console=None):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=False)


def run_batch(input_dir: str | Path, out_dir: str | Path, model_dir: str | Path | None = None,
              year_hint: int | None = None, truth: str | Path | None = None, store_url: str | None = None,
              workers: int = 2, label: str | None = None, progress: bool = True) -> RunSummary:
    """Run the whole pipeline once over ``input_dir`` into ``out_dir`` (what ``taxcheck run`` does)."""
    from rich.console import Console

    from taxcheck.store import begin_run, default_url, document_statuses, documents_info, finish_run, open_store

    started = time.perf_counter()
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    out = Path(out_dir).resolve()
    check_environment(out, input_dir)
    url = store_url or default_url(out)
    store = open_store(url)
    try:
        files = discover(input_dir, exclude=[out] + ([truth] if truth else []))
        known = {d["sha256"]: d["source"] for d in documents_info(store, shas=[f.sha256 for f in files])}
        p = plan(files, document_statuses(store), known)
        settings = Settings(str(Path(input_dir).resolve()), str(out), str(model_dir) if model_dir else None, year_hint)
        scorer = scorer_for(settings.model_dir)  # load once here: fail early, and name the model in the run
        run_id = begin_run(store, label=label, input_dir=str(Path(input_dir)), out_dir=str(out),
                           model_version=model_version(scorer))
        outcomes: list[FileOutcome] = []
        console = Console(stderr=True, quiet=not progress)
        with progress_bar(console) as bar:
            task = bar.add_task("読取・点検", total=len(p.todo))
            for o in iter_outcomes(p.todo, settings, workers):
                save_outcome(store, o, run_id)
                outcomes.append(o)
                bar.advance(task)
        t_batch = time.perf_counter()
        changed = apply_batch_checks(store, p.shas, settings.model_dir, settings.input_dir, out)
        counts = outcome_counts(outcomes)
        metrics = {
            "run_id": run_id, "started": started_at,
            "model": model_version(scorer), "workers": workers,
            "files": {"found": len(files), "processed": len(p.todo), "skipped": len(p.done),
                      "duplicates": len(p.duplicates)},
            "this_run": counts,
            "timings": {**counts["timings"], "batch_checks": round(time.perf_counter() - t_batch, 3)},
            "batch_check_changes": changed,
        }
        result = write_outputs(store, out, p.shas, duplicates=p.duplicates, metrics=metrics, truth=truth)
        seconds = time.perf_counter() - started
        result["metrics"]["timings"]["total"] = round(seconds, 3)
        from taxcheck.outputs import write_json

        write_json(result["metrics"], out / "metrics.json")
        finish_run(store, run_id, {**{k: v for k, v in counts.items() if k != "timings"},
                                   "skipped": len(p.done), "duplicates": len(p.duplicates)})
        return RunSummary(run_id, str(out), repr(store), len(files), len(p.todo), len(p.done), len(p.duplicates),
                          result["metrics"], seconds)
    finally:
        store.close()
