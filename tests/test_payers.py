"""Settling a payer's name and address over its forms (normalize/payers.py), and keeping the settlement."""

from __future__ import annotations

import random
import sqlite3

import pytest
from formfactory import corporate_number, make_form

from taxcheck.normalize.payers import settle_payers
from taxcheck.records import form_from_dict, form_to_dict

ADDRESS = "東京都新宿区西新宿5-25-11 第一ビル6階"


def _forms(readings, number=None, confidences=None):
    number = number or corporate_number(random.Random(3))
    confidences = confidences or [0.9] * len(readings)
    forms = []
    for k, (address, conf) in enumerate(zip(readings, confidences), start=1):
        f = make_form({"payer_number": number, "payer_address": address, "payer_name": "株式会社大泉食品"}, key=k)
        f.fields["payer_address"].confidence = conf
        forms.append(f)
    return forms


def test_a_misreading_takes_the_reading_most_forms_share_and_keeps_its_own():
    forms = _forms([ADDRESS, "東京都新宿区西新宿5-2】-11 第一ビル6階", ADDRESS], confidences=[0.7, 0.4, 0.95])
    out = settle_payers(forms)
    fv = out[1].fields["payer_address"]
    assert fv.value == ADDRESS and fv.as_read == "東京都新宿区西新宿5-2】-11 第一ビル6階"
    assert fv.confidence == 0.95 and fv.as_read_confidence == 0.4  # the surest form that read it
    assert out[0] is forms[0] and out[2] is forms[2]  # agreeing forms are untouched
    assert fv.raw == forms[1].fields["payer_address"].raw  # what the pixels said stays traceable


def test_a_reading_far_from_the_settled_one_is_another_office_and_stays():
    other = "大阪府大阪市北区梅田1-1-3"
    out = settle_payers(_forms([ADDRESS, ADDRESS, other]))
    assert out[2].fields["payer_address"].value == other and out[2].fields["payer_address"].as_read is None


def test_between_two_single_readings_the_surer_wins_and_a_full_tie_settles_nothing():
    slip = "東京都新宿区西新宿5-25-11第一ビル6階"
    out = settle_payers(_forms([ADDRESS, slip], confidences=[0.9, 0.5]))
    assert [f.value("payer_address") for f in out] == [ADDRESS, ADDRESS]
    tied = _forms([ADDRESS, slip], confidences=[0.9, 0.9])
    assert settle_payers(tied) == tied


def test_forms_that_each_misread_another_character_vote_the_printed_text_back():
    slips = ["東京都新宿区西新宿5-25-1l 第一ビル6階", "東京都新宿区西新宿5-2】-11 第一ビル6階", "東京都新宿区西新宿5-25-11 第ービル6階"]
    out = settle_payers(_forms(slips, confidences=[0.8, 0.7, 0.9]))
    assert [f.value("payer_address") for f in out] == [ADDRESS] * 3  # a text no form read whole
    assert [f.fields["payer_address"].as_read for f in out] == slips
    assert out[0].fields["payer_address"].confidence == pytest.approx(0.8)  # the forms' mean


def test_one_sure_reading_outvotes_two_garbled_ones_and_an_unsure_far_reading_is_settled():
    garbled = "東京都新宿区西新宿5-25-11 第一ビル6中"
    out = settle_payers(_forms([garbled, ADDRESS, garbled], confidences=[0.52, 0.99, 0.52]))
    assert [f.value("payer_address") for f in out] == [ADDRESS] * 3
    unsure = "東京者新ぐ5-2S 弟"  # too unlike to be a slip, read too unsurely to be another office
    out = settle_payers(_forms([ADDRESS, ADDRESS, unsure], confidences=[0.9, 0.9, 0.3]))
    assert out[2].fields["payer_address"].value == ADDRESS and out[2].fields["payer_address"].as_read == unsure


def test_the_page_pass_readings_vote_on_characters_only():
    # seed 9002's 山本工務店: the box re-read 浩 at 0.71 on one form and 洗 at 0.74 on the other; the page pass read
    # the boxes 浩 (with its own spaces between words) and 活
    name, slip = "山本工務店 山本 浩", "山本工務店 山本 洗"
    forms = _forms([ADDRESS, ADDRESS], confidences=[0.9, 0.9])
    for f, own, conf, page in zip(forms, [name, slip], [0.71, 0.74], ["山本 工務 店 山本 浩", "山本工務店 山本 活"]):
        f.fields["payer_name"].value, f.fields["payer_name"].confidence, f.fields["payer_name"].page_read = own, conf, page
    assert [f.value("payer_name") for f in settle_payers(forms)] == [name, name]
    for f in forms:
        f.fields["payer_name"].page_read = None
    assert [f.value("payer_name") for f in settle_payers(forms)] == [slip, slip]  # without them the surer wins


