"""Transfer benchmark: how well each model variant carries over to writing it has not seen. The default
model is chosen by this table (the rule is in params.yaml and the README).

    python bench/transfer.py [--variants tfidf-logreg ...] [--groups writer style real-news] [--out FILE]

Real articles come from outlets and authors the training data never saw, so a random or even an
article-grouped split flatters a model that memorises one author's phrasing. Every variant is scored on
three kinds of unseen writing:

    writer     trained on all but one writer session of data/raw/sentences.csv (12 blocks of 16 consecutive
               articles, each written by one session), scored on the one left out, in turn
    style      the same with the 8 outlet styles (wire, op-ed, live blog, ...)
    real-news  trained on the whole corpus, scored on the confident rows of ../shared/benchmarks/realnews-dev
               (skipped when absent; measured, never trained on)

Hyperparameters are fixed per variant (VARIANTS below: what the search picks, or the middle of the grid), so
the figure measures the variant, not a search. Fits go through the train stage's own code (fit_candidate) on
precomputed blocks: TF-IDF refitted on each training side, MiniLM embeddings computed once. Scores pool the
held-out groups; "worst" is the lowest per-group macro-F1.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import realnews  # noqa: E402
from pipeline.data import load_sentences  # noqa: E402
from pipeline.files import write_text  # noqa: E402
from pipeline.metrics import selection_score  # noqa: E402
from pipeline.models.families import HYPERPARAMETERS, family  # noqa: E402
from pipeline.models.minilm import SentenceEmbedder  # noqa: E402
from pipeline.models.tfidf import build_tfidf  # noqa: E402
from pipeline.params import load_params, override  # noqa: E402
from pipeline.report import markdown_table  # noqa: E402
from pipeline.stage import argument_parser  # noqa: E402
from pipeline.train import TrainingData, classifier_input, fit_candidate  # noqa: E402

ARTICLES_PER_WRITER = 16
BALANCED, UNWEIGHTED = {"class_weight": "balanced"}, {"class_weight": None}
VARIANTS = {
    "tfidf-logreg": ("tfidf-logreg", {"C": 3.0, **BALANCED}),
    "tfidf-logreg unweighted": ("tfidf-logreg", {"C": 3.0, **UNWEIGHTED}),
    "tfidf-linear-svm": ("tfidf-linear-svm", {"C": 0.3, **BALANCED}),
    "nbsvm": ("nbsvm", {"C": 1.0, "alpha": 1.0, **BALANCED}),
    "embeddings-logreg": ("embeddings-logreg", {"C": 3.0, **BALANCED}),
    "tfidf-embeddings-logreg": ("tfidf-embeddings-logreg", {"C": 3.0, "embedding_weight": 1.0, **BALANCED}),
    "tfidf-embeddings-logreg unweighted": ("tfidf-embeddings-logreg",
                                           {"C": 3.0, "embedding_weight": 1.0, **UNWEIGHTED}),
    "finetuned-minilm": ("finetuned-minilm",
                         {"epochs": 4, "learning_rate": 5e-5, "batch_size": 16, **BALANCED}),
}
# Minutes, not hours: the fine-tuned family is left out unless asked for.
DEFAULT_VARIANTS = [name for name in VARIANTS if name != "finetuned-minilm"]
GROUPS = ("writer", "style", "real-news")


class Benchmark:
    """Our corpus and realnews-dev, with MiniLM embeddings of both computed once if a variant needs them."""

    def __init__(self, data: Path, real_news: Path, need_embeddings: bool):
        frame = load_sentences(data).reset_index(drop=True)  # the data contract's columns, validated
        # `style` is one of the corpus's extra columns, which the contract does not keep.
        styles = pd.read_csv(data, usecols=["sentence_id", "style"], dtype=str)
        self.corpus = frame.merge(styles, on="sentence_id", how="left", validate="one_to_one")
        path = realnews.locate(real_news)
        real = realnews.load(path) if path else None
        self.real = None if real is None else real[real["confident"]].reset_index(drop=True)
        texts = self.corpus["text"].tolist() + ([] if self.real is None else self.real["text"].tolist())
        self.params = load_params(ROOT / "params.yaml")
        encoder = self.params.featurize.embeddings.encoder()
        # int8 sets its quantization from corpus sentences (no labels), never from realnews-dev
        corpus_texts = self.corpus["text"].tolist()
        self.embedder = SentenceEmbedder(**encoder).fit(corpus_texts) if need_embeddings else None
        embeddings = self.embedder.transform(texts) if need_embeddings else np.zeros((len(texts), 0))
        self.embeddings = embeddings[:len(self.corpus)], embeddings[len(self.corpus):]

    def groups(self) -> dict[str, pd.Series]:
        article_number = self.corpus["doc_id"].str.extract(r"(\d+)$", expand=False).astype(int)
        return {"writer": (article_number - 1) // ARTICLES_PER_WRITER + 1, "style": self.corpus["style"]}

    def fit_predict(self, variant: str, train_rows: np.ndarray, test: pd.DataFrame,
                    test_embeddings: np.ndarray) -> np.ndarray:
        """Fit the variant on the corpus rows `train_rows` and predict `test`, as the train stage fits."""
        classes, proba = self.fit_proba(*VARIANTS[variant], train_rows, test, test_embeddings)
        return classes[proba.argmax(axis=1)]

    def fit_proba(self, family_name: str, hyperparams: dict, train_rows: np.ndarray, test: pd.DataFrame,
                  test_embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(classes, probabilities of `test`) from the family fitted on the corpus rows `train_rows`."""
        params = override(self.params, {"train.family": family_name}, families=HYPERPARAMETERS).train
        frame = pd.concat([self.corpus.iloc[train_rows], test], ignore_index=True)
        embeddings = np.vstack([self.embeddings[0][train_rows], test_embeddings])
        tfidf = build_tfidf(self.params.featurize.tfidf).fit(frame["text"][:len(train_rows)])
        data = TrainingData(frame, tfidf, tfidf.transform(frame["text"]), embeddings, self.embedder)
        fit_rows, test_rows = np.arange(len(train_rows)), np.arange(len(train_rows), len(frame))
        features, classifier = fit_candidate(data, fit_rows, {"target_aware": False, **hyperparams}, params)
        return classifier.classes_, classifier.predict_proba(classifier_input(features, data, test_rows))

    def leave_one_group_out(self, variant: str, group: pd.Series) -> dict:
        predicted = pd.Series(index=self.corpus.index, dtype=object)
        for held_out in sorted(group.unique()):
            test = (group == held_out).to_numpy()
            predicted[test] = self.fit_predict(variant, np.flatnonzero(~test), self.corpus[test],
                                               self.embeddings[0][test])
        per_group = [selection_score("macro_f1", self.corpus["label"][group == g], predicted[group == g])
                     for g in group.unique()]
        return {"macro_f1": selection_score("macro_f1", self.corpus["label"], predicted),
                "f_avg": selection_score("f_avg", self.corpus["label"], predicted),
                "worst group macro_f1": min(per_group)}

    def real_news(self, variant: str) -> dict:
        predicted = self.fit_predict(variant, np.arange(len(self.corpus)), self.real, self.embeddings[1])
        return {"macro_f1": selection_score("macro_f1", self.real["label"], predicted),
                "f_avg": selection_score("f_avg", self.real["label"], predicted)}

    def measure(self, variant: str, group: str) -> dict:
        started = time.perf_counter()
        if group == "real-news":
            row = self.real_news(variant)
        else:
            row = self.leave_one_group_out(variant, self.groups()[group])
        return {"variant": variant, **{k: round(v, 4) for k, v in row.items()},
                "seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "raw" / "sentences.csv")
    parser.add_argument("--real-news", type=Path,
                        default=ROOT.parent / "shared" / "benchmarks" / "realnews-dev")
    parser.add_argument("--variants", nargs="+", default=DEFAULT_VARIANTS, choices=list(VARIANTS))
    parser.add_argument("--groups", nargs="+", default=list(GROUPS), choices=list(GROUPS))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "transfer_results.md")
    args = parser.parse_args()
    need_embeddings = any(family(VARIANTS[v][0]).body.embeddings for v in args.variants)
    bench = Benchmark(args.data, args.real_news, need_embeddings)
    if bench.real is None and "real-news" in args.groups:
        print(f"real-news: skipped, no {realnews.FILE} in {args.real_news}")
        args.groups.remove("real-news")
    tables = {}
    for group in args.groups:
        rows = []
        for variant in args.variants:
            rows.append(bench.measure(variant, group))
            print(group, rows[-1], flush=True)
        tables[group] = pd.DataFrame(rows).set_index("variant")
    summary = pd.DataFrame({group: table["macro_f1"] for group, table in tables.items()})
    summary["mean"] = summary.mean(axis=1)
    summary = summary.round(4).reset_index()
    lines = ["# Transfer to unseen writers, outlet styles and real news", "",
             "Written by `make bench-transfer` (`python bench/transfer.py`); see its docstring for the "
             "protocol. The default model is the variant with the best mean macro-F1 over the three "
             "(params.yaml says the rule in full).", "",
             "## Macro-F1 by kind of unseen writing", "",
             markdown_table(list(summary.columns), list(summary.itertuples(index=False))), ""]
    for group, table in tables.items():
        title = {"writer": f"Leave one writer out ({bench.groups()['writer'].nunique()} groups)",
                 "style": f"Leave one style out ({bench.groups()['style'].nunique()} groups)",
                 "real-news": f"Real news ({len(bench.real)} confident sentences; trained on all our corpus)"}
        table = table.reset_index()
        lines += [f"## {title[group]}", "",
                  markdown_table(list(table.columns), list(table.itertuples(index=False))), ""]
    write_text(args.out, "\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
