"""The classifier: fit/predict contract, features, decisions, training, and safe persistence."""

from __future__ import annotations

import json

import numpy as np
import pytest
from formfactory import labelled_set, make_form
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from taxcheck.classify import Scorer
from taxcheck.classify.decide import LOW_CONFIDENCE, decide
from taxcheck.classify.features import FEATURE_NAMES, batch_features
from taxcheck.classify.model import FlagModel, ModelIntegrityError, load_model
from taxcheck.classify.train import choose_threshold, load_run, train_model
from taxcheck.records import Finding, form_to_dict
from taxcheck.rules.checks import check_batch


FAST = {"max_iter": 40, "max_leaf_nodes": 7}  # small trees keep the test set fast; figures live in bench/


class Untrusted:
    """A type no model file of ours should hold."""

    def __init__(self):
        self.payload = "anything"


def write_run(folder, n, seed):
    """A run folder as the pipeline and the generator leave it: forms.jsonl + truth.json."""
    forms, truth = labelled_set(n, seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "forms.jsonl", "w", encoding="utf-8") as fh:
        for f in forms:
            fh.write(json.dumps(form_to_dict(f), ensure_ascii=False) + "\n")
    (folder / "truth.json").write_text(json.dumps({"forms": truth}, ensure_ascii=False), encoding="utf-8")
    return forms, truth


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    write_run(root / "run_a", 300, seed=11)
    write_run(root / "run_b", 300, seed=12)
    out = root / "model"
    meta = train_model([root / "run_a", root / "run_b"], out, target_recall=0.95, params=FAST)
    return root, out, meta


def test_features_have_a_fixed_shape():
    forms, _ = labelled_set(30, seed=1)
    X = batch_features(forms, check_batch(forms))
    assert list(X.columns) == list(FEATURE_NAMES) and X.shape == (30, len(FEATURE_NAMES))
    assert list(X.index) == [f.key for f in forms]
    # a form whose tax box is wrong carries the check's residual, scaled by the amount
    findings = check_batch(forms)
    taxed = [f for f in forms if any(x.code == "tax_mismatch" for x in findings[f.key])]
    clean = [f for f in forms if not findings[f.key]]
    assert taxed and clean
    for f in taxed:
        hit = next(x for x in findings[f.key] if x.code == "tax_mismatch")
        assert X.loc[f.key, "fired_tax_mismatch"] == 1
        assert X.loc[f.key, "resid_tax_mismatch"] == pytest.approx(min(abs(hit.residual), 10.0))
    assert (X.loc[[f.key for f in clean], "n_findings"] == 0).all()
    # a low-confidence box shows in the confidence features
    low = min(forms, key=lambda f: min(v.confidence for v in f.fields.values()))
    assert X.loc[low.key, "conf_min"] == pytest.approx(min(v.confidence for v in low.fields.values() if not v.blank))


def test_fit_predict_contract():
    forms, truth = labelled_set(240, seed=5)
    X = batch_features(forms, check_batch(forms))
    y = np.array([t["needs_correction"] or t["fields"] != {k: (v.value or "") for k, v in f.fields.items()}
                  for f, t in zip(forms, truth)], dtype=int)
    model = FlagModel(**FAST)
    assert model.get_params()["max_iter"] == 40 and not hasattr(model, "calibrated_")
    with pytest.raises(NotFittedError):
        model.predict_proba(X)
    assert model.fit(X, y) is model
    p = model.predict_proba(X)
    assert p.shape == (240, 2) and np.allclose(p.sum(axis=1), 1) and ((p >= 0) & (p <= 1)).all()
    assert set(model.predict(X)) <= {0, 1}
    assert clone(model).get_params() == model.get_params()
    # the model learns something: positives rank above negatives
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, model.risk(X)) > 0.8
    with pytest.raises(ValueError):
        FlagModel().fit(X, np.zeros(len(y)))


def test_choose_threshold_meets_the_target():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    risk = np.clip(y * 0.5 + rng.random(500) * 0.6, 0, 1)
    always = rng.random(500) < 0.1
    for target in (0.9, 0.99, 1.0):
        t = choose_threshold(risk, y, always, target)
        caught = (always | (risk > t))[y == 1].mean()
        assert caught >= target
        # the largest such threshold: one step up misses too many
        higher = np.unique(risk[risk > t])
        if len(higher):
            assert (always | (risk > higher[0]))[y == 1].mean() < target or higher[0] >= risk.max()


