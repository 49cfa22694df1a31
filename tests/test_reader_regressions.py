"""Regressions of issue #3 (other vendors' renderings): each test is named after the bug it pins.

The born-digital foreign-vendor PDF is drawn by the stress generator (reportlab, text layer) and
read end to end by the real reader (pdfplumber, no OCR), so the test is fast.
"""

from __future__ import annotations

import random

import pytest

from taxcheck.extract import read_document
from taxcheck.extract.labels import LabelFilter
from taxcheck.forms import salary_fields
from taxcheck.layout.template import load_layout
from taxcheck.normalize import normalize


@pytest.fixture(scope="module")
def labels() -> LabelFilter:
    return LabelFilter(lab.text for lab in load_layout().for_year(2024).labels)


def test_era_word_written_by_vendor_beats_the_era_mark():
    # was 1918 (明治51): the first ticked era box won over the vendor's 昭和 in the year box
    assert normalize("date", "明 昭和51年 3 22", tax_year=2024).value == "1976-03-22"
    assert normalize("date", "昭 55 4 12", tax_year=2024).value == "1980-04-12"


def test_moved_labels_are_not_values(labels):
    assert labels.remove_from("（摘要）") == ""
    assert labels.remove_from("年 月 日") == ""
    assert labels.remove_from("7247095892462 （右詰で記載してください。）") == "7247095892462"
    assert labels.remove_from("太田 令") == "太田 令"  # a one-letter given name is not the 令和 era mark


def test_remarks_keep_the_box_names_they_quote(labels):
    # was "控除可能額52,007円" and "363,618円": 摘要 quotes other boxes' names, which were stripped as stray labels
    for prose in ("住宅借入金等特別控除可能額52,007円", "前職分 支払金額363,618円 源泉徴収税額10,799円"):
        assert labels.remove_words(prose, "摘要") == prose
    moved = "（摘要） 控除対象扶養親族5 清水 凛"  # its own label, moved into the box
    assert labels.remove_words(moved, "摘要") == "控除対象扶養親族5 清水 凛"
    assert labels.remove_words("源泉徴収税額 摘要", "摘要") == ""  # labels standing alone are no content
    assert labels.remove_words("52,007 円", "摘要") == "52,007 円"  # a mark such as 円 is


def test_born_digital_remarks_quoting_box_names_read_whole(tmp_path):
    import io

    from taxcheck.samples.content import make_form, make_payer
    from taxcheck.samples.render import A4_PT, Ink, draw_form, new_canvas

    rng = random.Random(3)
    fc = make_form(rng, make_payer(rng, 2024), None)
    remarks = ("前職分 株式会社若葉ケアサービス 支払金額363,618円 源泉徴収税額10,799円 "
               "住宅借入金等特別控除可能額52,007円")
    fc.fields["remarks"] = remarks
    buf = io.BytesIO()
    c = new_canvas(buf)
    draw_form(c, fc, 20, A4_PT[1] - 20, 0.9, Ink())
    c.showPage()
    c.save()
    path = tmp_path / "remarks.pdf"
    path.write_bytes(buf.getvalue())
    got = read_document(path, tmp_path).forms[0].fields["remarks"].value
    assert got == remarks


def test_row_numbers_printed_on_the_form_are_not_stripped_from_counts(labels):
    # was "": the dependants' row numbers 1..4 are labels, and a count "1" was taken for one
    assert labels.remove_from("1") == "1"


def test_foreign_pdf_moved_labels_and_ticks(tmp_path):
    """Born-digital foreign layout: labels inside the official boxes were read as values and every tick box as ticked."""
    from taxcheck.samples import stress
    from taxcheck.samples.generate import make_forms

    rng = random.Random(7)
    forms = make_forms(rng, 1)[0][:1]
    data, container, _placed, _details = stress._render(random.Random(11), ["foreign_pdf"], forms)
    assert container == "pdf_text"
    path = tmp_path / "foreign.pdf"
    path.write_bytes(data)
    result = read_document(path, tmp_path)
    assert result.forms, "the foreign form was not found"
    truth = forms[0].truth()["fields"]
    got = result.forms[0].fields
    flags = [n for n, s in salary_fields().items() if s.type == "flag" and n in got and n in truth]
    assert flags
    ticked = sum(got[n].value == "1" for n in flags)
    assert ticked <= sum(truth[n] == "1" for n in flags) + 2, "labels' ink taken for ticks"
    for name in ("remarks", "hire_date", "retire_date", "income_adjustment"):
        if name in got:
            assert "摘要" not in got[name].value and "年" not in got[name].value and "控除" not in got[name].value, name


def test_grouped_my_number_with_a_neighbours_digits_keeps_the_valid_twelve():
    # was "12268931083833550" (17 digits): the grouped 個人番号 after stray digits
    n = normalize("my_number", "122689310 8383 3550")
    assert n.value == "931083833550" and not n.ok
    assert normalize("my_number", "9310 8383 3550").value == "931083833550"
    assert normalize("my_number", "9310 8383 3550").ok


@pytest.mark.parametrize("font", ["/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
                                  "/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf"])
def test_yen_suffix_is_not_read_as_a_digit(font):
    # was 11715289: the digits-only pass read the vendor's trailing 円 as a 9
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    from taxcheck.extract.crops import drop_yen_suffix
    from taxcheck.ocr import get_engine

    em = 31  # 11 pt at 200 dpi
    engine = get_engine()

    def read(text: str) -> str:
        im = Image.new("L", (16 * em, 2 * em), 255)
        ImageDraw.Draw(im).text((em // 4, em // 3), text, font=ImageFont.truetype(font, em), fill=0)
        img = drop_yen_suffix(np.array(im), em)
        return "".join(ch for w in engine.read_words(img, mode="digits") for ch in w.text if ch.isdigit())

    assert read("1,171,528円") == "1171528"
    assert read("480000") == "480000"  # no suffix: nothing dropped
    assert read("1,000,088") == "1000088"


def test_three_digits_a_fax_joined_are_not_taken_for_a_yen_suffix():
    # a 2-up fax's 社会保険料等の金額 311,046 as cut for OCR (generated bench set): the blur joined 046 into one run
    # a little taller than the 1s before it; whited out as a 円, the box read 311
    from pathlib import Path

    import numpy as np
    from PIL import Image

    from taxcheck.extract.crops import drop_yen_suffix
    from taxcheck.extract.reread import BoxRequest, read_boxes
    from taxcheck.ocr import get_engine
    from taxcheck.records import BBox

    img = np.asarray(Image.open(Path(__file__).parent / "data" / "amount_last_group_joined_fax_2up.png").convert("L"))
    em = 23.8
    assert np.array_equal(drop_yen_suffix(img, em), img)
    h, w = img.shape
    req = BoxRequest("a", BBox(4, em * 0.4, w - 4, h - em * 0.4), "digits", em)
    assert read_boxes(get_engine(), img, [req])["a"].text.replace(",", "").replace(" ", "") == "311046"
