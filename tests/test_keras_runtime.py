"""The keras runtime: a run's Keras model called directly; on torch, small batches through traced graphs
(plugins/torch_inference.py)."""

from __future__ import annotations

import numpy as np
import pytest

from emokit.inference.keras_model import model_probabilities
from emokit.inference.runtimes import open_runtime
from emokit.registry import build_registry

pytestmark = pytest.mark.slow  # the trained_run fixture trains


def test_torch_small_batches_are_traced_and_answer_like_the_eager_model(trained_run):
    runtime = open_runtime(trained_run, build_registry(), "keras", backend="torch")
    assert runtime.label == "keras+torch"
    rng = np.random.default_rng(1)
    for n in (1, 3, 1, 3, 12):  # 12 > max_batch: eager
        faces = rng.integers(0, 256, (n, 48, 48, 1), dtype=np.uint8)
        got = runtime.probabilities(faces)
        np.testing.assert_allclose(got, model_probabilities(runtime.model, runtime.keras, faces), atol=1e-5)
        assert got.shape == (n, 7) and got.dtype == np.float32
    traced = runtime._traced
    assert traced.enabled and set(traced._traced) == {(1, 48, 48, 1), (3, 48, 48, 1)}
    assert runtime.probabilities(np.zeros((0, 48, 48, 1), np.uint8)).shape == (0, 7)


def test_a_model_that_cannot_be_traced_stays_eager(trained_run, monkeypatch):
    import torch

    runtime = open_runtime(trained_run, build_registry(), "keras", backend="torch")

    def broken(*args, **kwargs):
        raise RuntimeError("cannot trace")

    monkeypatch.setattr(torch.jit, "trace", broken)
    faces = np.random.default_rng(2).integers(0, 256, (2, 48, 48, 1), dtype=np.uint8)
    first, second = runtime.probabilities(faces), runtime.probabilities(faces)
    np.testing.assert_allclose(first, second, atol=1e-6)
    assert not runtime._traced.enabled
