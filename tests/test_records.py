"""The record building blocks every package declares its records and their JSON views with."""

from __future__ import annotations

import dataclasses
import json
from enum import StrEnum

import pytest

from faceatlas.types import JsonRecord, picked, record, record_as, record_dict


class Colour(StrEnum):
    RED = "red"


@record
class Score(JsonRecord):
    value: float
    colour: Colour


@record
class Report(JsonRecord):
    name: str
    scores: tuple[Score, ...]
    by_group: dict[str, Score]
    counts: dict[str, tuple[int, ...]]


@record
class Named:
    name: str
    total: int


def test_a_record_is_frozen_slotted_and_compared_by_value() -> None:
    s = Score(0.5, Colour.RED)
    assert dataclasses.is_dataclass(s) and not hasattr(s, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.value = 1.0  # type: ignore[misc]
    assert s == Score(0.5, Colour.RED) and s != Score(0.25, Colour.RED)


def test_json_view_plains_nested_records_enums_and_dict_values() -> None:
    report = Report(
        "r",
        (Score(0.123456, Colour.RED),),
        {"a": Score(1.0, Colour.RED)},
        {"b": (1, 2)},
    )
    expected = {
        "name": "r",
        "scores": [{"value": 0.123456, "colour": "red"}],
        "by_group": {"a": {"value": 1.0, "colour": "red"}},
        "counts": {"b": [1, 2]},
    }
    assert report.as_dict() == expected
    assert json.loads(json.dumps(report.as_dict())) == expected
    assert record_dict(Score(0.123456, Colour.RED), digits=2) == {"value": 0.12, "colour": "red"}


def test_record_as_takes_same_named_fields_and_given_ones() -> None:
    source = Report("kept", (), {}, {})
    assert record_as(Named, source, total=3) == Named("kept", 3)
    with pytest.raises(AttributeError):
        record_as(Named, Score(0.1, Colour.RED), total=3)


def test_picked_names_attributes_in_order() -> None:
    s = Score(0.5, Colour.RED)
    assert list(picked(s, "colour", "value").items()) == [("colour", Colour.RED), ("value", 0.5)]
