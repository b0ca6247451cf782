"""Verification metrics against hand-computed cases, and the LFW command end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from faceatlas.cli import app
from faceatlas.eval.datasets import read_lfw_pairs
from faceatlas.eval.metrics import (
    auc,
    best_accuracy_threshold,
    k_fold_accuracy,
    roc_curve,
    tar_at_far,
    threshold_at_far,
)


def test_roc_points_by_hand() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    labels = np.array([1, 1, 0, 1, 0, 0])
    curve = roc_curve(scores, labels)
    # thresholds: inf, .9, .8, .7, .6, .5, .4
    assert curve.tar.tolist() == pytest.approx([0, 1 / 3, 2 / 3, 2 / 3, 1, 1, 1])
    assert curve.far.tolist() == pytest.approx([0, 0, 0, 1 / 3, 1 / 3, 2 / 3, 1])
    # area: 2/3 of the negatives are ranked below all... exact AUC = P(pos > neg) = 8/9
    assert auc(curve) == pytest.approx(8 / 9)


def test_tar_at_far_by_hand() -> None:
    impostors = np.linspace(0.0, 0.999, 1000)  # top impostor 0.999, next 0.998
    genuine = np.array([0.9985, 0.9995, 0.5, 1.0])
    scores = np.r_[genuine, impostors]
    labels = np.r_[np.ones(4, int), np.zeros(1000, int)]
    tar, t = tar_at_far(scores, labels, 1e-3)  # one false accept allowed: accept above 0.998
    assert 0.998 < t <= 0.999
    assert tar == pytest.approx(3 / 4)
    assert threshold_at_far(impostors, 0.0) > 0.999


def test_best_threshold_and_folds_by_hand() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    labels = np.array([0, 0, 0, 1, 1, 1])
    assert best_accuracy_threshold(scores, labels) == pytest.approx(0.5)
    accs, thresholds = k_fold_accuracy(scores, labels, np.array([0, 1, 2, 0, 1, 2]))
    assert accs == [1.0, 1.0, 1.0]
    assert all(0.3 < t < 0.7 for t in thresholds)


def test_lfw_pairs_file_parses(faces_dir: Path) -> None:
    pairs = read_lfw_pairs(faces_dir / "lfw/pairs.txt", faces_dir / "lfw/images")
    assert len(pairs) == 6000
    assert sum(p.same for p in pairs) == 3000
    assert {p.fold for p in pairs} == set(range(10))
    assert all(p.a.is_file() and p.b.is_file() for p in pairs[:50])


def test_eval_lfw_command_on_a_subset(faces_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "lfw",
            str(faces_dir / "lfw/pairs.txt"),
            str(faces_dir / "lfw/images"),
            "--limit",
            "40",
            "--json",
            "--cache-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["pairs"] == 40 and report["folds"] == 10
    assert report["mean_accuracy"] >= 0.9
    assert 0.9 <= report["roc_auc"] <= 1.0
