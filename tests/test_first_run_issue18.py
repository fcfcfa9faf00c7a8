"""Issue #18, new users' first run: a torch run prints no TensorFlow start-up noise, and imports no TensorFlow.

Keras's ``set_random_seed`` imports TensorFlow whenever it is installed; its oneDNN/absl lines then
land on stderr of a torch run. (JAX, when installed, sets ``TF_CPP_MIN_LOG_LEVEL=1`` on import and
hides most of them, so the subprocess here sets it to 0, as a torch-plus-TensorFlow install has it.)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest

from conftest import require_backend
from tests.cli_utils import emokit_process

#: What TensorFlow prints when it starts: absl's preamble, oneDNN, CPU-feature and CUDA notices.
TENSORFLOW_NOISE = re.compile(r"absl::|oneDNN|cpu_feature_guard|cuda|tensorflow", re.IGNORECASE)

SEEDING = textwrap.dedent("""
    import json, sys
    import numpy as np
    from emokit.backend import load_keras, set_random_seed
    from emokit.registry import build_registry

    _, keras = load_keras(build_registry(), "torch")

    def draws():
        import random, torch
        return [random.random(), float(np.random.rand()), float(torch.rand(1)),
                float(keras.ops.convert_to_numpy(keras.random.uniform((1,)))[0])]

    set_random_seed(keras, 3)
    ours = draws()
    imported = "tensorflow" in sys.modules
    keras.utils.set_random_seed(3)
    print(json.dumps({"ours": ours, "keras": draws(), "tensorflow_imported": imported}))
""")


def _pytest_env() -> dict[str, str]:
    return {**os.environ, "KERAS_BACKEND": "torch", "TF_CPP_MIN_LOG_LEVEL": "0"}


@pytest.mark.slow
def test_seeding_a_torch_process_imports_no_tensorflow_and_draws_as_keras_does():
    require_backend("tensorflow")
    done = subprocess.run([sys.executable, "-c", SEEDING], env=_pytest_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert not result["tensorflow_imported"]
    assert result["ours"] == result["keras"], "the same seed gives the same draws as keras.utils.set_random_seed"


@pytest.fixture
def tiny_image_folder(tmp_path):
    """Two classes of 24 random 48x48 images in train/ and test/: enough for one quick epoch."""
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for label in ("happy", "sad"):
            folder = tmp_path / "faces" / split / label
            folder.mkdir(parents=True)
            for i in range(24):
                cv2.imwrite(str(folder / f"{i}.png"), rng.integers(0, 256, (48, 48), dtype=np.uint8))
    return tmp_path / "faces"


@pytest.mark.slow
def test_torch_training_prints_no_tensorflow_noise(tiny_image_folder, tmp_path, monkeypatch):
    require_backend("tensorflow")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    done = emokit_process("train", "--data", str(tiny_image_folder), "--epochs", "1", "--set", "width=0.25",
                          "--set", "dense_units=16", "--out", str(tmp_path / "runs"), backend="torch", timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    noise = [line for line in done.stderr.splitlines() if TENSORFLOW_NOISE.search(line)]
    assert not noise, noise
