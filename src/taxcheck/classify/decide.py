"""The flagging decision: rules that are always errors, the model's risk over the threshold, and the reasons.

A form goes to a person when an ``always_error`` finding fires (a check digit cannot be legitimately
wrong), when a finding of ``REVIEW_CODES`` fires (legal but to be confirmed with the payer), or when the calibrated risk is above the threshold chosen for the target recall. The reasons
are the finding codes, ``model`` when only the model flagged it (with the features behind the risk in
``drivers``), and ``low_confidence:<column>`` for every box the reader was unsure of.
"""

from __future__ import annotations

from collections.abc import Sequence

from taxcheck.records import Decision, Finding, Form

# A box read with a confidence below this is named in the reasons (the one place this is defined).
LOW_CONFIDENCE = 0.6
REASON_SEVERITIES = ("error", "warning")
MODEL_REASON = "model"  # the reason of a form only the model flagged
LOW_CONFIDENCE_REASON = "low_confidence"  # written low_confidence:<column>, one per box read unsure
# Findings that are not errors in themselves but always need a person to confirm with the payer: a mid-year
# hire with a 年末調整 and no 前職 in 摘要 looks exactly like a first job on paper, and the model cannot
# tell the two apart (the ward's commonest correction, see DOMAIN.md).
REVIEW_CODES = frozenset({"prior_job_not_noted"})


def rule_flagged(findings: Sequence[Finding]) -> bool:
    """True when the rules alone send the form to a person (an always-error finding or a review code)."""
    return any(f.always_error or f.code in REVIEW_CODES for f in findings)


def low_confidence_columns(form: Form, threshold: float = LOW_CONFIDENCE) -> list[str]:
    """Columns whose value was read, but with a confidence below ``threshold``."""
    return [name for name, fv in form.fields.items() if not fv.blank and fv.confidence < threshold]


def low_confidence_reason(column: str) -> str:
    """The reason naming a box read unsure: ``low_confidence:<column>``."""
    return f"{LOW_CONFIDENCE_REASON}:{column}"


def low_confidence_column(reason: str) -> str | None:
    """The column a ``low_confidence:<column>`` reason names; None for any other reason."""
    prefix = LOW_CONFIDENCE_REASON + ":"
    return reason[len(prefix):] if reason.startswith(prefix) else None


def decide(form: Form, findings: Sequence[Finding], risk: float, threshold: float,
           drivers: Sequence[str] = ()) -> Decision:
    """Flag ``form`` or let it pass, and say why."""
    codes: list[str] = []
    for f in findings:
        if f.severity in REASON_SEVERITIES and f.code not in codes:
            codes.append(f.code)
    rule_flag = rule_flagged(findings)
    model_flag = risk > threshold
    reasons = list(codes)
    if model_flag and not rule_flag:
        reasons.append(MODEL_REASON)
    reasons += [low_confidence_reason(c) for c in low_confidence_columns(form)]
    return Decision(
        risk=float(risk),
        flagged=bool(rule_flag or model_flag),
        reasons=reasons,
        drivers=list(drivers) if model_flag and not rule_flag else [],
    )
