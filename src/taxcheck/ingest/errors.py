"""Why a file could not be read: stable codes and the sentence a clerk reads in quarantine.csv."""

from __future__ import annotations

QUARANTINE_REASONS: dict[str, str] = {
    "empty_file": "ファイルが空です（0バイト）。提出元に再送を依頼してください。",
    "truncated_pdf": "PDFファイルが途中で切れているか壊れているため開けません。提出元に再送を依頼してください。",
    "encrypted_pdf": "PDFにパスワードが設定されているため開けません。パスワードなしの版を提出元に依頼してください。",
    "not_an_image": "画像ファイルとして読み込めません（拡張子と中身が一致しないか、ファイルが壊れています）。",
    "truncated_image": "画像ファイルが途中で切れているため読み込めません。提出元に再送を依頼してください。",
    "unsupported_type": "対応していないファイル形式です（PDF・TIFF・PNG・JPEGのみ処理できます）。",
    "no_pages": "ページが1枚も含まれていません。",
    "no_form_found": "給与支払報告書（個人別明細書）が見つかりませんでした。書類の種類と向きを確認してください。",
    "read_error": "ファイルの読み込み中に予期しないエラーが発生しました。担当者に連絡してください。",
}


class IngestError(Exception):
    """A file could not be turned into pages; ``code`` is a key of QUARANTINE_REASONS."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail

    @property
    def reason(self) -> str:
        return QUARANTINE_REASONS.get(self.code, QUARANTINE_REASONS["read_error"])
