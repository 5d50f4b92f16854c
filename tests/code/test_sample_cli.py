"""`stance sample`: a batch from articles with a trained model; deterministic, never a labelled sentence,
and a batch being labelled is never overwritten by accident."""

import pandas as pd
import pytest

from pipeline.cli import main
from pipeline.labelling import SHEET, TASKS
from tests.code.test_scoring import ARTICLE
from tests.conftest import CORPUS, write_rows

LABELLED = pd.read_csv(CORPUS, dtype=str, keep_default_na=False)["text"].iloc[2]


def sample(tmp_path, *extra):
    try:
        main(["sample", str(tmp_path / "article.txt"), str(tmp_path / "sentences.csv"),
              "--corpus", str(CORPUS), "--user-labels", str(tmp_path / "user"), *extra])
    except SystemExit as exit_:
        return exit_.code
    return 0


@pytest.fixture
def inputs(tmp_path):
    (tmp_path / "article.txt").write_text(ARTICLE, encoding="utf-8")
    write_rows(tmp_path / "sentences.csv", [{"text": LABELLED}, {"text": "Damascus thanked its allies."},
                                            {"text": "The talks resume on Monday, officials said."}],
               columns=["text"])
    return tmp_path


@pytest.mark.parametrize("strategy", ["diverse-uncertainty", "uncertainty", "random"])
def test_a_batch_is_the_same_for_a_seed_and_never_holds_a_labelled_sentence(inputs, model_file, strategy):
    common = ["-n", "4", "--model", str(model_file), "--strategy", strategy, "--seed", "1"]
    assert sample(inputs, *common, "-o", str(inputs / "one")) == 0
    assert sample(inputs, *common, "-o", str(inputs / "two")) == 0
    one = (inputs / "one" / SHEET).read_text()
    assert one == (inputs / "two" / SHEET).read_text()
    assert (inputs / "one" / TASKS).read_text() == (inputs / "two" / TASKS).read_text()
    sheet = pd.read_csv(inputs / "one" / SHEET, dtype=str, keep_default_na=False)
    assert len(sheet) == 4 and LABELLED not in set(sheet["text"]) and sheet["text"].is_unique


def test_an_existing_batch_is_not_replaced_without_force(inputs, capsys):
    (inputs / "batch").mkdir()
    (inputs / "batch" / SHEET).write_text("half labelled\n")
    assert sample(inputs, "-o", str(inputs / "batch")) == 1
    assert "already exists" in capsys.readouterr().err
    assert (inputs / "batch" / SHEET).read_text() == "half labelled\n"
