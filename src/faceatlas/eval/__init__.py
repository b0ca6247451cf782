"""Evaluation: datasets, metrics, protocols and reports."""

from faceatlas.eval.embed import EmbeddingSet, embed_photos
from faceatlas.eval.lfw import VerificationReport, run_lfw

__all__ = ["EmbeddingSet", "VerificationReport", "embed_photos", "run_lfw"]
