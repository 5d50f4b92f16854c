"""The TF-IDF body: word n-grams carry the stance cues; character n-grams add robustness to inflection and
names. No stop-word list: "not", "no" and "never" carry stance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

if TYPE_CHECKING:  # pydantic takes a while to import; scoring needs no params
    from pipeline.params import TfidfParams


def build_tfidf(params: TfidfParams) -> FeatureUnion:
    shared = {"max_features": params.max_features, "sublinear_tf": params.sublinear_tf,
              "lowercase": params.lowercase}
    words = TfidfVectorizer(analyzer="word", ngram_range=(1, params.word_ngram_max),
                            min_df=params.word_min_df, **shared)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(params.char_ngram_min, params.char_ngram_max),
                            min_df=params.char_min_df, **shared)
    return FeatureUnion([("words", words), ("chars", chars)])
