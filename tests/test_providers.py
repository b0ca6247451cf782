"""Execution providers: an accelerator that this onnxruntime cannot use falls back to CPU, with
the reason logged and shown by ``faceatlas models``; CPU stays the default."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from faceatlas.choices import ExecutionProvider
from faceatlas.cli import app
from faceatlas.config import Settings
from faceatlas.engine import EngineSpec, create_engine
from faceatlas.engine.providers import available_providers, choose_providers, providers_of

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"


def test_providers_are_taken_in_order_and_cpu_comes_last() -> None:
    offered = [CUDA, "OpenVINOExecutionProvider", CPU]
    choice = choose_providers(
        (ExecutionProvider.CPU, ExecutionProvider.OPENVINO, ExecutionProvider.CUDA), offered
    )
    assert choice.active == ("OpenVINOExecutionProvider", CUDA, CPU)
    assert not choice.fell_back
    missing = choose_providers((ExecutionProvider.TENSORRT, ExecutionProvider.CUDA), [CUDA, CPU])
    assert missing.active == (CUDA, CPU)
    assert missing.reasons[0].startswith("tensorrt: not available in this onnxruntime build")
    started = missing.with_session([CPU])  # offered, but the session could not start CUDA
    assert started.active == (CPU,)
    assert started.reasons[-1] == f"{CUDA}: could not start; ONNX Runtime left it"
    assert Settings().execution_providers == (ExecutionProvider.CPU,)
    assert Settings(execution_providers="cuda, cpu").execution_providers == (  # type: ignore[arg-type]
        ExecutionProvider.CUDA,
        ExecutionProvider.CPU,
    )
    with pytest.raises(ValueError, match="execution_providers"):
        Settings(execution_providers="gpu")  # type: ignore[arg-type]


def test_an_unavailable_accelerator_falls_back_to_cpu_with_the_reason_shown(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, probe_photos: Path
) -> None:
    if CUDA in available_providers():  # pragma: no cover - an onnxruntime-gpu installation
        pytest.skip("this onnxruntime offers CUDA: nothing to fall back from")
    monkeypatch.setenv("FACEATLAS_EXECUTION_PROVIDERS", "cuda")
    caplog.set_level(logging.WARNING, logger="faceatlas.engine.providers")
    result = CliRunner().invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["execution_providers"]["requested"] == ["cuda"]
    assert shown["execution_providers"]["active"] == [CPU]
    (reason,) = shown["execution_providers"]["fallback_reasons"]
    assert reason.startswith("cuda: not available in this onnxruntime build")
    assert "onnxruntime-gpu" in reason
    assert [r.getMessage() for r in caplog.records] == [
        f"execution provider fallback to CPU: {reason}"
    ]
    table = CliRunner().invoke(app, ["models"], env={"COLUMNS": "300"})
    assert (
        table.exit_code == 0 and "fell back to CPU" in table.stdout and "cuda: not" in table.stdout
    )

    # the engine on the fallback computes what the CPU default computes
    from faceatlas.engine import analyze_faces, decode_image

    image = decode_image(
        (probe_photos / "obama1.jpg").read_bytes(), max_pixels=10**8, max_bytes=10**8
    ).pixels
    vectors = []
    for providers in ((ExecutionProvider.CUDA,), (ExecutionProvider.CPU,)):
        engine = create_engine(EngineSpec(execution_providers=providers))
        vectors.append(analyze_faces(engine, image, thumbnail_px=64)[0].embedding)
        choice = providers_of(engine)
        assert choice is not None and choice.active == (CPU,)
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-6)
