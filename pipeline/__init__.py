"""Stance classification pipeline: support / reject / neutral toward a political arrangement."""

LABELS = ("support", "reject", "neutral")
