"""taxcheck: checks resident-tax paperwork (給与支払報告書・確定申告書) in a nightly batch.

Stages, one package each: ingest → ocr → layout → extract → normalize → rules → classify → report.
Typed records passed between them live in :mod:`taxcheck.records`.
"""

__version__ = "0.1.0"
