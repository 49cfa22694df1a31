"""Per-quirk breakdown of a run over a stress set (``taxcheck samples --stress``).

    .venv/bin/python bench/stress_report.py --results OUT/results.csv --truth STRESS/truth.json

``taxcheck evaluate`` gives the overall figures; this splits them by every quirk a form carried
(a form with three quirks counts under each), and by the foreign vendor's value styles, so the
reader's engineer sees which quirk breaks what.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

from taxcheck.evaluate import score


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", required=True)
    ap.add_argument("--truth", required=True)
    a = ap.parse_args()
    s = score(a.results, a.truth, None)
    truth = json.load(open(a.truth, encoding="utf-8"))
    docs = {d["file"]: d["render"] for d in truth["documents"]}
    missed = set(s["forms"]["missed_keys"])
    wrong: dict[str, list[str]] = defaultdict(list)
    for e in s["field_errors"]:
        wrong[e["form"]].append(e["field"])
    n_fields = len(truth["forms"][0]["fields"])
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # forms, found, fields, fields right
    for f in truth["forms"]:
        key = f"{f['source']}#p{f['page']}s{f['slot']}"
        r = docs[f["source"]]
        tags = list(r["quirks"]) + [f"layout={r.get('layout')}"]
        v = r.get("vendor") or {}
        tags += [f"vendor.{k}={v[k]}" for k in ("amount_align", "yen_suffix", "fullwidth", "era_words", "numbers") if k in v]
        for t in tags:
            row = tally[t]
            row[0] += 1
            if key not in missed:
                row[1] += 1
                row[2] += n_fields
                row[3] += n_fields - len(wrong[key])
    print(f"{'quirk':34} forms found field_acc")
    for t, (n, found, fields, right) in sorted(tally.items()):
        acc = f"{right / fields:.3f}" if fields else "-"
        print(f"{t:34} {n:5d} {found:5d} {acc:>9}")


if __name__ == "__main__":
    main()
