"""Public stance benchmarks: every model family, through the pipeline's own code, on each dataset's
standard split.

    python bench/public.py [--benchmarks ../shared/benchmarks] [--families nbsvm ...]
                           [--out bench/public_results.md]

For each dataset and family: `featurize` (TF-IDF fitted on the train split; MiniLM embeddings when the
family uses them), `train` (the grid of params.yaml, cross-validated on the train split only, refit of
the best), then one prediction on the standard test split, scored by `metrics.compute_metrics`.
realnews-dev has no train split: the product's setting is trained on our corpus (its train split) and
scored on real news. The data is read from ../shared/benchmarks and never copied; a missing folder is
skipped.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import realnews  # noqa: E402
from pipeline.data import load_sentences  # noqa: E402
from pipeline.featurize import featurize  # noqa: E402
from pipeline.files import write_text  # noqa: E402
from pipeline.metrics import compute_metrics  # noqa: E402
from pipeline.models.families import FAMILIES, HYPERPARAMETERS, family  # noqa: E402
from pipeline.models.inputs import TARGET_COLUMN, TEXT_COLUMN  # noqa: E402
from pipeline.params import load_params, override  # noqa: E402
from pipeline.report import markdown_table  # noqa: E402
from pipeline.splits import split_by_article  # noqa: E402
from pipeline.stage import argument_parser  # noqa: E402
from pipeline.train import TrainingData, train  # noqa: E402

LABEL_MAPS = {
    "gwsd": {"agree": "support", "disagree": "reject", "neutral": "neutral"},
    "semeval": {"FAVOR": "support", "AGAINST": "reject", "NONE": "neutral"},
    "emergent": {"for": "support", "against": "reject", "observing": "neutral"},
}
# From each dataset's README under ../shared/benchmarks and the published papers it cites.
PUBLISHED = {
    "gwsd": "TF-IDF + LR: acc 0.600, macro-F1 0.578 (dataset README); our target: macro-F1 ≥ 0.70",
    "semeval2016-task6": "SVM word+char n-grams f_avg 0.690; best team 0.678; transformers ≈0.71–0.73; "
                         "our target: ≥ 0.690",
    "emergent": "Ferreira & Vlachos 2016, claim–headline features: accuracy 0.73; our target: ≥ 0.82",
    "realnews-dev": "none (our own development set of real news); trained on our corpus's train split, "
                    "scored on the confident rows; `make bench-real` has the intervals; our target: macro-F1 "
                    "≥ 0.75",
}


def load_gwsd(folder: Path):
    frame = pd.read_csv(folder / "GWSD.tsv", sep="\t", index_col=0)
    frame = frame[frame["sent_id"].str.startswith("t")].copy()
    votes = frame[["disagree", "agree", "neutral"]].astype(float)
    frame["label"] = votes.idxmax(axis=1).map(LABEL_MAPS["gwsd"])
    frame = frame.rename(columns={"sentence": "text"})
    frame["doc_id"] = frame["sent_id"]  # no article ids: every sentence is its own group
    frame["target"] = "global-warming"
    held_out = frame["in_held_out_test"].astype(str) == "True"
    return frame[~held_out], frame[held_out]


def load_semeval(folder: Path):
    def read(name):
        frame = pd.read_csv(folder / "official" / name, sep="\t", encoding="latin-1", quoting=3)
        frame["text"] = frame["Tweet"].str.replace("#SemST", "", regex=False).str.strip()
        frame["label"] = frame["Stance"].map(LABEL_MAPS["semeval"])
        slugs = frame["Target"].str.lower().str.replace(r"[^a-z0-9]+", "-", regex=True)
        frame["target"] = slugs.str.strip("-")
        frame["doc_id"] = frame["ID"].astype(str)
        return frame
    return read("semeval2016-task6-trainingdata.txt"), read("SemEval2016-Task6-subtaskA-testdata-gold.txt")


def load_emergent(folder: Path):
    frame = pd.read_csv(folder / "url-versions-2015-06-14-clean.csv")
    frame = frame.merge(pd.read_csv(folder / "emergent_split_derived.csv")[["id", "split"]], on="id")
    frame["text"] = frame["articleHeadline"]  # our models see one sentence; the claim is not an input
    frame["label"] = frame["articleHeadlineStance"].map(LABEL_MAPS["emergent"])
    frame["doc_id"] = frame["claimId"].astype(str)  # folds keep each claim's headlines together
    frame["target"] = "claim"
    return frame[frame["split"] == "train"], frame[frame["split"] == "test"]


def our_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Our corpus split as the prepare stage splits it."""
    params = load_params(ROOT / "params.yaml").prepare
    corpus = load_sentences(ROOT / "data/raw/sentences.csv")
    return split_by_article(corpus, params.test_size, params.random_state)


def load_realnews(folder: Path):
    """Our training split, and the confident rows of realnews-dev: the product's own transfer setting."""
    frame = realnews.load(folder / realnews.FILE)
    return our_split()[0], frame[frame["confident"]]


DATASETS = {"gwsd": load_gwsd, "semeval2016-task6": load_semeval, "emergent": load_emergent,
            "realnews-dev": load_realnews}
