"""The built-in synthetic dataset: no download, seeded, learnable but not trivial (its speed: benchmarks/bench_data.py)."""

from __future__ import annotations

import numpy as np
import pytest

from emokit import FER_CLASSES
from emokit.data import open_dataset
from emokit.records import DataRequest
from emokit.registry import build_registry
from emokit_plugins.synthetic_faces import PER_CLASS, load_synthetic


@pytest.fixture(scope="module")
def default():
    """The default request's dataset (seed 0, 48x48 gray), made once for the module."""
    return load_synthetic(DataRequest(None))


def test_default_dataset_is_synthetic_in_fer_order():
    progress: list[tuple[int, int]] = []
    dataset = open_dataset(build_registry(), None, DataRequest(source=None, progress=lambda d, t: progress.append((d, t))))
    assert dataset.name == "synthetic" and dataset.source == "synthetic"
    assert dataset.class_names == FER_CLASSES
    for split, per_class in PER_CLASS.items():
        assert dataset.counts(split) == dict.fromkeys(FER_CLASSES, per_class)
    assert dataset.splits["train"].images.shape == (400 * 7, 48, 48, 1)
    assert dataset.splits["train"].images.dtype == np.uint8
    assert progress[-1][0] == progress[-1][1] == 520 * 7


def test_seeded_and_sized(default):
    a = default
    b = load_synthetic(DataRequest(None, seed=0))
    c = load_synthetic(DataRequest(None, seed=1))
    assert np.array_equal(a.splits["test"].images, b.splits["test"].images) and a.fingerprint == b.fingerprint
    assert not np.array_equal(a.splits["test"].images, c.splits["test"].images) and a.fingerprint != c.fingerprint
    rgb = load_synthetic(DataRequest(None, image_size=(64, 56), channels=3))
    assert rgb.splits["val"].images.shape == (60 * 7, 64, 56, 3)
    colour = rgb.splits["val"].images.astype(int)
    assert np.abs(colour[..., 0] - colour[..., 1]).mean() > 2  # really RGB, not grey repeated


def test_learnable_but_not_trivial(default):
    """A linear softmax classifier (numpy, no Keras) beats chance by far yet does not solve it."""
    dataset = default

    def features(images: np.ndarray) -> np.ndarray:
        x = images[..., 0].astype(np.float32)
        x = (x - x.mean(axis=(1, 2), keepdims=True)) / (x.std(axis=(1, 2), keepdims=True) + 1e-3)
        return x.reshape(len(x), -1)

    train, test = dataset.splits["train"], dataset.splits["test"]
    x, y = features(train.images), np.eye(7, dtype=np.float32)[train.labels]
    weights = np.zeros((x.shape[1], 7), dtype=np.float32)
    for _ in range(100):
        z = x @ weights
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        weights -= 0.01 * x.T @ (p - y) / len(x)
    accuracy = float(((features(test.images) @ weights).argmax(axis=1) == test.labels).mean())
    assert 0.35 < accuracy < 0.95, accuracy  # chance is 1/7 = 0.14
