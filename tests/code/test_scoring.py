"""Sentence splitting, scoring and the `stance` command."""

import gc
import json
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.scoring import OUTPUT_COLUMNS, load_model, split_sentences
from pipeline.stage import long_lived
from tests.conftest import CORPUS, sentence, write_rows

ARTICLE = """Turkish and Syrian envoys meet in Baghdad

BAGHDAD, Jan. 18 - Envoys from Turkey and Syria met on Thursday, Iraqi officials said. Mr. Bozkurt of the
Turkish Foreign Ministry said Ankara was ready to restore ties with Damascus.

A faction spokesman said the opposition would never reconcile with the government. The U.N. envoy attended.
"""


def run_cli(argv, capsys):
    try:
        main(argv)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def article(tmp_path):
    path = tmp_path / "article.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    return path


def test_split_sentences_keeps_abbreviations_headlines_and_hard_wraps():
    assert split_sentences(ARTICLE) == [
        "Turkish and Syrian envoys meet in Baghdad",
        "BAGHDAD, Jan. 18 - Envoys from Turkey and Syria met on Thursday, Iraqi officials said.",
        "Mr. Bozkurt of the Turkish Foreign Ministry said Ankara was ready to restore ties with Damascus.",
        "A faction spokesman said the opposition would never reconcile with the government.",
        "The U.N. envoy attended.",
    ]


def test_split_sentences_of_blank_text_is_empty():
    assert split_sentences(" \n\n \n") == []


def test_score_article_csv(article, model_file, capsys, tmp_path):
    summary_path = tmp_path / "summary.csv"
    code, out, _ = run_cli(["score", str(article), "--model", str(model_file), "--format", "csv",
                            "--summary", str(summary_path)], capsys)
    assert code == 0
    rows = pd.read_csv(pd.io.common.StringIO(out))
    assert list(rows.columns) == OUTPUT_COLUMNS
    assert list(rows["sentence_index"]) == [1, 2, 3, 4, 5]
    assert set(rows["label"]) <= {"support", "reject", "neutral"}
    assert rows[["p_support", "p_reject", "p_neutral"]].sum(axis=1).round(2).eq(1).all()
    summary = pd.read_csv(summary_path)
    assert summary.loc[0, "sentences"] == 5
    assert summary[["n_support", "n_reject", "n_neutral"]].sum(axis=1).iloc[0] == 5
    assert summary[["share_support", "share_reject", "share_neutral"]].sum(axis=1).round(2).iloc[0] == 1


def test_score_article_table_has_summary_and_every_word_of_every_sentence(article, model_file, capsys):
    code, out, _ = run_cli(["score", str(article), "--model", str(model_file)], capsys)
    assert code == 0
    assert "Per document" in out and "net_stance" in out
    words = out.split()
    for text in split_sentences(ARTICLE):  # wrapped, not cut
        assert all(word in words for word in text.split())


def test_score_csv_with_text_column_and_jsonl_output(tmp_path, model_file, capsys):
    source = tmp_path / "sentences.csv"
    pd.DataFrame({"id": ["a", "b", "c"], "sentence": [
        "Ankara said contact with Damascus was essential for lasting peace.",
        "The faction refused any reconciliation with the government.",
        "The ministers met in Moscow on Wednesday.",
    ]}).to_csv(source, index=False)
    out_path = tmp_path / "scored.jsonl"
    code, _, err = run_cli(["score", str(source), "--text-column", "sentence", "--model", str(model_file),
                            "--format", "jsonl", "-o", str(out_path)], capsys)
    assert code == 0
    records = [json.loads(line) for line in out_path.read_text().splitlines()]
    assert [r["sentence_index"] for r in records] == [1, 2, 3]
    assert [r["doc"] for r in records] == [str(source)] * 3
    assert [r["id"] for r in records] == ["a", "b", "c"]  # the input's own columns are kept
    assert "Per document" in err


def test_keep_chooses_input_columns_and_an_input_label_is_kept_apart(tmp_path, model_file, capsys):
    source = tmp_path / "gold.csv"
    pd.DataFrame({"id": ["a"], "date": ["2023-01-01"], "text": ["The ministers met."], "label": ["neutral"]}
                 ).to_csv(source, index=False)
    base = ["score", str(source), "--model", str(model_file), "--format", "csv", "-q"]
    _, out, _ = run_cli(base, capsys)
    assert pd.read_csv(StringIO(out)).columns.tolist()[:5] == ["doc", "sentence_index", "id", "date",
                                                               "input_label"]
    _, out, _ = run_cli([*base, "--keep", "id"], capsys)
    assert "date" not in pd.read_csv(StringIO(out)).columns
    code, _, err = run_cli([*base, "--keep", "author"], capsys)
    assert code == 1 and "--keep: no column author in the input (columns: id, date, label)" in err