def test_a_page_reading_cut_short_or_with_a_stray_mark_removes_and_adds_nothing():
    lost = "東京都新宿区西新宿5-25-11 第ビル6階"  # 第一 read 第 on one form, as sure as the other
    forms = _forms([ADDRESS, lost], confidences=[0.7, 0.7001])
    forms[0].fields["payer_address"].page_read = "東京都新宿区西新宿5-25-11 第一ビル"  # cut at the box's edge
    forms[1].fields["payer_address"].page_read = "東京都新宿区 西新宿5-25-11 第一ビル6階"
    assert [f.value("payer_address") for f in settle_payers(forms)] == [ADDRESS, ADDRESS]
    forms = _forms([ADDRESS, ADDRESS], confidences=[0.3, 0.3])
    for f in forms:
        f.fields["payer_address"].page_read = "ノ東京都新宿区西新宿5-25-1 第一ビル6階"
    assert settle_payers(forms) == forms  # a mark only the page pass saw, a digit only it lost: nothing changes


def test_a_text_layer_is_what_the_payer_typed_and_wins_over_any_number_of_scans():
    # two scans misread a slashed zero alike (4-19-12); the born-digital form's text layer says 4-10-12
    slip, typed = "東京都中野区中野4-19-12", "東京都中野区中野4-10-12"
    forms = _forms([slip, typed, slip], confidences=[0.9, 0.99, 0.9])
    forms[1].fields["payer_address"].source = "text_layer"
    out = settle_payers(forms)
    assert [f.value("payer_address") for f in out] == [typed] * 3 and out[1] is forms[1]
    # two text layers that differ are two offices of one payer: nothing is settled, nothing typed is replaced
    other = _forms([typed, "東京都中野区中野4-10-14", typed], confidences=[0.99, 0.99, 0.5])
    for f in other[:2]:
        f.fields["payer_address"].source = "text_layer"
    assert settle_payers(other) == other


def test_a_zero_one_form_saw_stands_against_forms_that_read_it_as_6_or_9():
    # seed 9002's 荻窪1-16-10: the 2-up and fax scans read the slashed zero as 9 at 0.87, the 300 dpi scan's glyph
    # check saw the zero (at the 0.46 a shape fix leaves)
    printed, slip = "東京都杉並区荻窪1-16-10 第一ビル9階", "東京都杉並区荻窪1-16-19 第一ビル9階"
    out = settle_payers(_forms([slip, slip, printed, slip], confidences=[0.87, 0.86, 0.46, 0.87]))
    assert [f.value("payer_address") for f in out] == [printed] * 4
    # as sure as the surest form that read it but for the zero (the rule broke no address in six batches)
    assert out[0].fields["payer_address"].confidence == 0.87
    full = settle_payers(_forms(["東京都新宿区西新宿５-２５-１９", "東京都新宿区西新宿５-２５-１０"] * 2,
                                confidences=[0.9, 0.6] * 2))
    assert {f.value("payer_address") for f in full} == {"東京都新宿区西新宿５-２５-１０"}
    # a 0 among other differences is one garbled reading: the vote decides
    garbled = "東京都杉並区荻窪1-16-10 第ービル9階"
    out = settle_payers(_forms([slip, slip, garbled], confidences=[0.87, 0.87, 0.46]))
    assert [f.value("payer_address") for f in out] == [slip] * 3
    # and a 6 or 9 one form read where the others read 0 is outvoted as ever
    out = settle_payers(_forms([printed, printed, slip], confidences=[0.6, 0.6, 0.95]))
    assert [f.value("payer_address") for f in out] == [printed] * 3


def test_forms_group_only_by_a_payer_number_that_passes_its_check_digit():
    number = corporate_number(random.Random(4))
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    forms = _forms([ADDRESS, ADDRESS, "東京都新宿区西新宿5-25-1l 第一ビル6階"], number=wrong)
    assert settle_payers(forms) == forms


