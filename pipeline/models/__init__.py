"""Model families: every one is a body (text -> features) and a head (features -> labels) composed into one
scikit-learn Pipeline that takes raw text and is saved, logged and scored as one object.

    inputs.py            what a model accepts (list of texts, or a DataFrame with `text` and `target`)
    tfidf.py             the TF-IDF body (word and character n-grams), fitted by the `featurize` stage
    features.py          StanceFeatures: lays the body's blocks out, with one block per target if target-aware
    minilm.py            the shipped all-MiniLM-L6-v2: loading it offline, and its sentence-embedding body
    nbsvm.py             the NB-SVM head
    finetuned_minilm.py  the finetuned-minilm head, which reads raw text
    families.py          the registry: family name -> body and head; building, loading and trusting models
    inspection.py        what a fitted model uses and which features drive its labels

Stages import the module they need, not this package, so each stage's declared deps stay exact.
"""
