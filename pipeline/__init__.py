"""Stance classification pipeline: support / reject / neutral toward a political arrangement."""

LABELS = ("support", "reject", "neutral")
STANCE_LABELS = ("support", "reject")  # f_avg, the usual stance metric, averages F1 over these two
SELECTION_METRICS = ("macro_f1", "f_avg", "accuracy")  # what the search can maximise
# How the MiniLM encoder computes (pipeline/models/minilm.py), and the most sentences the pipeline puts in
# one run of it: float32 pads a run to its longest sentence (64 scored 10-15% slower than 16); bfloat16
# runs sentences of one token count (64 was 7% faster than 16); int8 encodes a sentence at a time.
ENCODER_RUN_SIZES = {"float32": 16, "bfloat16": 64, "int8": 1}
EMBEDDING_PRECISIONS = tuple(ENCODER_RUN_SIZES)
ENCODER_LAYERS = 6  # all-MiniLM-L6-v2's transformer layers; an embedder may keep only the first ones
