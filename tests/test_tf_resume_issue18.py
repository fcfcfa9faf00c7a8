"""Issue #18 on TensorFlow: a resumed run continues the uninterrupted run's random state, data order
included (the tensorflow backend feeds ``model.fit`` its own ``tf.data`` pipeline, ``fit_data``)."""

from __future__ import annotations

import pytest

from cli_utils import emokit_process
from conftest import require_backend
from emokit.runs import find_run
from test_training_issue18 import TINY_FLAGS

#: The torch test's tiny training and augmentations, on the tensorflow backend.
FLAGS = [*TINY_FLAGS[:TINY_FLAGS.index("--backend")], "--backend", "tensorflow", "--aug", "flip", "--aug", "rotation=degrees=10"]


@pytest.mark.slow
def test_a_resumed_tensorflow_run_repeats_the_uninterrupted_one(tmp_path):
    """Epochs 1-2 in one process, and epoch 1 then epoch 2 in a new process, give the same history."""
    require_backend("tensorflow")
    runs = {}
    for name, epochs in (("whole", "2"), ("split", "1")):
        done = emokit_process("train", *FLAGS, "--epochs", epochs, "--out", str(tmp_path / name), backend="tensorflow", timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        runs[name] = find_run("latest", tmp_path / name)
    resumed = emokit_process("train", "--resume", str(runs["split"].path), "--epochs", "2", backend="tensorflow", timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    first, second = runs["whole"].history(), runs["split"].history()
    assert len(second["loss"]) == 2
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"):
        assert second[key] == pytest.approx(first[key], abs=1e-5), key
