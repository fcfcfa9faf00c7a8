"""Test-time augmentation: the views are the right crops and mirrors, and a real model's TTA
probabilities are the mean over them, through evaluate and predict."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

from emokit.errors import EmokitError
from emokit.inference.runtimes import open_runtime
from emokit.registry import build_registry
from emokit.runs import Run
from emokit.inference.tta import AveragedViews, five_crops, tta_views, with_tta
from cli_utils import run_cli


def gradient_faces(n: int = 3, size: int = 48, channels: int = 1) -> np.ndarray:
    """Images whose every pixel is distinct (value = row * 3 + column), so crops and mirrors are checkable."""
    rows, cols = np.mgrid[0:size, 0:size]
    image = ((rows * 3 + cols) % 256).astype(np.uint8)
    return np.repeat(np.repeat(image[None, :, :, None], n, axis=0), channels, axis=3)


@pytest.mark.parametrize("channels", [1, 3])
def test_ten_crop_views_are_corner_and_centre_crops_and_their_mirrors(channels):
    images = gradient_faces(channels=channels)
    views = tta_views(images, "ten-crop")
    assert len(views) == 10
    assert all(v.shape == images.shape and v.dtype == np.uint8 for v in views)
    # Views come in (crop, mirror) pairs; the crops are centre, then top-left, top-right, bottom-left, bottom-right.
    for crop, mirror in zip(views[::2], views[1::2]):
        np.testing.assert_array_equal(mirror, crop[:, :, ::-1])
    expected = [(1, 1), (0, 0), (0, 3), (3, 0), (3, 3)]  # 45-pixel crops of a 48-pixel face
    for view, (top, left) in zip(views[::2], expected):
        crop = images[0, top:top + 45, left:left + 45, 0]
        np.testing.assert_array_equal(view[0, :, :, 0], cv2.resize(crop, (48, 48), interpolation=cv2.INTER_LINEAR))


def test_flip_and_none_views():
    images = gradient_faces()
    none, = tta_views(images, "none")
    assert none is images
    plain, mirror = tta_views(images, "flip")
    np.testing.assert_array_equal(mirror[:, :, 0], images[:, :, -1])
    empty = five_crops(images[:0])  # an empty batch (no face found) stays empty rather than failing
    assert len(empty) == 5 and all(v.shape == (0, 48, 48, 1) for v in empty)


def test_unknown_mode_names_the_modes():
    with pytest.raises(EmokitError, match="Unknown test-time augmentation 'sideways'. Available: none, flip, ten-crop"):
        tta_views(gradient_faces(), "sideways")


@pytest.mark.slow
def test_tta_probabilities_are_the_mean_over_views_of_a_real_model(trained_run: Run):
    predictor = open_runtime(trained_run, build_registry(), "keras", backend="torch")
    faces = np.random.default_rng(0).integers(0, 256, (5, 48, 48, 1), dtype=np.uint8)
    assert with_tta(predictor, "none") is predictor
    for mode in ("flip", "ten-crop"):
        tta = with_tta(predictor, mode)
        assert isinstance(tta, AveragedViews) and tta.label == f"keras+torch+{mode}"
        expected = np.mean([predictor.probabilities(view) for view in tta_views(faces, mode, predictor.preprocessing.tta_crop)],
                           axis=0)
        np.testing.assert_allclose(tta.probabilities(faces), expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(tta.probabilities(faces).sum(axis=1), 1.0, rtol=1e-5)
        assert tta.probabilities(faces[:0]).shape == (0, len(predictor.class_names))  # a photo with no face


@pytest.fixture()
def run_copy(trained_run, tmp_path):
    """A private copy of the trained run, so evaluations written here do not touch the shared one."""
    return Run(shutil.copytree(trained_run.path, tmp_path / trained_run.name, ignore=shutil.ignore_patterns("checkpoint")))


@pytest.mark.slow
def test_evaluate_with_ten_crop_is_labelled_and_agrees_with_single_pass(run_copy, capsys):
    code, out, err = run_cli(capsys, "evaluate", str(run_copy.path), "--backend", "torch", "--tta", "ten-crop", "--json")
    assert code == 0, err
    ten_crop = json.loads(out)["test"]
    assert (run_copy.path / "evaluations" / "keras+torch+ten-crop" / "confusion_test.png").exists()
    code, out, err = run_cli(capsys, "evaluate", str(run_copy.path), "--backend", "torch", "--json")
    single = json.loads(out)["test"]
    # The synthetic faces are easy: averaging over crops must not break a model that learned them.
    assert ten_crop["accuracy"] >= single["accuracy"] - 0.05 and ten_crop["accuracy"] > 0.5


@pytest.mark.slow
def test_bad_tta_mode_is_one_line(run_copy, capsys):
    for command in ("evaluate", "predict"):
        extra = [] if command == "evaluate" else [str(run_copy.path / "plots" / "curves.png"), "--no-detect"]
        code, out, err = run_cli(capsys, command, str(run_copy.path), *extra, "--tta", "sideways")
        assert code != 0 and "Unknown test-time augmentation 'sideways'. Available: none, flip, ten-crop" in err + out
        assert "Traceback" not in err + out


@pytest.mark.slow
def test_predict_with_tta_answers_per_face(run_copy, capsys, tmp_path):
    from emokit_plugins.synthetic_faces import draw_face

    path = tmp_path / "smile.png"
    cv2.imwrite(str(path), draw_face(np.random.default_rng(0), 3, (48, 48), 1))
    code, out, err = run_cli(capsys, "predict", str(run_copy.path), str(path), "--no-detect", "--json", "--tta", "ten-crop",
                             "--backend", "torch")
    assert code == 0, err
    face, = json.loads(out)[0]["faces"]
    assert face["emotion"] == "happy" and abs(sum(face["probabilities"].values()) - 1) < 1e-4
