"""Prefect settings shared by the flow scripts, set before Prefect is imported (it reads them at import).

A project-local PREFECT_HOME and quiet logs (warnings and errors only, no analytics, nothing persisted),
unless the operator set them: every variable here is only a default.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DEFAULTS = {
    "PREFECT_HOME": str(ROOT / ".prefect"),
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_INTERNAL_LEVEL": "ERROR",
    "PREFECT_SERVER_LOGGING_LEVEL": "ERROR",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",  # the first start migrates its database
    "OMP_THREAD_LIMIT": "1",  # Tesseract: one thread per task, the tasks are the parallelism
}


def set_defaults() -> None:
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
