"""Printed label texts that leak into a field's value, and how to take them out.

Other vendors move labels: a ``（摘要）``, ``年 月 日`` or ``(右詰で記載してください。)`` can sit inside the
official value box, and the small 千/円/内/人 marks touch the digits. The label texts are known from the
layout file, so a word (text layer) or a run of text (OCR) equal to a printed label is not a value.
"""

from __future__ import annotations

import re

from taxcheck.normalize.text import fold
from taxcheck.records import Word

# marks printed inside value boxes and date parts, and the era marks of the date boxes
SUB_LABELS = frozenset({"内", "千", "円", "人", "年", "月", "日", "有", "従人", "従有", "明", "大", "昭", "平", "令"})
MIN_STRIP_LEN = 3  # longer label texts are removed wherever they occur in a value


class LabelFilter:
    """Known label texts of one layout version (folded, without spaces)."""

    def __init__(self, label_texts) -> None:
        # printed row numbers (1 2 3 4 of the dependants' rows) look like values: never stripped
        texts = {_key(t) for t in label_texts if not _key(t).isdigit()} | set(SUB_LABELS)
        self.words = frozenset(t for t in texts if t)
        long = sorted((t for t in self.words if len(t) >= MIN_STRIP_LEN), key=len, reverse=True)
        self._long = re.compile("|".join(re.escape(t) for t in long)) if long else None

    def is_label(self, text: str) -> bool:
        return _key(text) in self.words

    def keep(self, words: list[Word], digits: bool = True) -> list[Word]:
        """Words that are not a printed label; in a text box a lone 令/年 may be part of a name, so only the
        longer labels are dropped there."""
        if digits:
            return [w for w in words if not self.is_label(w.text)]
        return [w for w in words if not (self.is_label(w.text) and _key(w.text) not in SUB_LABELS)]

    def remove_words(self, text: str, own: str) -> str:
        """``text`` of a free-text box (摘要) without the words that are whole printed labels (a vendor's
        labels moved into the box, the box's own （摘要）). Unlike :meth:`remove_from`, a label inside a word
        stays: 摘要 quotes other boxes' names (支払金額363,618円, 住宅借入金等特別控除可能額52,007円)."""
        def is_stray(tok: str) -> bool:
            key = _key(tok)
            return key.strip("（）()") == _key(own) or (key in self.words and key not in SUB_LABELS)

        return " ".join(tok for tok in fold(text).split(" ") if not is_stray(tok))

    def remove_from(self, text: str) -> str:
        """``text`` without the long label texts in it; a value made only of labels becomes ""."""
        s = fold(text)
        if self._long is not None:
            if self._long.search(s):
                s = fold(self._long.sub(" ", s))
            elif self._long.search(s.replace(" ", "")):
                s = fold(self._long.sub(" ", s.replace(" ", "")))
        if s and all(self.is_label(tok) for tok in s.split(" ")):
            return ""
        return s


def _key(text: str) -> str:
    return fold(text).replace(" ", "")
