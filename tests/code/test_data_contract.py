"""The data contract: every bad-input case names file, row, line and column, and fails."""

import logging

import pytest

from pipeline.data import load_sentences
from pipeline.files import InputError
from tests.conftest import sentence, write_rows


def test_valid_file_loads_with_all_columns(tmp_path):
    path = write_rows(tmp_path / "s.csv", [sentence(1, "support"), sentence(2, "reject")])
    frame = load_sentences(path)
    assert list(frame["label"]) == ["support", "reject"]
    assert list(frame.columns) == ["doc_id", "sentence_id", "text", "label", "target", "source"]


def test_exact_duplicates_are_dropped_and_counted(tmp_path, caplog):
    rows = [sentence(1, text="Talks resumed."), sentence(2, text="Talks  resumed."), sentence(3)]
    with caplog.at_level(logging.INFO):
        frame = load_sentences(write_rows(tmp_path / "s.csv", rows))
    assert list(frame["sentence_id"]) == ["s1", "s3"]
    assert "dropped 1 exact duplicate" in caplog.text


def test_missing_column_is_named(tmp_path):
    columns = ["doc_id", "sentence_id", "text", "target", "source"]
    path = write_rows(tmp_path / "s.csv", [sentence(1)], columns=columns)
    with pytest.raises(InputError, match=r"s\.csv: line 1: missing column\(s\) 'label'"):
        load_sentences(path)


def test_empty_text_names_row_line_and_column(tmp_path):
    path = write_rows(tmp_path / "s.csv", [sentence(1), sentence(2, text=" ")])
    # The text field of " " is stripped to empty; `sentence` only substitutes None.
    with pytest.raises(InputError, match=r"row 2 \(line 3\), column 'text': empty value"):
        load_sentences(path)


def test_unknown_label(tmp_path):
    path = write_rows(tmp_path / "s.csv", [sentence(1, "Support")])
    with pytest.raises(InputError, match=r"row 1 \(line 2\), column 'label': unknown label 'Support'"):
        load_sentences(path)


def test_duplicate_sentence_id(tmp_path):
    rows = [sentence(1), sentence(2)]
    rows[1]["sentence_id"] = "s1"
    expected = r"row 2 \(line 3\), column 'sentence_id': duplicate sentence_id 's1' \(first used in row 1\)"
    with pytest.raises(InputError, match=expected):
        load_sentences(write_rows(tmp_path / "s.csv", rows))


def test_same_text_with_two_labels(tmp_path):
    rows = [sentence(1, "support", text="Ankara backs the deal."),
            sentence(2, "reject", text="ankara backs the deal.")]
    expected = r"row 2 \(line 3\), column 'text': same text labelled 'reject' here and 'support' in row 1"
    with pytest.raises(InputError, match=expected):
        load_sentences(write_rows(tmp_path / "s.csv", rows))


def test_bad_target_slug(tmp_path):
    row = sentence(1)
    row["target"] = "Ankara Damascus"
    with pytest.raises(InputError, match=r"column 'target': 'Ankara Damascus' is not a slug"):
        load_sentences(write_rows(tmp_path / "s.csv", [row]))


def test_line_numbers_count_quoted_newlines(tmp_path):
    rows = [sentence(1, text="A sentence\nwrapped over two lines."), sentence(2, "nope")]
    with pytest.raises(InputError, match=r"row 2 \(line 4\), column 'label'"):
        load_sentences(write_rows(tmp_path / "s.csv", rows))


def test_wrong_number_of_fields(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("doc_id,sentence_id,text,label,target,source\na,s1,Hello there,neutral,t,src,extra\n")
    with pytest.raises(InputError, match=r"row 1 \(line 2\): expected 6 fields, found 7"):
        load_sentences(path)


def test_non_utf8_names_the_line(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes(b"doc_id,sentence_id,text,label,target,source\na,s1,Caf\xe9 talks,neutral,t,src\n")
    with pytest.raises(InputError, match=r"s\.csv: line 2: byte 0xe9 is not valid UTF-8"):
        load_sentences(path)


@pytest.mark.parametrize("content, message", [
    ("", "file is empty"), ("doc_id,sentence_id,text,label,target,source\n", "no data rows"),
])
def test_empty_inputs(tmp_path, content, message):
    path = tmp_path / "s.csv"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_sentences(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_sentences(tmp_path / "nope.csv")


def test_all_problems_are_reported_at_once(tmp_path):
    rows = [sentence(1, "bad"), sentence(2, text=" "), sentence(3, "worse")]
    with pytest.raises(InputError) as caught:
        load_sentences(write_rows(tmp_path / "s.csv", rows))
    assert "3 problem(s)" in str(caught.value)
    assert all(f"row {n} " in str(caught.value) for n in (1, 2, 3))
