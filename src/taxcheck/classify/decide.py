"""The flagging decision: rules that are always errors, the model's risk over the threshold, and the reasons.

A form goes to a person when an ``always_error`` finding fires (a check digit cannot be legitimately
wrong) or when the calibrated risk is above the threshold chosen for the target recall. The reasons
are the finding codes, ``model`` when only the model flagged it (with the features behind the risk in
``drivers``), and ``low_confidence:<column>`` for every box the reader was unsure of.
"""

from __future__ import annotations

from collections.abc import Sequence

from taxcheck.records import Decision, Finding, Form

# A box read with a confidence below this is named in the reasons (the one place this is defined).
LOW_CONFIDENCE = 0.6
REASON_SEVERITIES = ("error", "warning")


def low_confidence_columns(form: Form, threshold: float = LOW_CONFIDENCE) -> list[str]:
    """Columns whose value was read, but with a confidence below ``threshold``."""
    return [name for name, fv in form.fields.items() if not fv.blank and fv.confidence < threshold]


def decide(form: Form, findings: Sequence[Finding], risk: float, threshold: float,
           drivers: Sequence[str] = ()) -> Decision:
    """Flag ``form`` or let it pass, and say why."""
    codes: list[str] = []
    for f in findings:
        if f.severity in REASON_SEVERITIES and f.code not in codes:
            codes.append(f.code)
    rule_flag = any(f.always_error for f in findings)
    model_flag = risk > threshold
    reasons = list(codes)
    if model_flag and not rule_flag:
        reasons.append("model")
    reasons += [f"low_confidence:{c}" for c in low_confidence_columns(form)]
    return Decision(
        risk=float(risk),
        flagged=bool(rule_flag or model_flag),
        reasons=reasons,
        drivers=list(drivers) if model_flag and not rule_flag else [],
    )
