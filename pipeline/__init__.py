"""Stance classification pipeline: support / reject / neutral toward a political arrangement."""

LABELS = ("support", "reject", "neutral")
STANCE_LABELS = ("support", "reject")  # f_avg, the usual stance metric, averages F1 over these two
SELECTION_METRICS = ("macro_f1", "f_avg", "accuracy")  # what the search can maximise
# How the MiniLM encoder computes (pipeline/models/minilm.py).
EMBEDDING_PRECISIONS = ("float32", "bfloat16", "int8")
ENCODER_LAYERS = 6  # all-MiniLM-L6-v2's transformer layers; an embedder may keep only the first ones
