"""Form → feature vector for the flagging classifier, in the spirit of Raha and HoloDetect.

An error shows in many weak signals at once: which statutory checks fired and by how much (residuals
scaled by the amount), how sure the reader was of each box, whether a value has the shape its box
expects (digit counts, round thousands, a tax not in ¥100 steps), how unusual it is for its payer and
for the batch (z-scores), and whether the form carries a *legal* oddity (乙欄, 中途退職,
所得金額調整控除, 前職 in 摘要, …) that explains a surprising value. The model learns to weigh them,
so it can tell errors from oddities and catch misreads that no rule sees.

The feature list is fixed (``FEATURE_NAMES``) and stored with the model; a batch always yields a
DataFrame with exactly these columns in this order.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict

import numpy as np
import pandas as pd
from rapidfuzz.distance import Levenshtein

from taxcheck.normalize.payers import own_readings
from taxcheck.normalize.places import has_address_shape, is_known, place_of
from taxcheck.normalize.readings import agreement
from taxcheck.records import Finding, Form
from taxcheck.rules.checks import CODES, PRIOR_JOB_WORDS, confirmed_boxes, is_full_year

# Boxes whose reading confidence is a feature of its own (the rest only count in min/mean).
KEY_BOXES = (
    "recipient_name",
    "recipient_kana",
    "recipient_address",
    "recipient_my_number",
    "payment_amount",
    "employment_income",
    "total_deductions",
    "withholding_tax",
    "social_insurance",
    "spouse_deduction",
    "life_insurance_deduction",
    "birth_date",
    "payer_number",
    "payer_name",
)
MONEY_BOXES = (
    "payment_amount",
    "employment_income",
    "total_deductions",
    "withholding_tax",
    "social_insurance",
    "life_insurance_deduction",
    "earthquake_insurance_deduction",
    "spouse_deduction",
    "housing_loan_credit",
)
# Text boxes whose re-read value is compared with the full-page pass's reading of the same box (FieldValue.page_read).
PAGE_READ_BOXES = ("recipient_name", "recipient_kana", "recipient_address", "payer_name", "payer_address", "remarks")
# A payer writes its name and address the same on every employee's form: a form whose reading differs
# from the payer's other forms is likely misread (the share of the others that read the same is a feature).
PAYER_TEXT = ("payer_name", "payer_address")
LIFE_INSURANCE_MAX = 120_000  # 生命保険料控除 cannot exceed this (新旧合計の上限)
EARTHQUAKE_MAX = 50_000  # 地震保険料控除の上限
ODDITY_FLAGS = ("otsu", "widow", "single_parent", "working_student", "self_disabled_special", "self_disabled_other")

_KANA_RE = re.compile(r"^[\u30A0-\u30FF\u3040-\u309F\s・ー]+$")
_LATIN_OR_DIGIT = re.compile(r"[A-Za-z0-9]")
# Marks no company's or person's name holds: OCR read a ruling, a seal's edge or a speck.
_NAME_JUNK = re.compile(r"[|!?:;「」『』【】()<>〈〉=_~^`\\/]")


def _names() -> list[str]:
    names = []
    for code in CODES:
        names += [f"fired_{code}", f"resid_{code}"]
    names += ["n_findings", "n_always_error", "n_warnings"]
    names += ["conf_min", "conf_mean", "conf_p10", "n_low_conf_0_6", "n_low_conf_0_8", "n_raw_differs"]
    names += [f"conf_{b}" for b in KEY_BOXES]
    names += [f"page_alike_{b}" for b in PAGE_READ_BOXES] + ["n_page_differs"]
    names += [
        "my_number_len",
        "payer_number_len",
        "pay_round_1000",
        "pay_log",
        "tax_mod_100",
        "tax_ratio",
        "social_ratio",
        "ei_ratio",
        "deduction_ratio",
        "life_over_max",
        "earthquake_over_max",
        "life_mod_1000",
        "name_len",
        "name_has_latin_or_digit",
        "kana_not_kana",
        "kana_family_agrees",
        "kana_given_agrees",
        "address_known",
        "payer_address_known",
        "address_len",
        "address_has_digit",
        "address_shape_ok",
        "payer_address_shape_ok",
        "payer_name_junk",
        "n_blank_money",
        "n_fields",
        "hire_month",
        "pay_annualised_log",
    ]
    names += ["z_pay_batch", "z_social_ratio_batch", "z_tax_ratio_batch", "z_pay_payer", "payer_forms",
              "z_pay_annualised_payer", "z_pay_annualised_batch"]
    names += [f"{c}_as_payer_others" for c in PAYER_TEXT]
    names += [f"{c}_settled" for c in PAYER_TEXT]
    names += ["payer_number_as_name_others"]
    names += [f"odd_{f}" for f in ODDITY_FLAGS]
    names += [
        "odd_retire_date",
        "odd_hire_date",
        "odd_income_adjustment",
        "odd_remarks_prior_job",
        "odd_remarks_present",
        "odd_elderly_cohabiting",
        "odd_disabled",
        "odd_dependants_over4",
        "odd_not_full_year",
        "odd_spouse",
    ]
    return names


FEATURE_NAMES: tuple[str, ...] = tuple(_names())


def _num(form: Form, col: str) -> float:
    v = form.amount(col)
    return float(v) if v is not None else math.nan


def _ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) and b > 0 else math.nan


def _finding_features(findings: list[Finding]) -> dict[str, float]:
    out: dict[str, float] = {}
    for code in CODES:
        out[f"fired_{code}"] = 0.0
        out[f"resid_{code}"] = 0.0
    for f in findings:
        if f"fired_{f.code}" not in out:
            continue
        out[f"fired_{f.code}"] += 1.0
        r = abs(f.residual) if f.residual is not None else 1.0
        out[f"resid_{f.code}"] = max(out[f"resid_{f.code}"], min(r, 10.0))
    out["n_findings"] = float(len(findings))
    out["n_always_error"] = float(sum(f.always_error for f in findings))
    out["n_warnings"] = float(sum(f.severity == "warning" for f in findings))
    return out


def sure_confidences(form: Form) -> dict[str, float]:
    """How sure the reader was of each box read filled in; a box an exact equation of the form confirms
    (rules.confirmed_boxes: an exact 所得控除の額の合計額, a tax that is the 年末調整's) counts as sure, whatever its
    reading's score."""
    confirmed = confirmed_boxes(form)
    return {name: 1.0 if name in confirmed else float(fv.confidence) for name, fv in form.fields.items() if not fv.blank}


def _confidence_features(form: Form) -> dict[str, float]:
    """How sure the reader was of the boxes (:func:`sure_confidences`)."""
    present = {name: fv for name, fv in form.fields.items() if not fv.blank}
    sure = sure_confidences(form)
    confs = np.array(list(sure.values()), dtype=float) if sure else np.array([1.0])
    out = {
        "conf_min": float(confs.min()),
        "conf_mean": float(confs.mean()),
        "conf_p10": float(np.percentile(confs, 10)),
        "n_low_conf_0_6": float((confs < 0.6).sum()),
        "n_low_conf_0_8": float((confs < 0.8).sum()),
        "n_raw_differs": float(
            sum(
                1
                for fv in present.values()
                if re.sub(r"[\s,，円¥]", "", unicodedata.normalize("NFKC", fv.raw or ""))
                != re.sub(r"[\s,]", "", fv.value or "")
            )
        ),
    }
    for b in KEY_BOXES:
        out[f"conf_{b}"] = sure.get(b, math.nan)
    return out


def _page_read_features(form: Form) -> dict[str, float]:
    """How alike each text box's value and the page pass's reading of it are (1.0 the same, spacing aside; NaN
    without a page pass), and how many boxes differ: a misread rarely comes out the same from both readings."""
    def squash(text: str | None) -> str:
        return re.sub(r"\s", "", text or "")
    compared = {name: (squash(fv.value), squash(fv.page_read)) for name, fv in form.fields.items()
                if fv.page_read is not None and not fv.blank}
    out = {f"page_alike_{b}": Levenshtein.normalized_similarity(*compared[b]) if b in compared else math.nan
           for b in PAGE_READ_BOXES}
    out["n_page_differs"] = float(sum(a != b for a, b in compared.values())) if compared else math.nan
    return out


def _address_shape(address: str) -> float:
    """1.0 when the address reads as place, block number, then at most a building and its floor or room
    (a misread digit or a stray mark breaks the shape), NaN when there is no address."""
    return float(has_address_shape(address)) if address else math.nan


def _place_known(address: str) -> float:
    """1.0 when the address starts with a place Japan Post lists, NaN when there is no address."""
    return float(is_known(place_of(address))) if address else math.nan


def _shape_features(form: Form) -> dict[str, float]:
    pay = _num(form, "payment_amount")
    tax = _num(form, "withholding_tax")
    life = _num(form, "life_insurance_deduction")
    quake = _num(form, "earthquake_insurance_deduction")
    hire = form.date("hire_date")
    # a mid-year hire paid like a full year suggests a 前職 included but not noted in 摘要
    months = 12 - hire.month + 1 if hire is not None and hire.year == form.tax_year else 12
    name = form.value("recipient_name") or ""
    kana = form.value("recipient_kana") or ""
    address = form.value("recipient_address") or ""
    payer_address = form.value("payer_address") or ""
    family_agrees, given_agrees = agreement(kana, name)
    return {
        "my_number_len": float(len(form.value("recipient_my_number") or "")),
        "payer_number_len": float(len(form.value("payer_number") or "")),
        "pay_round_1000": float(not math.isnan(pay) and pay % 1000 == 0),
        "pay_log": math.log10(pay + 1) if not math.isnan(pay) and pay >= 0 else math.nan,
        "tax_mod_100": float(tax % 100 != 0) if not math.isnan(tax) else math.nan,
        "tax_ratio": _ratio(tax, pay),
        "social_ratio": _ratio(_num(form, "social_insurance"), pay),
        "ei_ratio": _ratio(_num(form, "employment_income"), pay),
        "deduction_ratio": _ratio(_num(form, "total_deductions"), pay),
        "life_over_max": float(not math.isnan(life) and life > LIFE_INSURANCE_MAX),
        "earthquake_over_max": float(not math.isnan(quake) and quake > EARTHQUAKE_MAX),
        "life_mod_1000": float(life % 1000 != 0) if not math.isnan(life) else math.nan,
        "name_len": float(len(name.replace(" ", ""))),
        "name_has_latin_or_digit": float(bool(_LATIN_OR_DIGIT.search(name))),
        "kana_not_kana": float(bool(kana) and not _KANA_RE.match(kana)),
        # both boxes read right when the kana is the name's dictionary reading; a miss may be a rare reading
        "kana_family_agrees": family_agrees,
        "kana_given_agrees": given_agrees,
        "address_known": _place_known(address),
        "payer_address_known": _place_known(payer_address),
        "address_len": float(len(address)),
        "address_has_digit": float(bool(re.search(r"\d", address))),
        "address_shape_ok": _address_shape(address),
        "payer_address_shape_ok": _address_shape(payer_address),
        "payer_name_junk": float(bool(_NAME_JUNK.search(form.value("payer_name") or ""))),
        "n_blank_money": float(sum(form.value(c) is None for c in MONEY_BOXES)),
        "n_fields": float(sum(not fv.blank for fv in form.fields.values())),
        "hire_month": float(hire.month) if hire is not None else math.nan,
        "pay_annualised_log": math.log10(pay * 12 / months + 1) if not math.isnan(pay) and pay >= 0 else math.nan,
    }


def _oddity_features(form: Form) -> dict[str, float]:
    remarks = form.value("remarks") or ""
    out = {f"odd_{f}": float(form.value(f) == "1") for f in ODDITY_FLAGS}
    counted = sum(form.amount(c) or 0 for c in ("dependents_specific", "dependents_elderly", "dependents_other"))
    out.update(
        {
            "odd_retire_date": float(form.value("retire_date") is not None),
            "odd_hire_date": float(form.value("hire_date") is not None),
            "odd_income_adjustment": float(bool(form.amount("income_adjustment"))),
            "odd_remarks_prior_job": float(any(w in remarks for w in PRIOR_JOB_WORDS)),
            "odd_remarks_present": float(bool(remarks)),
            "odd_elderly_cohabiting": float(bool(form.amount("dependents_elderly_cohabiting"))),
            "odd_disabled": float(bool((form.amount("disabled_special") or 0) + (form.amount("disabled_other") or 0))),
            "odd_dependants_over4": float(counted > 4),
            "odd_not_full_year": float(not is_full_year(form)),
            "odd_spouse": float(bool(form.amount("spouse_deduction"))),
        }
    )
    return out


def _z(values: np.ndarray) -> np.ndarray:
    """Robust z-score (median / MAD) so that the errors themselves do not hide in the spread."""
    ok = ~np.isnan(values)
    out = np.full(values.shape, np.nan)
    if ok.sum() < 3:
        return out
    med = np.median(values[ok])
    mad = np.median(np.abs(values[ok] - med)) * 1.4826
    scale = mad if mad > 0 else (np.std(values[ok]) or 1.0)
    out[ok] = (values[ok] - med) / scale
    return np.clip(out, -20, 20)


def batch_features(forms: list[Form], findings: dict[str, list[Finding]]) -> pd.DataFrame:
    """Feature matrix of a batch (one row per form, index = form.key, columns = FEATURE_NAMES).

    The z-scores (batch and within-payer) are within ``forms``: pass the whole batch, as the pipeline's final
    scoring (``pipeline.apply_batch_checks``) and training (one run folder, one store batch) both do. A single
    file's forms are too few: a payer's other employees usually come in other files."""
    rows = []
    for form in forms:
        row = {}
        row.update(_finding_features(findings.get(form.key, [])))
        row.update(_confidence_features(form))
        row.update(_page_read_features(form))
        row.update(_shape_features(form))
        row.update(_oddity_features(form))
        rows.append(row)
    df = pd.DataFrame(rows, index=[f.key for f in forms], columns=list(FEATURE_NAMES), dtype=float)
    if not forms:
        return df
    df["z_pay_batch"] = _z(df["pay_log"].to_numpy())
    df["z_social_ratio_batch"] = _z(df["social_ratio"].to_numpy())
    df["z_tax_ratio_batch"] = _z(df["tax_ratio"].to_numpy())
    by_payer: dict[str, list[int]] = defaultdict(list)
    for i, form in enumerate(forms):
        by_payer[form.value("payer_number") or form.value("payer_name") or "?"].append(i)
    z_payer = np.full(len(forms), np.nan)
    z_ann = np.full(len(forms), np.nan)
    count = np.zeros(len(forms))
    pay_log = df["pay_log"].to_numpy()
    ann_log = df["pay_annualised_log"].to_numpy()
    for idx in by_payer.values():
        count[idx] = len(idx)
        z_payer[idx] = _z(pay_log[idx])
        z_ann[idx] = _z(ann_log[idx])
    df["z_pay_payer"] = z_payer
    df["z_pay_annualised_payer"] = z_ann
    df["z_pay_annualised_batch"] = _z(ann_log)
    df["payer_forms"] = count
    read = [own_readings(f) for f in forms]  # each form's own payer readings, before settling
    for column in PAYER_TEXT:
        df[f"{column}_as_payer_others"] = _share_read(forms, read, by_payer, column)
        df[f"{column}_settled"] = [float(getattr(f.fields.get(column), "as_read", None) is not None) for f in forms]
    # the other way round: a 法人番号 whose 0 is read 9 still passes its check digit (a mod-9 sum), and so makes a
    # payer of its own; the forms of the same payer name and address show it (a name alone is not a payer: two
    # companies may share one)
    by_name: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, form in enumerate(forms):
        name, address = (re.sub(r"\s", "", form.value(c) or "") for c in PAYER_TEXT)
        if name and address:
            by_name[(name, address)].append(i)
    df["payer_number_as_name_others"] = _share_read(forms, read, by_name, "payer_number")
    return df


def _share_read(forms: list[Form], read: list[Form], groups: dict[str, list[int]], column: str) -> np.ndarray:
    """For each form, the share of its payer's forms (itself included) whose own reading of ``column`` (``read``:
    each form's :func:`~taxcheck.normalize.payers.own_readings`) is the value the form carries (NaN alone). A
    settled value (normalize/payers.py) is the same on all of a payer's forms, so what tells a misread print from a
    sure one is how many forms read it so themselves: 1.0 when all did, 0.5 when two forms disagreed, 0.0 when the
    vote put together a text no form read whole."""
    out = np.full(len(forms), np.nan)
    for idx in groups.values():
        if len(idx) < 2:
            continue
        own = Counter(read[i].value(column) or "" for i in idx)
        for i in idx:
            out[i] = own[forms[i].value(column) or ""] / len(idx)
    return out
