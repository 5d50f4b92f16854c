"""Stage `corpus`: statistics of the labelled corpus and the inter-annotator agreement, recomputed from
the raw label sets in data/annotation/ (writer, independent annotator, adjudication).

    python -m pipeline.corpus data/raw/sentences.csv data/annotation --out reports/corpus_stats.json
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import cohen_kappa_score

from pipeline import LABELS
from pipeline.data import load_sentences
from pipeline.files import InputError, write_json
from pipeline.stage import argument_parser, run

log = logging.getLogger(__name__)

NEAR_DUPLICATE_COSINE = 0.9
# Writer tags that mark a hard case for a stance-bearing sentence (see data/ANNOTATION.md).
HARD_CASE_TAGS = {
    "split_quote", "nested_attribution", "negation", "hedging", "denial_of_contact", "protest_slogan",
    "sarcasm", "rhetorical_question", "clause_conflict", "loaded_wording", "condition",
}


def label_counts(frame: pd.DataFrame) -> dict:
    counts = frame["label"].value_counts().reindex(LABELS, fill_value=0)
    return {"articles": int(frame["doc_id"].nunique()), "sentences": int(len(frame)),
            **{label: int(n) for label, n in counts.items()}}


def near_duplicate_rate(frame: pd.DataFrame, threshold: float = NEAR_DUPLICATE_COSINE) -> float:
    """Share of sentences with a TF-IDF cosine >= threshold to a sentence of another article."""
    vectors = TfidfVectorizer().fit_transform(frame["text"])
    similarity = (vectors @ vectors.T).toarray()
    docs = frame["doc_id"].to_numpy()
    similarity[docs[:, None] == docs[None, :]] = 0
    return float((similarity >= threshold).any(axis=1).mean())


def agreement(sentences: pd.DataFrame, folder: Path) -> dict:
    """Cohen's kappa of the writer's and the independent annotator's labels, before adjudication."""
    def read(name: str) -> pd.DataFrame:
        path = folder / name
        if not path.is_file():
            raise InputError(f"{path}: missing (expected beside the other label sets)")
        return pd.read_csv(path, dtype=str, keep_default_na=False)

    writer, annotator, adjudication = read("writer.csv"), read("annotator.csv"), read("adjudication.csv")
    both = writer.merge(annotator, on="sentence_id", suffixes=("_writer", "_annotator"))
    both = both.merge(sentences[["sentence_id", "target", "label"]], on="sentence_id")
    if len(both) != len(sentences):
        raise InputError(f"{folder}: label sets cover {len(both)} of {len(sentences)} sentences")
    disagree = both["label_writer"] != both["label_annotator"]
    decisions = adjudication.set_index("sentence_id")
    outcome = decisions["adjudicated"]
    return {
        "kappa": float(cohen_kappa_score(both["label_writer"], both["label_annotator"])),
        "raw_agreement": float(1 - disagree.mean()),
        "disagreements": int(disagree.sum()),
        "adjudicated_to_writer": int((outcome == decisions["writer"]).sum()),
        "adjudicated_to_annotator": int((outcome == decisions["annotator"]).sum()),
        "final_differs_from_writer": int((both["label"] != both["label_writer"]).sum()),
        "kappa_per_target": {
            target: float(cohen_kappa_score(rows["label_writer"], rows["label_annotator"]))
            for target, rows in both.groupby("target")
        },
    }


def corpus_stats(raw_path: str | Path, annotation_folder: str | Path) -> dict:
    load_sentences(raw_path)  # the data contract first
    frame = pd.read_csv(raw_path, dtype=str, keep_default_na=False)
    words = frame["text"].str.split().str.len()
    stance = frame[frame["label"] != "neutral"]
    hard = stance["tags"].str.split().map(lambda tags: bool(HARD_CASE_TAGS & set(tags)))
    per_article = frame.groupby("doc_id")
    return {
        **label_counts(frame),
        "label_share": {label: round(float((frame["label"] == label).mean()), 4) for label in LABELS},
        "per_target": {t: label_counts(rows) for t, rows in frame.groupby("target")},
        "per_style": {s: label_counts(rows) for s, rows in frame.groupby("style")},
        "per_part": {p: label_counts(rows) for p, rows in frame.groupby("part")},
        "words_per_sentence": {"min": int(words.min()), "median": float(words.median()),
                               "max": int(words.max())},
        "sentences_per_article": {"min": int(per_article.size().min()), "max": int(per_article.size().max())},
        "hard_case_share_of_stance_sentences": round(float(hard.mean()), 4),
        "near_duplicate_rate": round(near_duplicate_rate(frame), 4),
        "agreement": agreement(frame, Path(annotation_folder)),
    }


def _rounded(value):
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return round(value, 4) if isinstance(value, float) else value


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("raw", help="labelled sentences CSV")
    parser.add_argument("annotation", help="folder with writer.csv, annotator.csv, adjudication.csv")
    parser.add_argument("--out", help="write the statistics here (JSON)")
    args = parser.parse_args()
    stats = _rounded(corpus_stats(args.raw, args.annotation))
    shares = ", ".join(f"{label} {share:.1%}" for label, share in stats["label_share"].items())
    agreed = stats["agreement"]
    print(f"{stats['sentences']} sentences in {stats['articles']} articles: {shares}")
    print(pd.DataFrame(stats["per_target"]).T.to_string())
    print(pd.DataFrame(stats["per_style"]).T.to_string())
    print(f"hard cases: {stats['hard_case_share_of_stance_sentences']:.1%} of stance-bearing sentences; "
          f"near-duplicates (cosine >= {NEAR_DUPLICATE_COSINE} across articles): "
          f"{stats['near_duplicate_rate']:.2%}")
    print(f"Cohen's kappa before adjudication: {agreed['kappa']:.3f} "
          f"(raw agreement {agreed['raw_agreement']:.1%}, "
          f"{agreed['disagreements']} disagreements; per target: "
          + ", ".join(f"{t} {k:.3f}" for t, k in agreed["kappa_per_target"].items()) + ")")
    if args.out:
        write_json(args.out, stats)


if __name__ == "__main__":
    run(main)
