"""Predictor: the Keras model of a run, called directly; on torch, small batches through traced graphs."""

from __future__ import annotations

import numpy as np

from emokit.predictor import Predictor, probabilities
from emokit.registry import build_registry


def test_torch_small_batches_are_traced_and_answer_like_the_eager_model(trained_run):
    predictor = Predictor(trained_run, build_registry(), "torch")
    rng = np.random.default_rng(1)
    for n in (1, 3, 1, 3, 12):  # 12 > max_batch: eager
        faces = rng.integers(0, 256, (n, 48, 48, 1), dtype=np.uint8)
        got = predictor.probabilities(faces)
        np.testing.assert_allclose(got, probabilities(predictor.model, predictor.keras, faces), atol=1e-5)
        assert got.shape == (n, 7) and got.dtype == np.float32
    traced = predictor._torch_call
    assert traced.enabled and set(traced._traced) == {(1, 48, 48, 1), (3, 48, 48, 1)}
    assert predictor.probabilities(np.zeros((0, 48, 48, 1), np.uint8)).shape == (0, 7)


def test_a_model_that_cannot_be_traced_stays_eager(trained_run, monkeypatch):
    import torch

    predictor = Predictor(trained_run, build_registry(), "torch")

    def broken(*args, **kwargs):
        raise RuntimeError("cannot trace")

    monkeypatch.setattr(torch.jit, "trace", broken)
    faces = np.random.default_rng(2).integers(0, 256, (2, 48, 48, 1), dtype=np.uint8)
    first, second = predictor.probabilities(faces), predictor.probabilities(faces)
    np.testing.assert_allclose(first, second, atol=1e-6)
    assert not predictor._torch_call.enabled
