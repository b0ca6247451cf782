"""Detection recall on the annotated group photos with the default setting (HOG, upsample 1)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from faceatlas.config import Settings
from faceatlas.engine import EngineSpec, create_engine, decode_image
from faceatlas.types import Box


def annotated(voc: Path) -> dict[Path, list[Box]]:
    truth: dict[Path, list[Box]] = {}
    for xml_name in ("training.xml", "testing.xml"):
        for image in ET.parse(voc / xml_name).getroot().iter("image"):
            boxes = truth.setdefault(voc / image.attrib["file"], [])
            for b in image.iter("box"):
                if b.attrib.get("ignore") == "1":
                    continue
                left, top = int(b.attrib["left"]), int(b.attrib["top"])
                boxes.append(
                    Box(left, top, left + int(b.attrib["width"]), top + int(b.attrib["height"]))
                )
    return truth


def test_default_detector_recall_at_least_90_percent(faces_dir: Path) -> None:
    truth = annotated(faces_dir / "groups/dlib_voc")
    engine = create_engine(EngineSpec.from_settings(Settings()))
    found = total = 0
    for path, boxes in truth.items():
        detections = engine.detect(decode_image(path.read_bytes(), max_pixels=40_000_000).pixels)
        total += len(boxes)
        found += sum(any(d.box.iou(b) >= 0.5 for d in detections) for b in boxes)
    assert total > 30
    assert found / total >= 0.90, f"recall {found}/{total}"
