"""The failure paths of `stance` and the data contract: each probe ends in one clear line and a non-zero
status, or in a documented behaviour; no traceback, and nothing already on disk lost or half-written.
(The pipeline's own failure paths, under `dvc repro`, are in tests/e2e/test_failures.py.)"""

import os
import stat
import subprocess
import sys
import time

import pytest

from pipeline.files import InputError
from pipeline.scoring import read_article
from pipeline.stage import run
from tests.code.test_scoring import ARTICLE, run_cli
from tests.conftest import PARAMS, sentence, write_rows


@pytest.fixture
def article(tmp_path):
    path = tmp_path / "article.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    return path


@pytest.fixture
def earlier(tmp_path):
    path = tmp_path / "scored.csv"
    path.write_text("earlier results\n")
    return path


@pytest.mark.parametrize("options, message", [
    (["--format", "csv", "--summary", "{dir}"], "is a directory; give a file name"),
    (["--format", "table", "--summary", "{tmp}/summary.csv"], "--summary needs csv, jsonl or parquet rows"),
    (["--format", "csv", "--summary", "{out}"], "-o and --summary name the same file"),
])
def test_outputs_are_checked_before_anything_is_written(article, earlier, tmp_path, model_file, capsys,
                                                        options, message):
    options = [o.format(dir=tmp_path, tmp=tmp_path, out=earlier) for o in options]
    code, _, err = run_cli(["score", str(article), "--model", str(model_file), "-o", str(earlier), *options],
                           capsys)
    assert code == 1 and message in err and "Traceback" not in err
    assert earlier.read_text() == "earlier results\n"


def test_an_output_keeps_the_mode_of_the_file_it_replaces(article, earlier, model_file, capsys):
    os.chmod(earlier, 0o644)
    code, _, _ = run_cli(["score", str(article), "--model", str(model_file), "--format", "csv", "-q",
                          "-o", str(earlier)], capsys)
    assert code == 0 and stat.S_IMODE(earlier.stat().st_mode) == 0o644


def test_ctrl_c_is_one_line_and_status_130(capsys):
    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as exit_:
        run(interrupted)
    assert exit_.value.code == 130
    assert capsys.readouterr().err == "interrupted; files already on disk were left as they were\n"


def test_a_file_the_machine_refuses_is_one_line(capsys):
    def refused():
        raise PermissionError(13, "Permission denied", "/read-only/scored.csv")

    with pytest.raises(SystemExit) as exit_:
        run(refused)
    assert exit_.value.code == 1
    assert capsys.readouterr().err == "error: /read-only/scored.csv: Permission denied\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_writing_into_a_read_only_folder_is_one_line(article, tmp_path, model_file, capsys):
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o555)
    output = str(folder / "x.csv")
    code, _, err = run_cli(["score", str(article), "--model", str(model_file), "-o", output], capsys)
    assert code == 1 and "Permission denied" in err and "Traceback" not in err


def stance(*args, cwd, env=None):
    command = [sys.executable, "-m", "pipeline.cli", *args]
    return subprocess.run(command, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True)


@pytest.mark.parametrize("uri, message", [
    ("bogus://store", "bogus://store:"),
    ("sqlite:///{tmp}/typo/mlflow.db", "no MLflow store there"),
])
def test_a_bad_mlflow_store_is_one_line_and_creates_nothing(tmp_path, uri, message):
    uri = uri.format(tmp=tmp_path)
    result = stance("promote", "1", cwd=tmp_path, env={"MLFLOW_TRACKING_URI": uri})
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no typo folder, no stray mlflow.db or mlruns


def test_a_dead_tracking_server_fails_in_seconds(tmp_path):
    started = time.monotonic()
    result = stance("promote", "1", cwd=tmp_path, env={"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"})
    assert result.returncode == 1 and "http://127.0.0.1:9" in result.stderr
    assert time.monotonic() - started < 60  # MLflow's own retries took over four minutes


def test_loading_a_registered_model_from_another_folder_leaves_no_store_behind(tmp_path, article):
    result = stance("score", str(article), "--model", "models:/stance-classifier/1", cwd=tmp_path,
                    env={"MLFLOW_TRACKING_URI": ""})
    assert result.returncode == 1 and "no MLflow store there" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["article.txt"]


def test_a_one_paragraph_book_is_split_in_linear_time_and_an_endless_sentence_is_flagged(caplog):
    paragraph = " ".join(f"Delegates met in round {i} of the talks in Moscow." for i in range(8000))  # 400 KB
    started = time.monotonic()
    assert len(read_article("book.txt", paragraph).sentences) == 8000
    assert time.monotonic() - started < 30  # pysbd on the whole paragraph took over a minute
    endless = read_article("table.txt", "cell " * 2000)  # no sentence end: cut at the segmenter's window
    assert [len(s.split()) for s in endless.sentences] == [1000, 1000]
    assert "table.txt: sentence 1 has 1000 words and no sentence end" in caplog.text


def test_a_field_over_128_kib_is_read_not_a_csv_error(tmp_path, capsys):
    long = "Talks resumed. " * 10_000  # 150 KB, over the csv module's default limit
    path = write_rows(tmp_path / "long.csv", [sentence(1, text=long)])
    code, out, err = run_cli(["validate", str(path), "--params", str(PARAMS)], capsys)
    assert "Traceback" not in err and "field larger than field limit" not in err
    assert "1 article(s)" in err  # rejected for what it is (too few articles), not for its size


def test_nul_bytes_in_labelled_data_are_refused_with_their_line(tmp_path):
    from pipeline.data import load_sentences

    path = write_rows(tmp_path / "s.csv", [sentence(1), sentence(2, text="Talks\x00 resumed.")])
    with pytest.raises(InputError, match="s.csv: line 3: NUL byte"):
        load_sentences(path)


@pytest.mark.parametrize("case, message", [
    ("missing input", "no-such.parquet: no such file or folder"),
    ("text input", "unsupported input type '.txt'; use .parquet or .csv"),
    ("existing output", "already exists; Spark writes a new folder"),
])
def test_score_spark_refuses_bad_paths_before_spark_starts(tmp_path, capsys, case, message):
    source, destination = tmp_path / "rows.csv", tmp_path / "scored"
    source.write_text("text\nAnkara welcomed the talks.\n")
    if case == "missing input":
        source = tmp_path / "no-such.parquet"
    elif case == "text input":
        source = tmp_path / "article.txt"
        source.write_text(ARTICLE)
    else:
        destination.mkdir()
    code, _, err = run_cli(["score-spark", str(source), str(destination)], capsys)
    assert code == 1 and message in err and "Traceback" not in err
