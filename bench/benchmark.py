"""Benchmarks: scoring speed and memory, and the default model recipe on public stance datasets.

    python bench/benchmark.py [--benchmarks ../shared/benchmarks] [--skip-public]

Public datasets are read from ../shared/benchmarks (never copied into the repo); each is skipped
with a message when absent. Each is trained and tested on its own standard split with the recipe in
params.yaml (featurize + train sections), so the figures say how the recipe generalizes to text
we did not write.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.evaluate import compute_metrics
from pipeline.model import build_model
from pipeline.params import load_params
from pipeline.scoring import DEFAULT_MODEL, load_model, split_sentences

ROOT = Path(__file__).resolve().parents[1]
LABEL_MAPS = {
    "gwsd": {"agree": "support", "disagree": "reject", "neutral": "neutral"},
    "semeval": {"FAVOR": "support", "AGAINST": "reject", "NONE": "neutral"},
    "emergent": {"for": "support", "against": "reject", "observing": "neutral"},
}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_scoring(model_path: Path) -> None:
    print("## Scoring speed and memory")
    if not model_path.is_file():
        print(f"skipped: {model_path} not found (run `make repro` first)\n")
        return
    start = time.perf_counter()
    model = load_model(model_path)
    print(f"load model:           {time.perf_counter() - start:.3f} s")
    corpus = pd.read_csv(ROOT / "data/raw/sentences.csv")["text"].tolist()
    for n in (1, 100, 10_000):
        batch = (corpus * (n // len(corpus) + 1))[:n]
        start = time.perf_counter()
        model.predict_proba(batch)
        seconds = time.perf_counter() - start
        print(f"predict_proba n={n:<6} {seconds:.3f} s  ({n / seconds:,.0f} sentences/s)")
    article = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples").glob("*.txt")))
    start = time.perf_counter()
    for _ in range(20):
        sentences = split_sentences(article)
    seconds = (time.perf_counter() - start) / 20
    print(f"split_sentences:      {len(sentences)} sentences in {seconds * 1000:.1f} ms "
          f"({len(sentences) / seconds:,.0f} sentences/s)")
    print(f"peak RSS:             {peak_rss_mib():.0f} MiB\n")


def load_gwsd(folder: Path):
    frame = pd.read_csv(folder / "GWSD.tsv", sep="\t", index_col=0)
    frame = frame[frame["sent_id"].str.startswith("t")].copy()
    frame["label"] = frame[["disagree", "agree", "neutral"]].astype(float).idxmax(axis=1).map(LABEL_MAPS["gwsd"])
    frame = frame.rename(columns={"sentence": "text"})
    held_out = frame["in_held_out_test"].astype(str) == "True"
    return frame[~held_out], frame[held_out]


def load_semeval(folder: Path):
    def read(name, encoding):
        frame = pd.read_csv(folder / "official" / name, sep="\t", encoding=encoding, quoting=3)
        frame["text"] = frame["Tweet"].str.replace("#SemST", "", regex=False).str.strip()
        frame["label"] = frame["Stance"].map(LABEL_MAPS["semeval"])
        return frame
    return (read("semeval2016-task6-trainingdata.txt", "latin-1"),
            read("SemEval2016-Task6-subtaskA-testdata-gold.txt", "latin-1"))


def load_emergent(folder: Path):
    frame = pd.read_csv(folder / "url-versions-2015-06-14-clean.csv")
    split = pd.read_csv(folder / "emergent_split_derived.csv")[["id", "split"]]
    frame = frame.merge(split, on="id")
    frame["text"] = frame["articleHeadline"]  # headline only: our model sees one sentence, no claim
    frame["label"] = frame["articleHeadlineStance"].map(LABEL_MAPS["emergent"])
    return frame[frame["split"] == "train"], frame[frame["split"] == "test"]


def evaluate_recipe(train: pd.DataFrame, test: pd.DataFrame, featurize: dict, train_params: dict) -> dict:
    model = build_model(featurize, train_params).fit(train["text"], train["label"])
    proba = model.predict_proba(test["text"])
    predicted = model.classes_[proba.argmax(axis=1)]
    return compute_metrics(test["label"].to_numpy(), predicted, proba, model.classes_)


def per_target_semeval(train, test, featurize, train_params) -> float:
    """SemEval's strongest baseline trains one model per target; F_avg is pooled over all targets."""
    predicted = pd.Series(index=test.index, dtype=object)
    for target, rows in test.groupby("Target"):
        model = build_model(featurize, train_params).fit(*train[train["Target"] == target][["text", "label"]].T.values)
        predicted[rows.index] = model.predict(rows["text"])
    dummy = np.zeros((len(test), 3))
    return compute_metrics(test["label"].to_numpy(), predicted.to_numpy(), dummy, np.array(["neutral", "reject", "support"]))["f_avg"]


def bench_public(folder: Path) -> None:
    print("## Public stance benchmarks (default recipe from params.yaml, trained on each dataset's train split)")
    if not folder.is_dir():
        print(f"skipped: {folder} not found\n")
        return
    featurize, train_params = load_params("featurize", ROOT / "params.yaml"), load_params("train", ROOT / "params.yaml")
    datasets = {"gwsd": load_gwsd, "semeval2016-task6": load_semeval, "emergent": load_emergent}
    rows = []
    for name, loader in datasets.items():
        if not (folder / name).is_dir():
            print(f"{name}: skipped, not in {folder}")
            continue
        train, test = loader(folder / name)
        start = time.perf_counter()
        metrics = evaluate_recipe(train, test, featurize, train_params)
        rows.append({"dataset": name, "train": len(train), "test": len(test), "accuracy": metrics["accuracy"],
                     "macro_f1": metrics["macro_f1"], "f_avg": metrics["f_avg"],
                     "seconds": round(time.perf_counter() - start, 1)})
        if name == "semeval2016-task6":
            f_avg = per_target_semeval(train, test, featurize, train_params)
            rows.append({"dataset": "semeval2016-task6 (one model per target)", "train": len(train),
                         "test": len(test), "f_avg": f_avg})
    print(pd.DataFrame(rows).round(4).to_string(index=False, na_rep="-"))
    print("references (see each dataset's README): GWSD TF-IDF+LR acc 0.600 / macro-F1 0.578; SemEval "
          "SVM-ngrams per target F_avg 0.690, one model 0.621; Emergent headline-only TF-IDF+LR acc 0.666 / "
          "macro-F1 0.628\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--benchmarks", type=Path, default=ROOT.parent / "shared" / "benchmarks")
    parser.add_argument("--model", type=Path, default=ROOT / DEFAULT_MODEL)
    parser.add_argument("--skip-public", action="store_true")
    args = parser.parse_args()
    bench_scoring(args.model)
    if not args.skip_public:
        bench_public(args.benchmarks)


if __name__ == "__main__":
    main()
