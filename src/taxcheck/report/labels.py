"""Japanese labels of reason codes for the clerks' reports.

Reason codes are stable English identifiers (rule codes from ``taxcheck.rules``, ``model``,
``low_confidence:<column>``); clerks read the Japanese label with the box name. A rule module may
publish its own labels as ``REASON_LABELS`` (code → label); those win over the generic ones here.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from functools import cache

from taxcheck.classify.decide import LOW_CONFIDENCE_REASON, MODEL_REASON, low_confidence_column
from taxcheck.forms import box_name
from taxcheck.records import Finding

SETTLED = "settled_from_payer"  # a payer box read otherwise on this form, settled by the payer's other forms

# Labels of the codes of taxcheck.rules.checks (CODES) and of the classifier; a rule module's own
# REASON_LABELS win (see _rule_labels).
_LABELS = {
    MODEL_REASON: "モデルが要確認と判定（誤りの可能性が高い）",
    LOW_CONFIDENCE_REASON: "読み取りの確信度が低い",
    SETTLED: "同じ支払者の他の報告書の読取りで補正",
    "income_arithmetic": "給与所得控除後の金額の計算誤り",
    "wrong_year_table": "給与所得控除後の金額が別の年分の表で計算されている",
    "income_adjustment_amount": "所得金額調整控除額の誤り",
    "deduction_sum": "所得控除の額の合計額が内訳と合わない",
    "basic_deduction_invalid": "基礎控除の額の誤り",
    "tax_mismatch": "源泉徴収税額が再計算と合わない",
    "my_number_check_digit": "個人番号の検査用数字の誤り",
    "my_number_missing": "個人番号の記載なし",
    "payer_number_check_digit": "支払者の個人番号又は法人番号の検査用数字の誤り",
    "kana_missing": "フリガナの記載なし",
    "address_missing": "住所の記載なし",
    "required_missing": "必須欄の記載なし",
    "amount_unreadable": "金額欄が数字として読めない",
    "birth_date_invalid": "受給者生年月日が日付として正しくない",
    "birth_date_out_of_range": "受給者生年月日があり得ない範囲",
    "hire_retire_out_of_year": "中途就・退職の年月日が年分の範囲外",
    "dependents_count_mismatch": "扶養親族の数と記載された氏名の数が合わない",
    "spouse_amount_invalid": "配偶者（特別）控除の額の誤り",
    "duplicate_resubmission": "同じ人・同じ支払者の報告書が重複（再提出の可能性）",
    "prior_job_not_noted": "前職分の記載（摘要）がない可能性",
}

# Modules that may define REASON_LABELS; missing ones are skipped.
_LABEL_MODULES = ("taxcheck.rules.checks",)


@cache
def _rule_labels() -> dict[str, str]:
    labels: dict[str, str] = {}
    for name in _LABEL_MODULES:
        try:
            mod = importlib.import_module(name)
        except Exception:  # a module not there yet, or broken: fall back to our labels
            continue
        found = getattr(mod, "REASON_LABELS", None)
        if isinstance(found, dict):
            for k, v in found.items():
                labels.setdefault(str(k), str(v))
    return labels


def reason_label(code: str, findings: Iterable[Finding] = ()) -> str:
    """Japanese label for a reason code, naming the box where the code says which one."""
    if (column := low_confidence_column(code)) is not None:
        return f"{_LABELS[LOW_CONFIDENCE_REASON]}（{box_name(column)}）"
    rule = _rule_labels()
    if code in rule:
        return rule[code]
    if code in _LABELS:
        return _LABELS[code]
    boxes = sorted({f.box or box_name(f.column) for f in findings if f.code == code and (f.box or f.column)})
    if boxes:
        return f"点検で不一致（{'・'.join(boxes)}）"
    return f"点検で不一致（{code}）"



# Features of taxcheck.classify.features that a model-only flag may name as drivers, in Japanese.
_FEATURE_LABELS = {
    "n_findings": "点検の指摘数",
    "n_always_error": "必ず確認となる指摘数",
    "n_warnings": "警告の数",
    "conf_min": "読み取り確信度の最低値",
    "conf_mean": "読み取り確信度の平均",
    "conf_p10": "読み取り確信度（下位10%）",
    "n_low_conf_0_6": "確信度0.6未満の欄の数",
    "n_low_conf_0_8": "確信度0.8未満の欄の数",
    "n_raw_differs": "読み取った文字と正規化後の値が異なる欄の数",
    "n_page_differs": "再読取りと全面読取りで文字が異なる欄の数",
    "my_number_len": "個人番号の桁数",
    "payer_number_len": "支払者番号の桁数",
    "pay_round_1000": "支払金額が千円単位",
    "pay_log": "支払金額の大きさ",
    "tax_mod_100": "源泉徴収税額の百円未満の端数",
    "tax_ratio": "支払金額に対する源泉徴収税額の割合",
    "social_ratio": "支払金額に対する社会保険料等の割合",
    "ei_ratio": "支払金額に対する給与所得控除後の金額の割合",
    "deduction_ratio": "所得控除の額の合計額の割合",
    "life_over_max": "生命保険料の控除額が上限超え",
    "earthquake_over_max": "地震保険料の控除額が上限超え",
    "life_mod_1000": "生命保険料の控除額の端数",
    "name_len": "氏名の長さ",
    "name_has_latin_or_digit": "氏名に英数字",
    "kana_not_kana": "フリガナにカナ以外の文字",
    "address_len": "住所の長さ",
    "address_has_digit": "住所の番地の有無",
    "kana_family_agrees": "フリガナ（氏）が氏名の読みと一致",
    "kana_given_agrees": "フリガナ（名）が氏名の読みと一致",
    "address_known": "住所の地名が郵便番号データにある",
    "payer_address_known": "支払者の住所の地名が郵便番号データにある",
    "address_shape_ok": "住所が「地名＋番地＋建物名」の形",
    "payer_address_shape_ok": "支払者の住所が「地名＋番地＋建物名」の形",
    "payer_name_junk": "支払者の氏名又は名称に記号",
    "payer_name_as_payer_others": "支払者の氏名又は名称をそのとおりに読んだ同じ支払者の報告書の割合",
    "payer_address_as_payer_others": "支払者の住所をそのとおりに読んだ同じ支払者の報告書の割合",
    "payer_number_as_name_others": "支払者の法人番号をそのとおりに読んだ同じ名称・住所の支払者の報告書の割合",
    "payer_name_settled": "支払者の氏名又は名称を同じ支払者の他の報告書の読取りで補正",
    "payer_address_settled": "支払者の住所を同じ支払者の他の報告書の読取りで補正",
    "n_blank_money": "空欄の金額欄の数",
    "n_fields": "読み取れた欄の数",
    "z_pay_batch": "支払金額が今回の全体と比べて外れている",
    "z_social_ratio_batch": "社会保険料等の割合が今回の全体と比べて外れている",
    "z_tax_ratio_batch": "源泉徴収税額の割合が今回の全体と比べて外れている",
    "z_pay_payer": "支払金額が同じ支払者の他の報告書と比べて外れている",
    "payer_forms": "同じ支払者の報告書の数",
    "hire_month": "就職した月",
    "pay_annualised_log": "支払金額（年換算）の大きさ",
    "z_pay_annualised_payer": "支払金額（年換算）が同じ支払者の他の報告書と比べて外れている",
    "z_pay_annualised_batch": "支払金額（年換算）が今回の全体と比べて外れている",
}

_ODD_LABELS = {
    "remarks_prior_job": "摘要に前職分の記載",
    "remarks_present": "摘要に記載あり",
    "elderly_cohabiting": "同居老親等あり",
    "disabled": "障害者の記載あり",
    "dependants_over4": "扶養親族が5人以上",
    "not_full_year": "年の途中の就職・退職",
    "spouse": "配偶者控除等の記載あり",
}


def driver_label(driver: str) -> str:
    """A model driver (``feature=value`` from the classifier) in Japanese, with the box where one is named."""
    name, _, value = driver.partition("=")
    suffix = f"（{value}）" if value else ""
    if name.startswith("fired_"):
        return reason_label(name[len("fired_"):])
    if name.startswith("resid_"):
        return f"{reason_label(name[len('resid_'):])}（差 {value}）" if value else reason_label(name[len("resid_"):])
    if name.startswith("conf_") and name not in _FEATURE_LABELS:
        return f"{box_name(name[len('conf_'):])} の読み取り確信度{suffix}"
    if name.startswith("page_alike_"):
        return f"{box_name(name[len('page_alike_'):])} の再読取りと全面読取りの一致度{suffix}"
    if name.startswith("odd_"):
        what = name[len("odd_"):]
        if what in _ODD_LABELS:
            return f"特記事項: {_ODD_LABELS[what]}"
        return f"特記事項: {box_name(what)}" if what in _known_columns() else f"特記事項（{what}）"
    if name in _FEATURE_LABELS:
        return f"{_FEATURE_LABELS[name]}{suffix}"
    return f"その他の特徴（{driver}）"  # a feature added to the classifier without a label here yet


def _known_columns() -> set[str]:
    from taxcheck.forms import salary_fields

    return set(salary_fields())
