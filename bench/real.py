"""Real-news benchmark: every model family, trained on our corpus, scored on realnews-dev.

    python bench/real.py [--families tfidf-logreg ...] [--corpora all first-wave]
                         [--out bench/real_results.md]

Each family goes through the pipeline's own featurize -> grouped-CV search -> refit code (the grids of
params.yaml) on our corpus's train split (the prepare stage's split), then is scored once on our own test
split and once on the confident rows of ../shared/benchmarks/realnews-dev/ by the same code as the evaluate
stage (pipeline/realnews.py): macro-F1, f_avg and per-label F1 with 95% intervals from resampling whole
articles, reject precision, the share of neutral page furniture left neutral, the confusion matrix, and
the realism gap (own test minus real news).

Two corpora, so the table shows what the second writing wave changed:
    first-wave  art-001..art-112, written to be hard (half the rows take a stance)
    all         all 192 articles, with the 80 written to look like real coverage
realnews-dev is only measured here, never trained on or tuned to.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.public import fit_families  # noqa: E402
from pipeline import LABELS, realnews  # noqa: E402
from pipeline.data import load_sentences  # noqa: E402
from pipeline.files import write_text  # noqa: E402
from pipeline.metrics import selection_score  # noqa: E402
from pipeline.models.families import FAMILIES  # noqa: E402
from pipeline.models.inputs import TARGET_COLUMN, TEXT_COLUMN  # noqa: E402
from pipeline.params import load_params  # noqa: E402
from pipeline.report import confusion_table, markdown_table  # noqa: E402
from pipeline.splits import split_by_article  # noqa: E402
from pipeline.stage import argument_parser  # noqa: E402

FIRST_WAVE_ARTICLES = 112


def first_wave(frame: pd.DataFrame) -> pd.DataFrame:
    number = frame["doc_id"].str.extract(r"(\d+)$")[0].astype(int)
    return frame[number <= FIRST_WAVE_ARTICLES]


CORPORA = {"first-wave": first_wave, "all": lambda frame: frame}


def interval(values: dict, name: str) -> str:
    return f"{values[name]:.3f} [{values[name + '_ci_low']:.2f}, {values[name + '_ci_high']:.2f}]"


def run_corpus(name: str, corpus: pd.DataFrame, real: pd.DataFrame, families: list[str]) -> list[dict]:
    params = load_params(ROOT / "params.yaml")
    train, test = split_by_article(corpus, params.prepare.test_size, params.prepare.random_state)
    rows = []
    for family_name, model, _, seconds in fit_families(train, families, changes={}):  # the product's settings
        predicted = model.predict(test[[TEXT_COLUMN, TARGET_COLUMN]])
        own = selection_score("macro_f1", test["label"], predicted)
        figures = realnews.evaluate(model, real, params.evaluate.bootstrap_resamples,
                                    params.evaluate.random_state)
        per_class = figures["per_class"]
        rows.append({
            "corpus": name, "family": family_name, "own test macro-F1": round(own, 3),
            "real macro-F1": interval(figures, "macro_f1"), "real f_avg": interval(figures, "f_avg"),
            **{f"F1 {label}": f"{per_class[label]['f1']:.3f} [{per_class[label]['f1_ci_low']:.2f}, "
                              f"{per_class[label]['f1_ci_high']:.2f}]" for label in LABELS},
            "reject precision": round(per_class["reject"]["precision"], 3),
            "furniture neutral": f"{figures['furniture_neutral']:.1%}",
            "gap": round(own - figures["macro_f1"], 3),
            "seconds": round(seconds, 1),
            "confusion": figures["confusion"],
        })
        print({k: v for k, v in rows[-1].items() if k != "confusion"}, flush=True)
    return rows


def render(rows: list[dict], n_confident: int, n_articles: int) -> str:
    table = pd.DataFrame(rows)
    lines = [
        "# Real news: every family on realnews-dev", "",
        "Written by `make bench-real` (`python bench/real.py`); see its docstring for the protocol. "
        f"Real news: {n_confident} confident sentences of {n_articles} articles. Cells are value "
        "[95% interval]; intervals resample whole articles (with 16 reject rows, reject F1 moves a lot). "
        "`furniture neutral` is the share of neutral page furniture the model leaves neutral; `gap` is own "
        "test minus real macro-F1. `seconds` is the wall time of featurize, search and refit on this "
        "project's 2-core machine.", "",
        markdown_table([c for c in table.columns if c != "confusion"],
                       table.drop(columns="confusion").itertuples(index=False)), "",
        "## Confusion matrices on real news (rows: actual, columns: predicted)", "",
    ]
    for row in rows:
        lines += [f"**{row['family']}** ({row['corpus']})", "", confusion_table(row["confusion"]), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--real-news", type=Path,
                        default=ROOT.parent / "shared" / "benchmarks" / "realnews-dev")
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--corpora", nargs="+", default=list(CORPORA), choices=list(CORPORA))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "real_results.md")
    args = parser.parse_args()
    path = realnews.locate(args.real_news)
    if path is None:
        print(f"skipped: no {realnews.FILE} in {args.real_news} (real news is not part of the repo)")
        return
    real = realnews.load(path)
    corpus = load_sentences(ROOT / "data" / "raw" / "sentences.csv")
    rows = [row for name in args.corpora
            for row in run_corpus(name, CORPORA[name](corpus), real, args.families)]
    confident = real[real["confident"]]
    write_text(args.out, render(rows, len(confident), confident["doc_id"].nunique()))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
