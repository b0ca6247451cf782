"""Would lower-precision arithmetic make ingest 5 times the baseline per core? The two models'
time per run, and how far their outputs move, at fp32 (ONNX Runtime, what ships), int8 (ONNX
Runtime static quantization) and, where the ``openvino`` package is installed, OpenVINO fp32 and
bfloat16 (computed as bfloat16 only on a CPU that has it).

Real faces: aligned chips of LFW photos, the people of even rank in sorted order calibrate int8,
those of odd rank are measured (the int8 calibration never sees them). One thread per model, as
ingest runs them; each time is the median of ``--repeats`` runs of one face (SFace) or one
512x512 image (YuNet, the size a 250x250 LFW photo is seen at). The agreement with fp32 is the
cosine between the two vectors of the same face, and the largest change of a pair's score.

    .venv/bin/python benchmarks/precision_levers.py --faces 200 --repeats 100
    # for the OpenVINO rows, in another environment: pip install openvino

Ratios are against ONNX Runtime fp32 measured in the same run. ``ingest_profile.py`` gives the
rest of the ingest's cost, into which these times fit (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from faceatlas.choices import InferencePrecision
from faceatlas.config import Settings
from faceatlas.engine import EngineSpec, create_engine, decode_image
from faceatlas.engine._onnx_graph import cpu_session
from faceatlas.engine.openvino_runtime import OPENVINO_PRECISION, OpenVinoSession
from faceatlas.engine.sface_engine import RECOGNIZER_BATCHES
from faceatlas.engine.sface_models import (
    SFACE_FILE,
    YUNET_FILE,
    batched_sface,
    dynamic_yunet,
    sface_model_files,
)
from lfw_model import FACES

Floats = np.ndarray[Any, np.dtype[np.float32]]


def chip_blobs(engine: Any, people: list[Path], limit: int) -> Floats:
    """The SFace input of the first face of each person's first photo, up to ``limit``."""
    real = engine._embedder
    blobs: list[Floats] = []

    class Capture:
        def get_inputs(self) -> Any:
            return real.get_inputs()

        def get_outputs(self) -> Any:
            return real.get_outputs()

        def run(self, out: Any, feeds: dict[str, Floats]) -> Any:
            blobs.append(next(iter(feeds.values())).copy())
            return real.run(out, feeds)

    engine._embedder = Capture()
    try:
        for person in people:
            if len(blobs) >= limit:
                break
            image = decode_image(sorted(person.glob("*.jpg"))[0].read_bytes(), max_pixels=10**7)
            faces = engine.detect(image.pixels)
            if faces:
                engine.embed_chips([engine.align(image.pixels, faces[0])])
    finally:
        engine._embedder = real
    return np.concatenate(blobs)


def median_ms(run: Callable[[], object], repeats: int) -> float:
    run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def unit(x: Floats) -> Floats:
    out: Floats = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def agreement(ref: Floats, other: Floats) -> str:
    a, b = unit(ref), unit(other)
    cos = (a * b).sum(axis=1)
    upper = np.triu_indices(len(a), 1)
    moved = np.abs((a @ a.T)[upper] - (b @ b.T)[upper])
    return (
        f"cosine to fp32 median {np.median(cos):.5f}, lowest {cos.min():.5f}; "
        f"pair scores move up to {moved.max():.4f}"
    )


def int8_sface(model: bytes, calibration: Floats, folder: Path) -> bytes:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.left = list(calibration)

        def get_next(self) -> dict[str, Floats] | None:
            return {"data": self.left.pop()[None]} if self.left else None

    source, target = folder / "sface.onnx", folder / "sface-int8.onnx"
    source.write_bytes(model)
    quantize_static(
        str(source),
        str(target),
        Reader(),
        quant_format=QuantFormat.QDQ,
        weight_type=QuantType.QInt8,
        activation_type=QuantType.QUInt8,
        per_channel=True,
        calibrate_method=CalibrationMethod.MinMax,
    )
    return target.read_bytes()


