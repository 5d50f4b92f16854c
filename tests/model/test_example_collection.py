"""The worked example (examples/collection): what the default model and the holder rules must get right about
who stands where. Exact counts move with every retraining; the sign of each main actor's position per period
is what the collection was written to show, and what an analyst reads off the report."""

import numpy as np
import pandas as pd
import pytest

from pipeline.analysis import analyze
from tests.conftest import ROOT

COLLECTION = ROOT / "examples" / "collection"
AD, AN, OR = "ankara-damascus-normalization", "arab-normalization", "opposition-regime-reconciliation"

# (actor, target, period, sign of the net stance): the positions the articles give each actor, including
# the ones that change (Ankara in mid-2022, Damascus twice, Riyadh in 2023, the MHP in 2022).
POSITIONS = [
    ("Turkish Government", AD, "2022-H1", -1), ("Turkish Government", AD, "2022-H2", 1),
    ("Turkish Government", AD, "2023", 1),
    ("Syrian Government", AD, "2022-H1", -1), ("Syrian Government", AD, "2023-H1", 1),
    ("Syrian Government", AD, "2023-H2", -1),
    ("Saudi Government", AN, "2022", -1), ("Saudi Government", AN, "2023", 1),
    ("Qatari Government", AN, "2022", -1), ("Qatari Government", AN, "2023", -1),
    ("Syrian National Coalition", AD, "all", -1), ("Syrian National Coalition", OR, "all", -1),
    ("Russian Government", AD, "all", 1), ("UAE Government", AN, "all", 1), ("US Government", AN, "all", -1),
]
BY_ORGANIZATION = [("MHP", AD, "2022-H1", -1), ("MHP", AD, "2022-H2", 1)]  # the party and its lawmaker


@pytest.fixture(scope="module")
def example(trained_model):
    return analyze([str(COLLECTION)], model=trained_model, actors=[str(COLLECTION / "actors.yaml")],
                   progress=False)


def in_period(statements: pd.DataFrame, period: str) -> pd.DataFrame:
    if period == "all":
        return statements
    year = statements["date"].dt.year.astype(str)
    half = year + "-H" + (1 + (statements["date"].dt.month > 6)).astype(str)
    return statements[(year == period) | (half == period)]


def net_sign(rows: pd.DataFrame) -> int:
    return int(np.sign(rows["agreement"].sum() - (1 - rows["agreement"]).sum()))


def test_every_article_is_read_and_dated(example):
    assert example.articles == 32 and example.problems.empty
    assert example.statements["date"].notna().all()
    assert example.statements["date"].dt.year.unique().tolist() == [2022, 2023]


@pytest.mark.parametrize("actor, target, period, sign", POSITIONS)
def test_an_actor_position_per_period(example, actor, target, period, sign):
    rows = in_period(example.statements, period)
    rows = rows[(rows["actor"] == actor) & (rows["concept"] == target)]
    assert len(rows) >= 2, f"{actor} has {len(rows)} statements on {target} in {period}"
    assert net_sign(rows) == sign, rows[["date", "stance", "text"]].to_string()


@pytest.mark.parametrize("organization, target, period, sign", BY_ORGANIZATION)
def test_an_organization_position_per_period(example, organization, target, period, sign):
    rows = in_period(example.statements, period)
    rows = rows[(rows["organization"] == organization) & (rows["concept"] == target)]
    assert len(rows) >= 2 and net_sign(rows) == sign, rows[["actor", "stance", "text"]].to_string()


def test_the_steadiest_positions_have_intervals_clear_of_zero(example):
    table = example.actors.set_index(["actor", "target"])
    assert table.loc[("Syrian National Coalition", AD), "ci_high"] < 0
    assert table.loc[("Russian Government", AD), "ci_low"] > 0


def test_the_networks_put_the_coalition_against_ankara_and_beside_the_protesters(example):
    congruence, conflict = example.graphs["congruence"], example.graphs["conflict"]
    assert conflict.has_edge("Syrian National Coalition", "Turkish Government")
    assert congruence.has_edge("Turkish Government", "Russian Government")
    assert congruence.has_edge("Syrian National Coalition", "protesters")
