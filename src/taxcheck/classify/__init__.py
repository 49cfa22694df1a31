"""Which forms need a person: statutory findings + calibrated risk → a :class:`Decision` per form.

The one call the pipeline needs is :func:`assess_batch`; the parts (features, model, decide, train)
are importable on their own for training and benchmarks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from taxcheck.records import Decision, Finding, Form

log = logging.getLogger(__name__)
RULES_ONLY_THRESHOLD = 0.5  # without a model, risk is 1.0 when an error-level finding fires, else 0.0


@dataclass
class Assessment:
    """Everything the reports need about one form."""

    findings: list[Finding]
    decision: Decision


class Scorer:
    """A loaded model (or the rules-only fallback when none is available) that scores batches."""

    def __init__(self, model_dir: Path | None = None, *, require_model: bool = False):
        from taxcheck.classify.model import load_model

        self.model = None
        self.metadata: dict = {}
        try:
            self.model, self.metadata = load_model(model_dir)
        except FileNotFoundError:
            if require_model:
                raise
            log.warning("no flagging model found (%s): flagging on the statutory rules alone", model_dir or "default")
        self.threshold = float(self.metadata.get("threshold", RULES_ONLY_THRESHOLD))
        if self.model is not None:
            from taxcheck.classify.features import FEATURE_NAMES

            gone = sorted(set(self.model.feature_names_) - set(FEATURE_NAMES))
            if gone:
                log.warning("the flagging model %s was trained on features this code no longer computes (%s): "
                            "they are scored as blank boxes; retrain it", self.metadata.get("name", model_dir),
                            ", ".join(gone))

    def assess(self, forms: list[Form], findings: dict[str, list[Finding]] | None = None,
               top_drivers: int = 3) -> dict[str, Assessment]:
        from taxcheck.classify.decide import decide, rule_flagged
        from taxcheck.classify.features import batch_features
        from taxcheck.rules.checks import check_batch

        findings = findings if findings is not None else check_batch(forms)
        if not forms:
            return {}
        X = batch_features(forms, findings)
        if self.model is not None:
            risks = self.model.risk(X)
        else:
            risks = [1.0 if any(f.severity == "error" for f in findings[k]) else 0.0 for k in X.index]
        out = {}
        for i, form in enumerate(forms):
            fs = findings[form.key]
            risk = float(risks[i])
            drivers: list[str] = []
            if self.model is not None and risk > self.threshold and not rule_flagged(fs):
                drivers = self.model.drivers(X.iloc[i], top=top_drivers)
            out[form.key] = Assessment(fs, decide(form, fs, risk, self.threshold, drivers))
        return out


def assess_batch(forms: list[Form], model_dir: Path | None = None) -> dict[str, Assessment]:
    """Run every check (single-form and cross-form) and the model over a batch; keyed by ``form.key``.

    ``model_dir`` defaults to models/default; when no model is there the decision falls back to the
    rules alone (logged), so a batch always runs.
    """
    return Scorer(model_dir).assess(forms)


__all__ = ["Assessment", "Scorer", "assess_batch"]