def test_a_target_the_model_cannot_use_is_a_warning(article, model_file, capsys, caplog):
    code, _, _ = run_cli(["score", str(article), "--model", str(model_file), "--target", "ankara-damascus",
                          "--format", "csv", "-q"], capsys)
    assert code == 0
    assert "this model is not target-aware: the target ankara-damascus is ignored" in caplog.text


def test_score_jsonl_input(tmp_path, model_file, capsys):
    source = tmp_path / "s.jsonl"
    source.write_text('{"text": "Officials welcomed the deal."}\n\n{"text": "Protesters denounced it."}\n')
    code, out, _ = run_cli(["score", str(source), "--model", str(model_file), "--format", "csv", "-q"],
                           capsys)
    assert code == 0
    assert list(pd.read_csv(pd.io.common.StringIO(out))["sentence_index"]) == [1, 3]


@pytest.mark.parametrize("name, content, message", [
    ("missing.txt", None, "missing.txt: file not found"),
    ("empty.txt", b"  \n\n", "empty.txt: no sentences found"),
    ("latin1.txt", b"Caf\xe9 talks resumed.", "latin1.txt: line 1: byte 0xe9 is not valid UTF-8"),
    ("cols.csv", b"id,sentence\n1,Hello there.\n",
     "cols.csv: line 1: no column 'text' (columns: id, sentence)"),
    ("blank.csv", b"text\nHello there.\n\"  \"\n", "blank.csv: row 2 (line 3), column 'text': empty text"),
    ("header.csv", b"text\n", "header.csv: no rows to score"),
    ("bad.jsonl", b'{"text": "ok"}\n{oops\n', "bad.jsonl: line 2: not valid JSON"),
    ("doc.pdf", b"%PDF", "unsupported input type '.pdf'"),
    ("nul.txt", b"Talks resumed.\nThe envoy\x00 left.\n", "nul.txt: line 2: NUL byte"),
    ("quote.csv", b'id,text\n1,"Talks resumed.\n2,The envoy left.\n3,Fine.\n',
     "quote.csv: line 2: a quoted field that starts in this row is never closed"),
])
def test_bad_input_is_a_clear_error_and_leaves_output_alone(tmp_path, model_file, capsys, name, content,
                                                            message):
    source = tmp_path / name
    if content is not None:
        source.write_bytes(content)
    existing = tmp_path / "out.csv"
    existing.write_text("earlier results\n")
    code, out, err = run_cli(["score", str(source), "--model", str(model_file), "-o", str(existing)], capsys)
    assert code == 1
    assert message in err
    assert "Traceback" not in err
    assert existing.read_text() == "earlier results\n"


def test_missing_model_is_a_clear_error(article, tmp_path, capsys):
    code, _, err = run_cli(["score", str(article), "--model", str(tmp_path / "none.skops")], capsys)
    assert code == 1
    assert "model file not found" in err


def test_load_model_from_python_gives_the_saved_model(model_file, trained_model):
    texts = ["The ministers met in Moscow.", "The faction refused talks.", "Ankara welcomed the deal."]
    model = load_model(model_file)
    assert list(model.predict(texts)) == list(trained_model.predict(texts))
    assert model.predict_proba(texts).shape == (3, 3)


def test_console_script_reads_an_article_from_stdin(model_file):
    stance = shutil.which("stance", path=str(Path(sys.executable).parent))
    assert stance, "the `stance` console script is installed by pyproject.toml"
    result = subprocess.run([stance, "score", "-", "--model", str(model_file), "--format", "csv", "-q"],
                            input=ARTICLE.encode(), capture_output=True)
    assert result.returncode == 0, result.stderr.decode()
    rows = pd.read_csv(pd.io.common.StringIO(result.stdout.decode()))
    assert len(rows) == 5 and set(rows["doc"]) == {"<stdin>"}


def test_validate_command(capsys, tmp_path):
    code, out, _ = run_cli(["validate", str(CORPUS)], capsys)
    assert code == 0 and ": OK, " in out
    code, _, err = run_cli(["validate", str(write_rows(tmp_path / "s.csv", [sentence(1, "pro")]))], capsys)
    assert code == 1 and "unknown label 'pro'" in err


def test_what_a_command_loads_is_frozen_and_the_collector_runs_again_after():
    frozen = gc.get_freeze_count()
    with pytest.raises(RuntimeError), long_lived():
        assert not gc.isenabled()
        loaded = [[] for _ in range(1_000)]
        raise RuntimeError("even when loading fails")
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen + len(loaded)