METRIC = {"gwsd": "macro_f1", "semeval2016-task6": "f_avg", "emergent": "accuracy",
          "realnews-dev": "macro_f1"}
FINE_TUNED_CV_FOLDS = 2


def dataset_changes(name: str) -> dict:
    """The public datasets search with their own metric and target-aware `auto` (SemEval has five targets);
    realnews-dev is the product's own setting, so it trains exactly as `dvc repro` does."""
    if name == "realnews-dev":
        return {}
    return {"train.target_aware": "auto", "train.search.metric": METRIC[name]}


def fit_families(train_frame: pd.DataFrame, families: list[str], changes: dict):
    """Each family through the pipeline's own featurize -> grouped-CV search -> refit code, with params.yaml
    and `changes` (dotted names, as `dvc exp run -S`); yields (family, model, search report, seconds)."""
    base = load_params(ROOT / "params.yaml")
    frame = train_frame[["doc_id", "text", "label", "target"]].reset_index(drop=True).astype(str)
    blocks = {}
    bodies = [family(f).body for f in families]
    for embeddings in sorted({body.embeddings for body in bodies if not body.reads_raw_text}):
        params = override(base, {"featurize.embeddings.enabled": embeddings}).featurize
        started = time.perf_counter()
        blocks[embeddings] = (TrainingData(frame, *featurize(frame["text"].tolist(), params)),
                              time.perf_counter() - started)
    for family_name in families:
        spec = family(family_name)
        data, featurize_seconds = (TrainingData(frame, None, None, None), 0.0) if spec.body.reads_raw_text \
            else blocks[spec.body.embeddings]
        variant = {**changes, "train.family": family_name}
        if spec.body.reads_raw_text:  # minutes per fit: 2 folds keep a run under 10 minutes on 2 cores
            variant["train.search.cv_folds"] = FINE_TUNED_CV_FOLDS
        params = override(base, variant, families=HYPERPARAMETERS).train
        started = time.perf_counter()
        model, search = train(data, params)
        yield family_name, model, search, featurize_seconds + time.perf_counter() - started


def run_dataset(name: str, train_frame: pd.DataFrame, test_frame: pd.DataFrame,
                families: list[str]) -> list[dict]:
    test = test_frame[[TEXT_COLUMN, TARGET_COLUMN, "label"]].reset_index(drop=True).astype(str)
    rows = []
    for family_name, model, search, seconds in fit_families(train_frame, families, dataset_changes(name)):
        proba = model.predict_proba(test[[TEXT_COLUMN, TARGET_COLUMN]])
        predicted = model.classes_[proba.argmax(axis=1)]
        metrics = compute_metrics(test["label"].to_numpy(), predicted, proba, model.classes_)
        rows.append({
            "dataset": name, "family": family_name,
            "chosen": ", ".join(f"{k}={v}" for k, v in search["chosen"].items() if k != "class_weight"),
            "folds": search["cv_folds"],
            f"cv {METRIC[name]}": search["candidates"][search["best"]]["mean"],
            "accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"], "f_avg": metrics["f_avg"],
            "seconds": round(seconds, 1),
        })
        print(pd.DataFrame(rows[-1:]).round(4).to_string(index=False), flush=True)
    return rows


def render(rows: list[dict], sizes: dict) -> str:
    lines = ["# Public stance benchmarks", "",
             "Written by `make bench-public` (`python bench/public.py`). Each row: one model family through "
             "the pipeline's own featurize → grouped-CV search → refit code, trained on the dataset's train "
             "split and scored once on its standard test split. `seconds` is the wall time of the whole run "
             "on this project's 2-core machine (featurize, search, refit, test prediction). "
             "`finetuned-minilm` has one candidate and minutes per fit, so its cross-validation uses "
             f"{FINE_TUNED_CV_FOLDS} folds: an estimate, not a choice.", ""]
    for name, frame in pd.DataFrame(rows).groupby("dataset", sort=False):
        lines += [f"## {name} ({sizes[name][0]} train / {sizes[name][1]} test; metric: {METRIC[name]})", "",
                  f"Published: {PUBLISHED[name]}.", ""]
        table = frame.drop(columns="dataset").dropna(axis=1, how="all").round(4)
        cv = [c for c in table.columns if c.startswith("cv ")]
        table = table[["family", "chosen", "folds", *cv, "accuracy", "macro_f1", "f_avg", "seconds"]]
        lines += [markdown_table(list(table.columns), list(table.itertuples(index=False))), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--benchmarks", type=Path, default=ROOT.parent / "shared" / "benchmarks")
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "public_results.md")
    args = parser.parse_args()
    if not args.benchmarks.is_dir():
        print(f"skipped: {args.benchmarks} not found (public datasets are not part of the repo)")
        return
    rows, sizes = [], {}
    for name in args.datasets:
        if not (args.benchmarks / name).is_dir():
            print(f"{name}: skipped, not in {args.benchmarks}")
            continue
        train_frame, test_frame = DATASETS[name](args.benchmarks / name)
        sizes[name] = (len(train_frame), len(test_frame))
        rows.extend(run_dataset(name, train_frame, test_frame, args.families))
    if rows:
        write_text(args.out, render(rows, sizes))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
