"""The flagging classifier: gradient-boosted trees on the form features, calibrated, with a threshold.

scikit-learn manners (``__init__`` only stores, ``fit`` returns self, learned state ends in ``_``), so
that it cross-validates, clones and persists like any estimator. ``predict_proba`` is calibrated
(isotonic by default, CalibratedClassifierCV) because the risk column is read as a probability and the
threshold is chosen on it for a target recall. Blank boxes (NaN features) become a sentinel value the trees split on.

Persistence uses skops (no pickle): a model folder holds ``model.skops`` and ``metadata.json``; loading
refuses a file whose sha256 differs from the one recorded when we wrote it, and refuses any type
outside ``TRUSTED_TYPES``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[3] / "models" / "default"

# Types a model file may contain beyond skops' defaults; anything else is refused on load.
TRUSTED_TYPES: tuple[str, ...] = (
    "taxcheck.classify.model.FlagModel",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.model_selection._split.StratifiedKFold",
)


# One OpenMP thread: on the shared 2-core box, HistGradientBoosting's spin-waiting threads ran 20x slower
# under load than a single thread does.
OPENMP_THREADS = 1
MISSING = -999.0  # stands for a blank box (NaN): an all-blank column trips HistGradientBoosting's binner


class ModelIntegrityError(RuntimeError):
    """A model file was changed after we wrote it, or holds types we do not trust."""


class FlagModel(ClassifierMixin, BaseEstimator):
    """Calibrated gradient boosting over :data:`taxcheck.classify.features.FEATURE_NAMES`.

    ``threshold`` is the policy (risk above it flags the form); training sets it from held-out data.
    Calibration is sigmoid (Platt) by default: isotonic calibration is a step function, and at a 99 % recall
    target the threshold fell on its lowest step, where positives and most negatives tie (trained on the
    same 694 forms and scored on the seed-9001 run: flag rate 94.9 % isotonic, 84.3 % sigmoid, both at 100 %
    recall; Brier 0.066 and 0.067).
    """

    def __init__(self, threshold: float = 0.5, method: str = "sigmoid", cv: int = 3, max_iter: int = 200,
                 learning_rate: float = 0.08, max_leaf_nodes: int = 15, l2_regularization: float = 1.0,
                 random_state: int = 0):
        self.threshold = threshold
        self.method = method
        self.cv = cv
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.l2_regularization = l2_regularization
        self.random_state = random_state

    def _base(self) -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes,
            l2_regularization=self.l2_regularization,
            random_state=self.random_state,
        )

    def fit(self, X, y) -> FlagModel:
        X = self._as_frame(X, fitting=True)
        y = np.asarray(y).astype(int)
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            raise ValueError("FlagModel needs both classes (forms needing correction and clean ones) to fit")
        folds = min(self.cv, int(np.bincount(y).min()))
        if folds < 2:
            raise ValueError("too few examples of the minority class to calibrate")
        method = self.method if len(y) >= 200 else "sigmoid"  # isotonic, if asked for, over-fits tiny sets
        cv = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
        with threadpool_limits(limits=OPENMP_THREADS, user_api="openmp"):
            self.calibrated_ = CalibratedClassifierCV(self._base(), method=method, cv=cv).fit(X.to_numpy(), y)
        self.baseline_ = X[y == 0].median().fillna(0.0).to_numpy()
        self.n_features_in_ = X.shape[1]
        return self

    def _as_frame(self, X, fitting: bool = False) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            if fitting:
                self.feature_names_ = [str(c) for c in X.columns]
            elif hasattr(self, "feature_names_"):
                X = X.reindex(columns=self.feature_names_)
            return X.astype(float).fillna(MISSING)
        X = pd.DataFrame(np.asarray(X, dtype=float))
        if fitting:
            self.feature_names_ = [str(c) for c in X.columns]
        else:
            X.columns = self.feature_names_
        return X.fillna(MISSING)

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "calibrated_")
        with threadpool_limits(limits=OPENMP_THREADS, user_api="openmp"):
            return self.calibrated_.predict_proba(self._as_frame(X).to_numpy())

    def risk(self, X) -> np.ndarray:
        """Calibrated probability that each form needs correction."""
        return self.predict_proba(X)[:, 1]

    def predict(self, X) -> np.ndarray:
        return (self.risk(X) > self.threshold).astype(int)

    def drivers(self, x: pd.Series | np.ndarray, top: int = 3) -> list[str]:
        """The features that most raise this form's risk: each is set back to a clean form's median in
        turn and the drop in risk measured (occlusion, one batched call). A Series is matched to the model's
        features by name (a batch may carry features added after the model was trained)."""
        check_is_fitted(self, "calibrated_")
        if isinstance(x, pd.Series):
            x = x.reindex(self.feature_names_)
        row = np.nan_to_num(np.asarray(x, dtype=float).reshape(1, -1), nan=MISSING)
        base = self.predict_proba(row)[0, 1]
        changed = np.where(row[0] != self.baseline_)[0]
        if len(changed) == 0:
            return []
        probes = np.repeat(row, len(changed), axis=0)
        probes[np.arange(len(changed)), changed] = self.baseline_[changed]
        drops = base - self.predict_proba(probes)[:, 1]
        order = np.argsort(-drops)[:top]
        return [f"{self.feature_names_[changed[i]]}={row[0, changed[i]]:.3g}" for i in order if drops[i] > 0]


# ---------------------------------------------------------------------------------------------- persistence


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_model(model: FlagModel, out: Path, metadata: dict[str, Any]) -> dict[str, Any]:
    """Write ``model.skops`` and ``metadata.json`` (with the file's sha256) into folder ``out``."""
    import skops.io as sio

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (MODEL_FILE + ".tmp")
    sio.dump(model, tmp)
    os.replace(tmp, out / MODEL_FILE)
    meta = dict(metadata)
    meta["model_file"] = MODEL_FILE
    meta["model_sha256"] = sha256_of(out / MODEL_FILE)
    tmp_meta = out / (METADATA_FILE + ".tmp")
    tmp_meta.write_text(json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp_meta, out / METADATA_FILE)
    return meta


def load_model(model_dir: Path | None = None) -> tuple[FlagModel, dict[str, Any]]:
    """Load a model folder written by :func:`save_model`, refusing a tampered or untrusted file."""
    import skops.io as sio

    model_dir = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
    meta_path, model_path = model_dir / METADATA_FILE, model_dir / MODEL_FILE
    if not meta_path.is_file() or not model_path.is_file():
        raise FileNotFoundError(f"no model in {model_dir} (need {MODEL_FILE} and {METADATA_FILE})")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    digest = sha256_of(model_path)
    if digest != meta.get("model_sha256"):
        raise ModelIntegrityError(f"{model_path} does not match the sha256 recorded in {meta_path}: refusing to load it")
    untrusted = sio.get_untrusted_types(file=model_path)
    unknown = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if unknown:
        raise ModelIntegrityError(f"{model_path} holds types outside the trusted list: {unknown}")
    model = sio.load(model_path, trusted=untrusted)
    if not isinstance(model, FlagModel):
        raise ModelIntegrityError(f"{model_path} does not hold a FlagModel")
    return model, meta
