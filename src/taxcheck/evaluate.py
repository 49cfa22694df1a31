"""Score a run against the generator's ground truth (truth.json): forms found, tax year, field accuracy, quarantine.

Forms are matched on (source, page, slot). Field accuracy is exact match of the written value
(blank = ""), overall, per field, per field type, and split by born-digital (PDF text layer) vs scan.
Quarantine is correct when every broken file is quarantined and no good file is.
How honest the confidences are shows in ``low_confidence`` (scans only): of the values read right, how many
carry a ``low_confidence:<column>`` reason anyway (each one a box a clerk looks at in vain), and of the
misreads, how many carry it (each one a misread the exception report points at).
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

from taxcheck.classify.decide import low_confidence_column
from taxcheck.forms import salary_fields
from taxcheck.outputs import REASONS_SEPARATOR

BORN_DIGITAL_VARIANTS = {"pdf_text", "pdf_text_2up"}
TYPE_GROUPS = {
    "amount": "amounts_counts", "count": "amounts_counts", "my_number": "numbers", "payer_number": "numbers",
    "date": "dates", "text": "names_addresses", "address": "names_addresses", "kana": "names_addresses", "flag": "flags",
}


def read_csv(path: Path) -> list[dict[str, str]]:
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _key(source: str, page: Any, slot: Any) -> tuple[str, int, int]:
    return (str(source).replace("\\", "/"), int(page), int(slot))


def _mask(name: str, value: str) -> str:
    """個人番号 never leaves in a report: all but the last 4 digits masked (法人番号 are public)."""
    if name == "recipient_my_number" or (name == "payer_number" and len(value) != 13):
        return "*" * max(0, len(value) - 4) + value[-4:]
    return value


def _ratio(ok: int, n: int) -> float | None:
    return round(ok / n, 5) if n else None


def score_rows(rows: Iterable[dict[str, Any]], truth: dict, quarantined: Iterable[dict[str, Any]] | None = None) -> dict:
    """Score result rows (dicts with results.csv columns) against a loaded truth.json."""
    specs = salary_fields()
    rows = list(rows)
    got = {_key(r["source"], r["page"], r["slot"]): r for r in rows}
    want = {_key(f["source"], f["page"], f["slot"]): f for f in truth["forms"]}
    found = sorted(set(got) & set(want))
    missed = sorted(set(want) - set(got))
    phantom = sorted(set(got) - set(want))

    year_ok = sum(1 for k in found if str(got[k].get("tax_year", "")) == str(want[k]["tax_year"]))
    per_field: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_split: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_group: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_group_split: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    errors: list[dict[str, str]] = []
    # scans only, per group: [right values marked low_confidence, right values, misreads marked, misreads]
    unsure: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for k in found:
        t, r = want[k], got[k]
        split = "born_digital" if t.get("variant") in BORN_DIGITAL_VARIANTS else "scan"
        reasons = str(r.get("reasons") or "").split(REASONS_SEPARATOR)
        marked = {c for x in reasons if (c := low_confidence_column(x)) is not None}
        for name, expected in t["fields"].items():
            if name not in specs or name not in r:
                continue
            value = r.get(name) or ""
            expected = "" if expected is None else str(expected)
            if name in ("dependents_named", "under16_named") and expected == "0":
                expected = ""
            ok = value == expected or (name in ("dependents_named", "under16_named") and value in ("", "0") and expected in ("", "0"))
            group = TYPE_GROUPS[specs[name].type]
            for bucket, key in ((per_field, name), (per_split, split), (per_group, group), (per_group_split, f"{group}/{split}")):
                bucket[key][0] += ok
                bucket[key][1] += 1
            if split == "scan" and (value or expected):
                tally = unsure[group]
                tally[0 if ok else 2] += name in marked
                tally[1 if ok else 3] += 1
            if not ok:
                errors.append({"form": f"{k[0]}#p{k[1]}s{k[2]}", "variant": t.get("variant", ""), "field": name,
                               "expected": _mask(name, expected), "read": _mask(name, value)})
    contract = [n for n, s in specs.items() if s.contract]
    c_ok = sum(per_field[n][0] for n in contract)
    c_n = sum(per_field[n][1] for n in contract)
    all_ok = sum(v[0] for v in per_field.values())
    all_n = sum(v[1] for v in per_field.values())

    result: dict[str, Any] = {
        "forms": {"expected": len(want), "found": len(found), "missed": len(missed), "phantom": len(phantom),
                  "missed_keys": [f"{s}#p{p}s{sl}" for s, p, sl in missed],
                  "phantom_keys": [f"{s}#p{p}s{sl}" for s, p, sl in phantom]},
        "tax_year_accuracy": _ratio(year_ok, len(found)),
        "field_accuracy": {"all": _ratio(all_ok, all_n), "contract": _ratio(c_ok, c_n),
                           **{k: _ratio(*v) for k, v in sorted(per_split.items())}},
        "by_group": {k: _ratio(*v) for k, v in sorted(per_group.items())},
        "by_group_split": {k: _ratio(*v) for k, v in sorted(per_group_split.items())},
        "by_field": {k: _ratio(*v) for k, v in sorted(per_field.items())},
        "low_confidence": {g: {"right_marked": _ratio(v[0], v[1]), "misreads_marked": _ratio(v[2], v[3]),
                               "right": v[1], "misreads": v[3]} for g, v in sorted(unsure.items())},
        "field_errors": errors,
    }
    if quarantined is not None:
        result["quarantine"] = _score_quarantine(list(quarantined), truth)
    return result


def _score_quarantine(rows: list[dict[str, Any]], truth: dict) -> dict:
    q = {str(r["source"]).replace("\\", "/"): r for r in rows}
    broken = {d["file"]: d["broken"] for d in truth.get("documents", []) if d.get("broken")}
    good = {d["file"] for d in truth.get("documents", []) if not d.get("broken")}
    caught = [f for f in broken if f in q]
    code_ok = [f for f in caught if "code" in q[f] and q[f]["code"] == broken[f]]
    wrongly = sorted(f for f in good if f in q)
    return {
        "broken": len(broken), "quarantined": len(caught), "missed": sorted(set(broken) - set(caught)),
        "code_match": _ratio(len(code_ok), len(caught)) if any("code" in q[f] for f in caught) else None,
        "good_files_quarantined": wrongly,
        "correct": len(caught) == len(broken) and not wrongly,
    }


def score(results_csv: Path, truth_json: Path, quarantine_csv: Path | None = None) -> dict:
    """Score ``results.csv`` (+ ``quarantine.csv``, default: beside it) against ``truth.json``."""
    results_csv = Path(results_csv)
    truth = json.loads(Path(truth_json).read_text(encoding="utf-8"))
    rows = read_csv(results_csv)
    if quarantine_csv is None and (results_csv.parent / "quarantine.csv").is_file():
        quarantine_csv = results_csv.parent / "quarantine.csv"
    quarantined = read_csv(Path(quarantine_csv)) if quarantine_csv else None
    return score_rows(rows, truth, quarantined)