def test_settling_again_starts_from_the_forms_own_readings():
    slip = "東京都新宿区西新宿5-25-11 第ービル6階"
    once = settle_payers(_forms([ADDRESS, slip, ADDRESS]))
    assert settle_payers(once) == once  # a rerun changes nothing
    alone = settle_payers(once[1:2])[0].fields["payer_address"]  # its payer's other forms gone: its own reading
    assert (alone.value, alone.as_read, alone.confidence) == (slip, None, 0.9)
    # a later file brings two more forms that read the slip's way (it was printed so): the slip form is undone
    more = once + _forms([slip, slip], number=once[0].value("payer_number"))
    again = settle_payers(more)
    assert [f.value("payer_address") for f in again] == [slip] * 5
    assert again[1].fields["payer_address"].as_read is None and again[1].fields["payer_address"].confidence == 0.9


def test_a_settled_value_survives_the_jsonl_and_the_store(tmp_path):
    from taxcheck.store import begin_run, forms_for_run, open_store, save_document

    forms = _forms([ADDRESS, "東京都新宿区西新宿5-25-1l 第一ビル6階", ADDRESS])
    forms[1].fields["payer_address"].page_read = "東京都新宿区西新宿5-25-11 第一ビル6階"
    settled = settle_payers(forms)
    assert settled[1].fields["payer_address"].page_read == "東京都新宿区西新宿5-25-11 第一ビル6階"
    assert form_from_dict(form_to_dict(settled[1])) == settled[1]
    assert "as_read" not in form_to_dict(settled[0])["fields"]["payer_address"]  # only where settled
    store = open_store(f"sqlite:///{tmp_path / 'taxcheck.db'}")
    run = begin_run(store, label="night")
    rows = [dict(form_to_dict(f), findings=[], risk=0.1, flagged=False, reasons=[], drivers=[], crops={}) for f in settled]
    save_document(store, sha256="c" * 64, source="doc.pdf", status="done", run_id=run, form_rows=rows, pages=1)
    assert [form_from_dict(r) for r in forms_for_run(store)] == settled
    store.close()


def test_a_store_made_before_settling_and_page_reads_existed_gains_the_columns(tmp_path):
    from taxcheck.store import open_store

    path = tmp_path / "taxcheck.db"
    open_store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as con:  # last winter's store: field_values without the three columns
        con.execute("ALTER TABLE field_values DROP COLUMN as_read")
        con.execute("ALTER TABLE field_values DROP COLUMN as_read_confidence")
        con.execute("ALTER TABLE field_values DROP COLUMN page_read")
    open_store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as con:
        columns = {row[1] for row in con.execute("PRAGMA table_info(field_values)")}
    assert {"as_read", "as_read_confidence", "page_read"} <= columns


@pytest.mark.parametrize("column", ["payer_name", "payer_address"])
def test_the_classifier_sees_which_payer_values_were_settled(column):
    from taxcheck.classify.features import batch_features

    forms = _forms([ADDRESS, ADDRESS, "東京都新宿区西新宿5-25-1l 第一ビル6階"])
    forms[2].fields["payer_name"].value = "株式会社大泉食晶"
    X = batch_features(settle_payers(forms), {})
    assert X[f"{column}_settled"].tolist() == [0.0, 0.0, 1.0]


def test_the_batch_step_stores_the_settled_values(tmp_path):
    from taxcheck.pipeline import apply_batch_checks
    from taxcheck.store import begin_run, forms_for_run, open_store, save_document

    forms = _forms([ADDRESS, "東京都新宿区西新宿5-25-1l 第一ビル6階", ADDRESS])
    store = open_store(f"sqlite:///{tmp_path / 'taxcheck.db'}")
    run = begin_run(store, label="night")
    for i, f in enumerate(forms):  # one file per form, as the workers store them
        row = dict(form_to_dict(f), findings=[], risk=0.1, flagged=False, reasons=[], drivers=[], crops={})
        save_document(store, sha256=str(i) * 64, source=f.source, status="done", run_id=run, form_rows=[row], pages=1)
    apply_batch_checks(store, [str(i) * 64 for i in range(3)])
    stored = {r["key"]: form_from_dict(r) for r in forms_for_run(store)}
    assert [stored[f.key].value("payer_address") for f in forms] == [ADDRESS] * 3
    assert stored[forms[1].key].fields["payer_address"].as_read == "東京都新宿区西新宿5-25-1l 第一ビル6階"
    store.close()