def openvino_static(model: bytes, shape: list[int], precision: str) -> Callable[[Floats], Floats]:
    """``model`` compiled by OpenVINO for one input ``shape``, as the product's sessions are
    configured (:class:`faceatlas.engine.openvino_runtime.OpenVinoSession`): for YuNet, which
    the product runs on ONNX Runtime only."""
    import openvino as ov  # an optional package: the rows are skipped without it

    core = ov.Core()
    net = core.read_model(model=model)
    net.reshape(shape)
    compiled = core.compile_model(
        net,
        "CPU",
        {
            "INFERENCE_NUM_THREADS": 1,
            "NUM_STREAMS": 1,
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": precision,
        },
    )
    request = compiled.create_infer_request()

    def run(x: Floats) -> Floats:
        return np.asarray(next(iter(request.infer({0: x}).values())), dtype=np.float32)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", type=int, default=200, help="faces to calibrate and to measure")
    parser.add_argument("--repeats", type=int, default=100)
    args = parser.parse_args()

    engine = create_engine(EngineSpec.from_settings(Settings()))
    engine.load()
    people = sorted(d for d in (FACES / "lfw" / "images").iterdir() if d.is_dir())
    print(f"aligning {args.faces} faces of each half of LFW's people ...", flush=True)
    calibration = chip_blobs(engine, people[0::2], args.faces)
    measured = chip_blobs(engine, people[1::2], args.faces)
    files = sface_model_files()
    sface = batched_sface(files[SFACE_FILE])
    yunet = dynamic_yunet(files[YUNET_FILE])
    image = np.random.default_rng(0).random((1, 3, 512, 512), dtype=np.float32) * 255

    fp32 = cpu_session(sface)
    runners: dict[str, Callable[[Floats], Floats]] = {
        "onnxruntime fp32 (ships)": lambda x: fp32.run(None, {"data": x})[0],
    }
    print("quantizing SFace to int8 ...", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        int8 = cpu_session(int8_sface(sface, calibration, Path(tmp)))
    runners["onnxruntime int8 (static, QDQ)"] = lambda x: int8.run(None, {"data": x})[0]
    yunet_session = cpu_session(yunet)
    detectors: dict[str, Callable[[], object]] = {
        "onnxruntime fp32 (ships)": lambda: cpu_session_run(yunet_session, image),
    }
    try:
        for precision in InferencePrecision:
            # SFace as the opt-in runtime runs it (FACEATLAS_INFERENCE_RUNTIME=openvino)
            session = OpenVinoSession(sface, precision, static_batches=RECOGNIZER_BATCHES)
            runners[f"openvino {precision}"] = lambda x, s=session: s.run(None, {"data": x})[0]
            run_yunet = openvino_static(yunet, [1, 3, 512, 512], OPENVINO_PRECISION[precision])
            detectors[f"openvino {precision}"] = lambda run=run_yunet: run(image)
    except ImportError:
        print("openvino is not installed: its rows are left out (pip install openvino)")

    reference = np.concatenate([runners["onnxruntime fp32 (ships)"](b[None]) for b in measured])
    print(f"\nSFace, one face, median of {args.repeats}; {len(measured)} faces compared")
    base = 0.0
    for name, run in runners.items():
        ms = median_ms(lambda run=run: run(measured[:1]), args.repeats)
        base = base or ms
        vectors = np.concatenate([run(b[None]) for b in measured])
        print(f"  {name:32s} {ms:6.2f} ms  x{base / ms:4.2f}  {agreement(reference, vectors)}")
    print(f"\nYuNet, one 512x512 image, median of {args.repeats}")
    base = 0.0
    for name, detect in detectors.items():
        ms = median_ms(detect, args.repeats)
        base = base or ms
        print(f"  {name:32s} {ms:6.2f} ms  x{base / ms:4.2f}")


def cpu_session_run(session: Any, image: Floats) -> object:
    return session.run(None, {session.get_inputs()[0].name: image})


if __name__ == "__main__":
    main()
