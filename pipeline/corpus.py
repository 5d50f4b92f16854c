"""Stage `corpus`: statistics of the labelled corpus and the inter-annotator agreement, recomputed from
the raw label sets in data/annotation/ (writer, independent annotator, adjudication).

    python -m pipeline.corpus data/raw/sentences.csv data/annotation --out reports/corpus_stats.json
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import cohen_kappa_score

from pipeline import LABELS
from pipeline.data import load_sentences
from pipeline.files import write_json
from pipeline.params import load_params
from pipeline.splits import check_trainable
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


def near_duplicate_rate(frame: pd.DataFrame, threshold: float = NEAR_DUPLICATE_COSINE, block: int = 1000,
                        pairs: int = 1_000_000) -> float:
    """Share of sentences with a TF-IDF cosine >= threshold to a sentence of another article.

    Exact, without the n x n similarity matrix, by prefix filtering (Bayardo et al., 2007, "Scaling up all
    pairs similarity search"): a row's heaviest terms, up to 1 - threshold^2 of its squared weight, are its
    prefix; two rows with cosine >= threshold share a term of each one's prefix (otherwise the rest of the
    row is too light to reach it). Candidates come from prefix terms, which are rare, so memory grows with
    the corpus, not with its square.
    """
    vectors = TfidfVectorizer().fit_transform(frame["text"]).tocsr()
    vectors.sort_indices()
    prefix = vectors.copy()
    budget = 1 - threshold**2
    for i in range(prefix.shape[0]):
        start, end = prefix.indptr[i], prefix.indptr[i + 1]
        weights = prefix.data[start:end]
        order = np.argsort(-weights)
        # keep terms until what is left of the row could no longer reach the threshold on its own
        covered = np.cumsum(weights[order] ** 2)
        kept = order[: int(np.searchsorted(covered, budget, side="right")) + 1]
        mask = np.zeros(end - start, dtype=bool)
        mask[kept] = True
        prefix.data[start:end] = mask
    prefix.eliminate_zeros()
    presence = (vectors > 0).astype(np.float32)
    docs = frame["doc_id"].to_numpy()
    duplicated = np.zeros(len(frame), dtype=bool)
    for first in range(0, len(frame), block):
        rows = slice(first, min(first + block, len(frame)))
        candidates = (prefix[rows] @ presence.T).tocoo()  # row shares a prefix term of its own
        left, right = candidates.row + first, candidates.col
        keep = docs[left] != docs[right]
        left, right = left[keep], right[keep]
        for start in range(0, len(left), pairs):  # cosines of at most `pairs` candidate pairs at a time
            i, j = left[start:start + pairs], right[start:start + pairs]
            cosine = np.asarray(vectors[i].multiply(vectors[j]).sum(axis=1)).ravel()
            close = cosine >= threshold - 1e-9
            duplicated[i[close]] = True
            duplicated[j[close]] = True
    return float(duplicated.mean())


def agreement(sentences: pd.DataFrame, folder: Path) -> dict | None:
    """Cohen's kappa of the writer's and the independent annotator's labels, before adjudication, over the
    sentences the label sets cover (None when there are no label sets: they are optional)."""
    paths = {name: folder / f"{name}.csv" for name in ("writer", "annotator", "adjudication")}
    if not all(path.is_file() for path in paths.values()):
        return None
    writer, annotator, adjudication = (pd.read_csv(path, dtype=str, keep_default_na=False)
                                       for path in paths.values())
    both = writer.merge(annotator, on="sentence_id", suffixes=("_writer", "_annotator"))
    both = both.merge(sentences[["sentence_id", "target", "label"]], on="sentence_id")
    if both.empty:
        return None
    disagree = both["label_writer"] != both["label_annotator"]
    decisions = adjudication.set_index("sentence_id")
    outcome = decisions["adjudicated"]
    return {
        "sentences_covered": int(len(both)),
        "kappa": float(cohen_kappa_score(both["label_writer"], both["label_annotator"])),
        "raw_agreement": float(1 - disagree.mean()),
        "disagreements": int(disagree.sum()),
        "adjudicated_to_writer": int((outcome == decisions["writer"]).sum()),
        "adjudicated_to_annotator": int((outcome == decisions["annotator"]).sum()),
        "final_differs_from_writer": int((both["label"] != both["label_writer"]).sum()),
        "kappa_per_target": {
            target: float(cohen_kappa_score(rows["label_writer"], rows["label_annotator"]))
            for target, rows in both.groupby("target") if rows["label_writer"].nunique() > 1
        },
    }


def corpus_stats(raw_path: str | Path, annotation_folder: str | Path, test_size: float) -> dict:
    """Statistics of what the data has: the contract's columns always; style, part and tags, and the
    agreement of the label sets, when they are there. `skipped` says what was not."""
    check_trainable(load_sentences(raw_path), test_size, raw_path)  # what every later stage needs, first
    frame = pd.read_csv(raw_path, dtype=str, keep_default_na=False)
    words = frame["text"].str.split().str.len()
    per_article = frame.groupby("doc_id")
    stats = {
        **label_counts(frame),
        "label_share": {label: round(float((frame["label"] == label).mean()), 4) for label in LABELS},
        "per_target": {t: label_counts(rows) for t, rows in frame.groupby("target")},
        "words_per_sentence": {"min": int(words.min()), "median": float(words.median()),
                               "max": int(words.max())},
        "sentences_per_article": {"min": int(per_article.size().min()), "max": int(per_article.size().max())},
        "near_duplicate_rate": round(near_duplicate_rate(frame), 4),
    }
    skipped = []
    for column in ("style", "part"):
        if column in frame:
            stats[f"per_{column}"] = {value: label_counts(rows) for value, rows in frame.groupby(column)}
        else:
            skipped.append(f"per_{column} (no '{column}' column)")
    if "tags" in frame:
        stance = frame[frame["label"] != "neutral"]
        hard = stance["tags"].str.split().map(lambda tags: bool(HARD_CASE_TAGS & set(tags)))
        stats["hard_case_share_of_stance_sentences"] = round(float(hard.mean()), 4) if len(hard) else 0.0
    else:
        skipped.append("hard_case_share_of_stance_sentences (no 'tags' column)")
    stats["agreement"] = agreement(frame, Path(annotation_folder))
    if stats["agreement"] is None:
        skipped.append(f"agreement (no label sets in {annotation_folder})")
    elif stats["agreement"]["sentences_covered"] < len(frame):
        skipped.append(f"agreement of {len(frame) - stats['agreement']['sentences_covered']} sentences "
                       "without label sets")
    stats["skipped"] = skipped
    return stats


def _rounded(value):
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return round(value, 4) if isinstance(value, float) else value


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("raw", help="labelled sentences CSV")
    parser.add_argument("annotation", help="folder of writer.csv, annotator.csv, adjudication.csv (optional)")
    parser.add_argument("--out", help="write the statistics here (JSON)")
    args = parser.parse_args()
    stats = _rounded(corpus_stats(args.raw, args.annotation, load_params().prepare.test_size))
    shares = ", ".join(f"{label} {share:.1%}" for label, share in stats["label_share"].items())
    print(f"{stats['sentences']} sentences in {stats['articles']} articles: {shares}")
    print(pd.DataFrame(stats["per_target"]).T.to_string())
    if "per_style" in stats:
        print(pd.DataFrame(stats["per_style"]).T.to_string())
    if "hard_case_share_of_stance_sentences" in stats:
        print(f"hard cases: {stats['hard_case_share_of_stance_sentences']:.1%} of stance-bearing sentences")
    print(f"near-duplicates (cosine >= {NEAR_DUPLICATE_COSINE} across articles): "
          f"{stats['near_duplicate_rate']:.2%}")
    agreed = stats["agreement"]
    if agreed:
        print(f"Cohen's kappa before adjudication: {agreed['kappa']:.3f} "
              f"(raw agreement {agreed['raw_agreement']:.1%}, {agreed['disagreements']} disagreements "
              f"in {agreed['sentences_covered']} sentences; per target: "
              + ", ".join(f"{t} {k:.3f}" for t, k in agreed["kappa_per_target"].items()) + ")")
    for what in stats["skipped"]:
        print(f"skipped: {what}")
    if args.out:
        write_json(args.out, stats)

if __name__ == "__main__":
    run(main)
