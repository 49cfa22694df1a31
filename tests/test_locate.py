"""Finding forms on a page from the words the page pass read (no OCR: words placed where the template prints)."""

from __future__ import annotations

import cv2
import numpy as np

from taxcheck.layout.lines import group_lines
from taxcheck.layout.locate import label_points, locate_forms, year_in_box
from taxcheck.layout.snap import fit_frame, line_masks
from taxcheck.layout.template import load_layout
from taxcheck.records import BBox, Word

DPI = 200.0
PX = DPI / 25.4
OFFSET = (120.0, 90.0)  # the form's top-left on the page, px


def _words(text: str, points: list[tuple[float, float]], em_mm: float) -> list[Word]:
    half = em_mm * PX / 2
    return [Word(ch, 90.0, BBox(OFFSET[0] + x * PX - half, OFFSET[1] + y * PX - half,
                                OFFSET[0] + x * PX + half, OFFSET[1] + y * PX + half))
            for ch, (x, y) in zip(text, points)]


def _garbled(label: str) -> str:
    """``label`` as a blurred scan reads it: two of every five characters right, the rest other characters."""
    return "".join(ch if k % 5 in (0, 2) else "■" for k, ch in enumerate(label))


def _page(title: str, anchors: int, year: str = "令和7年分", read=lambda label: label) -> list[Word]:
    """The words of a 令和7年分 form: its title read as ``title`` (the year as ``year``) and the first ``anchors``
    anchor labels, each read as ``read`` gives it."""
    version = load_layout().for_year(2025)
    em = version.title_pt * 25.4 / 72
    pts = label_points(version.title_rect, version.title_text, version.title_pt)
    x0, y = pts[0]
    words = _words(year, [(x0 - em * (6 - k), y) for k in range(len(year))], em)
    # a garbled title keeps its last characters in place: the read text is laid over the printed one from its end
    words += _words(title, pts[len(pts) - len(title):], em)
    for lab in [a for a in version.anchors if a.text != version.title_text][:anchors]:
        pts = label_points(lab.rect, lab.text, lab.pt, lab.vertical, lab.align)
        words += _words(read(lab.text), pts, lab.pt * 25.4 / 72)
    return words


def test_a_form_is_found_by_its_title_and_the_labels_where_the_title_puts_them():
    forms = locate_forms(group_lines(_page("給与支払報告書（個人別明細書）", anchors=8)), load_layout(), DPI)
    assert len(forms) == 1 and forms[0].tax_year == 2025 and forms[0].anchors_found >= 3


def test_a_title_whose_first_word_a_fax_garbled_still_finds_the_form():
    # a fax's 給与支払報告書 read 入境: (個人別明細書) is 8 of the title's 15 characters
    forms = locate_forms(group_lines(_page("入境（個人別明細書）", anchors=8)), load_layout(), DPI)
    assert len(forms) == 1 and forms[0].tax_year == 2025


def test_a_title_with_no_labels_around_it_is_no_form():
    # a cover letter naming the form: the title, and none of the form's labels where it puts them
    assert locate_forms(group_lines(_page("給与支払報告書（個人別明細書）", anchors=0)), load_layout(), DPI) == []


def test_a_year_the_page_pass_lost_is_read_from_its_box():
    # a fax's 令和5年分 read 信和年 on the title's line; read on its own, the box gave 人ム和5年
    lines = group_lines(_page("給与支払報告書（個人別明細書）", anchors=8, year="信和年"))
    asked = []

    def read_text(box: BBox) -> str:
        asked.append(box)
        return "人ム和5年"

    (form,) = locate_forms(lines, load_layout(), DPI, read_text=read_text)
    assert (form.tax_year, form.year_read) == (2023, True)
    x0, y0, x1, y1 = form.version.year_rect  # the box asked for is where the template prints the year
    assert len(asked) == 1
    assert abs(asked[0].x0 - (OFFSET[0] + x0 * PX)) < 2 and abs(asked[0].y1 - (OFFSET[1] + y1 * PX)) < 2
    (form,) = locate_forms(lines, load_layout(), DPI, read_text=lambda box: "人る条")
    assert (form.tax_year, form.year_read) == (None, False)  # nothing read: no year made up
    # a year of the other layout version (令和元年分: no 基礎控除 box) refits the form to that version
    (form,) = locate_forms(lines, load_layout(), DPI, read_text=lambda box: "令和元年分")
    assert (form.tax_year, form.version.name) == (2019, load_layout().for_year(2019).name)


def test_the_year_in_its_box():
    assert year_in_box("令和元年分") == 2019 and year_in_box("令和5年分") == 2023 and year_in_box("2021年分") == 2021
    assert year_in_box("ム和5年。") == 2023  # the era lost
    assert year_in_box("31年") == 2019  # 平成31年分
    assert year_in_box("人る条") is None and year_in_box("年") is None


def test_labels_read_poorly_under_a_title_read_whole_still_place_the_form():
    # a blurred 200 dpi JPEG in pale drop-out ink: the title reads whole, the labels only in part
    whole = "給与支払報告書（個人別明細書）"
    forms = locate_forms(group_lines(_page(whole, anchors=10, read=_garbled)), load_layout(), DPI)
    assert len(forms) == 1 and forms[0].anchors_found >= 5
    # a few such labels are not enough, nor are many under a title read only in part (a cover letter's
    # 給与支払報告書（総括表）の送付について matches 9 of the title's 15 characters)
    assert locate_forms(group_lines(_page(whole, anchors=3, read=_garbled)), load_layout(), DPI) == []
    cover = "給与支払報告書（総括表）"
    assert locate_forms(group_lines(_page(cover, anchors=10, read=_garbled)), load_layout(), DPI) == []


def _ruled_page(version) -> np.ndarray:
    """A page with nothing but ``version``'s ruled cells, printed where _page puts the form."""
    w, h = version.size_mm
    img = np.full((int(OFFSET[1] + h * PX) + 60, int(OFFSET[0] + w * PX) + 60), 255, np.uint8)
    for x0, y0, x1, y1 in version.cells:
        cv2.rectangle(img, (round(OFFSET[0] + x0 * PX), round(OFFSET[1] + y0 * PX)),
                      (round(OFFSET[0] + x1 * PX), round(OFFSET[1] + y1 * PX)), 0, 2)
    return img


def test_a_title_read_whole_over_illegible_labels_is_a_form_when_its_ruled_frame_is_where_it_says():
    # a blurred 200 dpi scan in pale drop-out ink: no label reads even in part, but the title does, and the form's
    # ruled frame lies where the title puts it (seed 9002: four such files were quarantined as holding no form)
    version = load_layout().for_year(2025)
    lines = group_lines(_page("給与支払報告書（個人別明細書）", anchors=0))
    masks = line_masks(_ruled_page(version), PX)
    (form,) = locate_forms(lines, load_layout(), DPI,
                           fit_frame=lambda v, init: fit_frame(masks, init, v.cells, v.size_mm))
    assert form.tax_year == 2025 and abs(form.scale - PX) < 0.01 * PX
    assert abs(form.matrix[0, 2] - OFFSET[0]) < 3 and abs(form.matrix[1, 2] - OFFSET[1]) < 3
    # …and not when the page has no such frame (a cover letter naming the form)
    blank = line_masks(np.full_like(_ruled_page(version), 255), PX)
    assert locate_forms(lines, load_layout(), DPI,
                        fit_frame=lambda v, init: fit_frame(blank, init, v.cells, v.size_mm)) == []
