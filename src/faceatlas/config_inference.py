"""The inference settings, a group that :class:`faceatlas.config.Settings` takes in: what runs
the sface engine's models, in which arithmetic (docs/operations.md#hardware-acceleration), how
many images ingest analyses together, and how many bytes of files it holds for analysis.
The execution providers of ONNX Runtime stay beside the engine settings in ``config.py``."""

from __future__ import annotations

from pydantic import BaseModel, Field

from faceatlas.choices import InferencePrecision, InferenceRuntime

__all__ = ["ANALYSIS_GROUP", "INGEST_WINDOW_BYTES", "InferenceSettings"]

ANALYSIS_GROUP = 8
"""Images an ingest worker analyses together by default (their faces embedded in one batch)."""
INGEST_WINDOW_BYTES = 256 << 20
"""Bytes of fetched files an ingest run holds for analysis at once, by default."""


class InferenceSettings(BaseModel):
    inference_runtime: InferenceRuntime = Field(
        default=InferenceRuntime.ONNXRUNTIME,
        description="What runs the sface engine's models: onnxruntime (on the execution "
        "providers) or openvino (its CPU plugin).",
    )
    inference_precision: InferencePrecision = Field(
        default=InferencePrecision.FP32,
        description="Arithmetic of the models: fp32, or bf16 (openvino only; bf16 where the "
        "CPU computes it, fp32 elsewhere). Pair scores move by up to 0.007 against fp32.",
    )
    analysis_group: int = Field(
        default=ANALYSIS_GROUP,
        ge=1,
        le=64,
        description="Images an ingest worker analyses together; their faces go through the "
        "recognizer in one batch.",
    )
    ingest_window_bytes: int = Field(
        default=INGEST_WINDOW_BYTES,
        ge=1 << 20,
        description="Bytes of files an ingest run holds for analysis at once (being read, "
        "read, queued or in a worker); past it no new item is read until analysis frees room.",
    )
