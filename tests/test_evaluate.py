"""evaluate.score: forms found/missed/phantom, field accuracy by split, quarantine correctness."""

from __future__ import annotations

import csv
import json

from taxcheck.evaluate import score
from taxcheck.forms import result_columns


def _truth(tmp_path):
    fields = {"payment_amount": "4520000", "recipient_name": "山田 太郎", "recipient_my_number": "621498320257", "birth_date": "1980-04-12"}
    truth = {
        "forms": [
            {"source": "a.pdf", "page": 1, "slot": 1, "tax_year": 2024, "variant": "pdf_text", "fields": dict(fields)},
            {"source": "b.png", "page": 1, "slot": 1, "tax_year": 2019, "variant": "scan300_png", "fields": dict(fields)},
            {"source": "b.png", "page": 1, "slot": 2, "tax_year": 2019, "variant": "scan300_png", "fields": dict(fields)},
        ],
        "documents": [{"file": "a.pdf", "broken": None}, {"file": "b.png", "broken": None},
                      {"file": "misc/empty.pdf", "broken": "empty_file"}],
    }
    p = tmp_path / "truth.json"
    p.write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
    return p, truth


def _write(path, rows, header):
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def _rows(truth):
    return [{"source": f["source"], "page": f["page"], "slot": f["slot"], "form": "salary_report",
             "tax_year": f["tax_year"], **f["fields"]} for f in truth["forms"]]


def test_perfect_run_scores_one(tmp_path):
    tp, truth = _truth(tmp_path)
    _write(tmp_path / "results.csv", _rows(truth), result_columns())
    _write(tmp_path / "quarantine.csv", [{"source": "misc/empty.pdf", "reason": "空", "code": "empty_file"}], ["source", "reason", "code"])
    s = score(tmp_path / "results.csv", tp)  # quarantine.csv found beside results.csv
    assert s["forms"] == {"expected": 3, "found": 3, "missed": 0, "phantom": 0, "missed_keys": [], "phantom_keys": []}
    assert s["tax_year_accuracy"] == 1.0 and s["field_accuracy"]["all"] == 1.0
    assert s["quarantine"]["correct"] and s["quarantine"]["code_match"] == 1.0


def test_errors_missed_phantom_and_wrong_quarantine(tmp_path):
    tp, truth = _truth(tmp_path)
    rows = _rows(truth)
    rows[1]["payment_amount"] = "4520900"  # a scan misread
    rows[1]["recipient_my_number"] = "621498320258"
    rows[1]["tax_year"] = 2020
    del rows[2]  # missed form
    rows.append({**rows[0], "slot": 2})  # phantom form
    _write(tmp_path / "results.csv", rows, result_columns())
    _write(tmp_path / "q.csv", [{"source": "b.png", "reason": "x"}], ["source", "reason"])
    s = score(tmp_path / "results.csv", tp, tmp_path / "q.csv")
    assert (s["forms"]["found"], s["forms"]["missed"], s["forms"]["phantom"]) == (2, 1, 1)
    assert s["tax_year_accuracy"] == 0.5
    assert s["field_accuracy"]["born_digital"] == 1.0 and s["field_accuracy"]["scan"] == 0.5
    assert s["by_field"]["payment_amount"] == 0.5
    q = s["quarantine"]
    assert not q["correct"] and q["missed"] == ["misc/empty.pdf"] and q["good_files_quarantined"] == ["b.png"]
    # a personal number never appears in full in the report
    assert all("62149832" not in json.dumps(e) for e in s["field_errors"])


def test_low_confidence_marks_are_scored_on_scans(tmp_path):
    tp, truth = _truth(tmp_path)
    rows = _rows(truth)
    rows[0]["reasons"] = "low_confidence:payment_amount"  # born-digital: not scored
    rows[1]["payment_amount"] = "4520900"  # misread, marked
    rows[1]["reasons"] = "model;low_confidence:payment_amount;low_confidence:birth_date"  # birth date right, marked
    rows[2]["recipient_name"] = "山田 大郎"  # misread, not marked
    _write(tmp_path / "results.csv", rows, result_columns())
    lc = score(tmp_path / "results.csv", tp)["low_confidence"]
    assert lc["amounts_counts"] == {"right_marked": 0.0, "misreads_marked": 1.0, "right": 1, "misreads": 1}
    assert lc["dates"] == {"right_marked": 0.5, "misreads_marked": None, "right": 2, "misreads": 0}
    assert lc["names_addresses"]["misreads_marked"] == 0.0 and lc["names_addresses"]["misreads"] == 1
