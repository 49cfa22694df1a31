"""Realistic sample 給与支払報告書 documents with ground truth (``taxcheck samples``).

``generate(out, n, seed)`` writes documents in every rendering variant plus broken files, and
``truth.json`` describing what each form prints, its injected errors and legitimate oddities.
"""

from __future__ import annotations

from taxcheck.samples.generate import GENERATOR_VERSION, generate

__all__ = ["GENERATOR_VERSION", "generate"]
