"""The OpenVINO runtime of the sface engine (bfloat16 where the CPU computes it): the same faces
as ONNX Runtime in fp32 on real photos, embeddings within a stated cosine, settings that refuse
what cannot work, and ``faceatlas models`` saying what runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from faceatlas.choices import EngineName, InferencePrecision, InferenceRuntime
from faceatlas.cli import app
from faceatlas.config import Settings
from faceatlas.engine import EngineSpec, analyze_faces, create_engine, decode_image
from faceatlas.errors import ConfigError
from faceatlas.eval.embed import _cache_file

BF16 = EngineSpec(
    inference_runtime=InferenceRuntime.OPENVINO, inference_precision=InferencePrecision.BF16
)
MIN_COSINE = 0.999
"""bfloat16 against fp32, per face (``docs/operations.md``: 0.9995 or more on 434 LFW faces)."""


def test_the_settings_refuse_what_cannot_work(tmp_path: Path) -> None:
    default = Settings()
    assert (default.inference_runtime, default.inference_precision) == ("onnxruntime", "fp32")
    with pytest.raises(ValidationError, match="inference_runtime"):
        Settings(inference_runtime="tensorflow")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="inference_precision"):
        Settings(inference_precision="fp16")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="bf16 needs inference_runtime=openvino"):
        create_engine(EngineSpec(inference_precision=InferencePrecision.BF16))
    with pytest.raises(ConfigError, match=r"engine dlib runs on .* not inference_runtime=openvino"):
        create_engine(EngineSpec.for_engine(EngineName.DLIB, inference_runtime="openvino"))
    # the evaluation cache's key on the default runtime has no runtime in it (the file name
    # SFace's vectors had before runtimes were a setting, at engine revision 3: the tilted
    # second looks), and takes a new one on another
    model = "sface-2021dec-int8bq"
    default_key = _cache_file(tmp_path, EngineSpec(), model, [])
    assert default_key == tmp_path / "embeddings" / f"{model}-410adcfd9defcdd0.npz"
    assert _cache_file(tmp_path, BF16, model, []) != default_key


def test_openvino_bf16_finds_the_same_faces_and_close_embeddings(
    lfw_sample: list[Path], probe_photos: Path, faces_dir: Path
) -> None:
    photos = [
        *lfw_sample[:4],
        probe_photos / "obama_and_biden.jpg",
        probe_photos / "kit_with_rose.jpg",
        faces_dir / "groups" / "dlib_voc" / "2008_002470.jpg",
    ]
    plain, openvino = create_engine(EngineSpec()), create_engine(BF16)
    faces = 0
    for photo in photos:
        image = decode_image(photo.read_bytes(), max_pixels=10**8, max_bytes=10**8).pixels
        ours = analyze_faces(openvino, image, thumbnail_px=64)
        theirs = analyze_faces(plain, image, thumbnail_px=64)
        assert len(ours) == len(theirs) >= 1, photo.name
        for a, b in zip(ours, theirs, strict=True):
            corners = np.subtract(
                (a.box.left, a.box.top, a.box.right, a.box.bottom),
                (b.box.left, b.box.top, b.box.right, b.box.bottom),
            )
            assert np.abs(corners).max() <= 1, (photo.name, a.box, b.box)
            assert float(a.embedding @ b.embedding) >= MIN_COSINE, photo.name
        faces += len(ours)
    assert faces >= len(photos) + 3


def test_faceatlas_models_shows_the_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = json.loads(CliRunner().invoke(app, ["models", "--json"]).stdout)
    assert plain["runtime"] == {
        "runtime": "onnxruntime",
        "precision": "fp32",
        "computes": "f32",
        "cpu_bf16": None,
    }
    monkeypatch.setenv("FACEATLAS_INFERENCE_RUNTIME", "openvino")
    monkeypatch.setenv("FACEATLAS_INFERENCE_PRECISION", "bf16")
    shown = json.loads(CliRunner().invoke(app, ["models", "--json"]).stdout)["runtime"]
    assert shown["runtime"] == "openvino" and shown["precision"] == "bf16"
    assert isinstance(shown["cpu_bf16"], bool)
    assert shown["computes"] == ("bf16" if shown["cpu_bf16"] else "f32")
    table = CliRunner().invoke(app, ["models"], env={"COLUMNS": "300"})
    assert table.exit_code == 0
    assert f"openvino, bf16 (computed as {shown['computes']}" in table.stdout


def test_a_batch_runs_in_compiled_chunks_with_each_face_as_alone(lfw_sample: list[Path]) -> None:
    engine = create_engine(BF16)
    chips = []
    for photo in lfw_sample[:11]:
        image = decode_image(photo.read_bytes(), max_pixels=10**8, max_bytes=10**8).pixels
        chips.append(engine.align(image, engine.detect(image)[0]))
    together = engine.embed_chips(chips)  # 11 faces: chunks of 8, 2 and 1
    alone = np.concatenate([engine.embed_chips([chip]) for chip in chips])
    assert together.shape == alone.shape == (11, 128)
    assert float(np.min(np.sum(together * alone, axis=1))) >= 0.9999
    assert engine.embed_chips([]).shape == (0, 128)