def test_decide_rules_model_and_low_confidence():
    form = make_form({"recipient_name": "山田 太郎", "payment_amount": "5000000"})
    form.fields["recipient_name"].confidence = LOW_CONFIDENCE - 0.1
    always = Finding("my_number_check_digit", "recipient_my_number", "box", "****0258", None, "msg", always_error=True)
    soft = Finding("tax_mismatch", "withholding_tax", "box", "1", "2", "msg")
    d = decide(form, [always], risk=0.01, threshold=0.5)
    assert d.flagged and d.reasons[0] == "my_number_check_digit" and "model" not in d.reasons
    assert "low_confidence:recipient_name" in d.reasons
    d = decide(form, [soft], risk=0.2, threshold=0.5)
    assert not d.flagged and "tax_mismatch" in d.reasons
    d = decide(form, [], risk=0.9, threshold=0.5, drivers=["conf_min=0.5"])
    assert d.flagged and "model" in d.reasons and d.drivers == ["conf_min=0.5"]


def test_training_writes_model_and_metadata(trained):
    root, out, meta = trained
    saved = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert saved["threshold"] == meta["threshold"] and saved["features"] == list(FEATURE_NAMES)
    for key in ("fingerprint", "runs"):
        assert key in saved["training_data"]
    assert {"scikit-learn", "skops", "numpy"} <= set(saved["libraries"])
    v = saved["validation"]
    assert v["at_threshold"]["recall"] >= 0.95 and v["n_forms"] == 600
    assert v["roc_auc"] > 0.8


def test_saved_model_reloads_and_scores_identically(trained, tmp_path):
    root, out, meta = trained
    model, meta2 = load_model(out)
    assert meta2["model_sha256"] == meta["model_sha256"]
    batch = load_run(root / "run_b")
    again, _ = load_model(out)
    assert np.array_equal(model.risk(batch.X), again.risk(batch.X))
    # a model trained the same way on the same data scores the same (deterministic)
    retrained = train_model([root / "run_a", root / "run_b"], tmp_path / "m2", target_recall=0.95, params=FAST)
    m2, _ = load_model(tmp_path / "m2")
    assert retrained["threshold"] == meta["threshold"]
    assert np.allclose(m2.risk(batch.X), model.risk(batch.X))


def test_scorer_flags_what_the_model_or_rules_say(trained):
    root, out, meta = trained
    batch = load_run(root / "run_b")
    result = Scorer(out, require_model=True).assess(batch.forms)
    flagged = np.array([result[f.key].decision.flagged for f in batch.forms])
    assert flagged[batch.always].all()
    assert flagged[batch.y == 1].mean() >= 0.9  # seen data: near the target
    assert flagged.mean() < 0.8
    model_only = [a.decision for a in result.values() if "model" in a.decision.reasons]
    assert all(d.drivers for d in model_only)


def test_tampered_model_is_refused(trained, tmp_path):
    root, out, meta = trained
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    data = bytearray((bad / "model.skops").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (bad / "model.skops").write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError):
        load_model(bad)
    # a file swapped together with its recorded digest but holding an untrusted type is refused too
    import skops.io as sio

    evil = tmp_path / "evil"
    shutil.copytree(out, evil)
    sio.dump(Untrusted(), evil / "model.skops")
    m = json.loads((evil / "metadata.json").read_text())
    from taxcheck.classify.model import sha256_of

    m["model_sha256"] = sha256_of(evil / "model.skops")
    (evil / "metadata.json").write_text(json.dumps(m))
    with pytest.raises(ModelIntegrityError):
        load_model(evil)


def test_missing_model_falls_back_to_rules(tmp_path):
    forms, _ = labelled_set(20, seed=2)
    result = Scorer(tmp_path / "none").assess(forms)
    findings = check_batch(forms)
    for f in forms:
        has_error = any(x.severity == "error" for x in findings[f.key])
        assert result[f.key].decision.flagged == has_error
    with pytest.raises(FileNotFoundError):
        Scorer(tmp_path / "none", require_model=True)


def test_review_codes_flag_without_the_model():
    from taxcheck.classify.decide import REVIEW_CODES

    form = make_form({"recipient_name": "山田 太郎"})
    code = sorted(REVIEW_CODES)[0]
    review = Finding(code, "remarks", "摘要", None, "前職分の記載", "msg", severity="warning")
    d = decide(form, [review], risk=0.0, threshold=0.5)
    assert d.flagged and d.reasons == [code] and not d.drivers
