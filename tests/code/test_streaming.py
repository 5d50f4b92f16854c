"""`stance score` on tables read and written a batch at a time: formats, batches, partial output, --resume,
--jobs."""

import json

import pandas as pd
import pytest

from pipeline import scoring
from tests.code.test_scoring import run_cli

SENTENCES = [
    "Ankara said contact with Damascus was essential for a lasting peace.",
    "Opposition leaders rejected any deal with the government in Damascus.",
    "The talks were held in Moscow on Tuesday.",
    "Jordan welcomed the return of Syria to the Arab League.",
    "Protesters in Idlib denounced the agreement as a betrayal.",
    "The minister did not comment.",
    "Riyadh and Damascus agreed to reopen their embassies.",
]


@pytest.fixture
def rows(tmp_path):
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(len(SENTENCES))], "text": SENTENCES})
    path = tmp_path / "rows.csv"
    frame.to_csv(path, index=False)
    return path


def score(capsys, source, output, *options, model):
    code, _, err = run_cli(["score", str(source), "--model", str(model), "-o", str(output), "-q", *options],
                           capsys)
    assert code == 0, err
    return err


def read(path):
    return {".csv": pd.read_csv, ".jsonl": lambda p: pd.read_json(p, lines=True),
            ".parquet": pd.read_parquet}[path.suffix](path)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_every_format_in_and_out_gives_the_same_rows_whatever_the_batch_size(rows, tmp_path, model_file,
                                                                             capsys, suffix):
    source = tmp_path / f"in{suffix}"
    frame = pd.read_csv(rows)
    {".csv": lambda: frame.to_csv(source, index=False),
     ".jsonl": lambda: frame.to_json(source, orient="records", lines=True),
     ".parquet": lambda: frame.to_parquet(source, index=False)}[suffix]()
    whole, batched = tmp_path / f"whole{suffix}", tmp_path / f"batched{suffix}"
    score(capsys, source, whole, model=model_file)
    score(capsys, source, batched, "--batch-size", "2", model=model_file)
    expected, got = read(whole), read(batched)
    assert list(got.columns) == ["doc", "sentence_index", "id", "text", "label", "p_support", "p_reject",
                                 "p_neutral"]
    pd.testing.assert_frame_equal(got, expected)
    assert got["text"].tolist() == SENTENCES and got["id"].tolist() == frame["id"].tolist()
    assert not list(tmp_path.glob("*.partial"))


def test_an_interrupted_run_keeps_the_earlier_output_and_resume_finishes_it(rows, tmp_path, model_file,
                                                                            capsys, monkeypatch):
    expected = tmp_path / "expected.csv"
    score(capsys, rows, expected, "--batch-size", "2", model=model_file)
    output = tmp_path / "scored.csv"
    output.write_text("earlier results\n")
    real_score, calls = scoring.score, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_score(*args, **kwargs)

    monkeypatch.setattr(scoring, "score", interrupted)
    code, _, err = run_cli(["score", str(rows), "--model", str(model_file), "-o", str(output), "-q",
                            "--batch-size", "2"], capsys)
    assert code == 130 and "--resume" in err and "Traceback" not in err
    assert output.read_text() == "earlier results\n"
    partial = tmp_path / "scored.csv.partial"
    assert len(list(partial.glob("part-*.csv"))) == 2

    code, _, err = run_cli(["score", str(rows), "--model", str(model_file), "-o", str(output), "-q",
                            "--batch-size", "2"], capsys)
    assert code == 1 and "add --resume" in err and output.read_text() == "earlier results\n"

    monkeypatch.setattr(scoring, "score", real_score)
    calls.clear()
    score(capsys, rows, output, "--batch-size", "2", "--resume", "--summary", str(tmp_path / "sum.csv"),
          model=model_file)
    pd.testing.assert_frame_equal(pd.read_csv(output), pd.read_csv(expected))
    assert not partial.exists()
    summary = pd.read_csv(tmp_path / "sum.csv")
    assert summary["sentences"].tolist() == [len(SENTENCES)]  # the resumed batches are counted too


def test_resume_refuses_a_partial_output_of_another_run(rows, tmp_path, model_file, capsys):
    output = tmp_path / "scored.jsonl"
    partial = tmp_path / "scored.jsonl.partial"
    partial.mkdir()
    (partial / "manifest.json").write_text(json.dumps({"batch_size": 3}))
    code, _, err = run_cli(["score", str(rows), "--model", str(model_file), "-o", str(output), "--resume"],
                           capsys)
    assert code == 1 and "was written by a different run" in err and "batch_size" in err
    assert not output.exists()


def test_jobs_score_the_same_rows_in_worker_processes(rows, tmp_path, model_file, capsys):
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    score(capsys, rows, one, "--batch-size", "3", model=model_file)
    score(capsys, rows, two, "--batch-size", "3", "--jobs", "2", model=model_file)
    pd.testing.assert_frame_equal(pd.read_csv(two), pd.read_csv(one))


@pytest.mark.parametrize("options, message", [
    (["--format", "jsonl", "-o", "{tmp}/x.csv"], "the file name says csv but --format says jsonl"),
    (["--format", "parquet"], "parquet output needs a file"),
    (["--resume"], "--resume goes on with an interrupted -o FILE"),
    (["--batch-size", "0"], "--batch-size and --jobs must be at least 1"),
])
def test_bad_output_options_are_refused_before_reading(rows, tmp_path, capsys, options, message):
    options = [o.format(tmp=tmp_path) for o in options]
    code, _, err = run_cli(["score", str(rows), *options], capsys)
    assert code == 1 and message in err and "Traceback" not in err


def test_a_parquet_row_without_text_is_named(tmp_path, model_file, capsys):
    source = tmp_path / "rows.parquet"
    pd.DataFrame({"text": ["Talks resumed.", "  ", None]}).to_parquet(source, index=False)
    code, _, err = run_cli(["score", str(source), "--model", str(model_file)], capsys)
    assert code == 1
    assert "rows.parquet: row 2, column 'text': empty text; row 3, column 'text': missing" in err
