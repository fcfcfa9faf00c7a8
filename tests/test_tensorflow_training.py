"""The tensorflow backend's tf.data pipeline for ``model.fit`` feeds every image once per epoch in a
fresh seeded order, with tf.data's autotuning (which stalled epochs) off. (Its fused batch norm is
tested with torch's in ``test_fused_batch_norm.py``.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import require_backend

#: Starts TensorFlow in a subprocess and fits: tens of seconds.
pytestmark = pytest.mark.slow

WORKER = """
import json
import numpy as np
from emokit.backend import load_keras
from emokit.registry import build_registry

registry = build_registry()
_, keras = load_keras(registry, "tensorflow")
record = registry.get("backend", "tensorflow")
out = {}

# The pipeline model.fit gets for arrays.
n, batch = 50, 16
images = np.arange(n, dtype="float32").reshape(n, 1, 1, 1) * np.ones((1, 2, 2, 1), "float32")
labels = np.eye(7, dtype="float32")[np.arange(n) % 7]


def epoch_order(dataset):
    order, sizes = [], []
    for x_batch, y_batch in dataset:
        first = x_batch.numpy()[:, 0, 0, 0].astype(int)
        assert (y_batch.numpy().argmax(axis=1) == first % 7).all()  # labels stay with their images
        order += first.tolist()
        sizes.append(len(first))
    return order, sizes


shuffled = record.fit_data(images, labels, batch, True, 3)
first, sizes = epoch_order(shuffled)
second, _ = epoch_order(shuffled)
again, _ = epoch_order(record.fit_data(images, labels, batch, True, 3))
in_order, _ = epoch_order(record.fit_data(images, labels, batch, False, 3))
out["data"] = {
    "sizes": sizes, "each_once": sorted(first) == list(range(n)) and sorted(second) == list(range(n)),
    "reshuffled": first != second, "same_seed_same_order": first == again, "unshuffled": in_order == list(range(n)),
    "shuffled": first != list(range(n)), "autotune": shuffled.options().autotune.enabled,
}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    require_backend("tensorflow")
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    done = subprocess.run([sys.executable, "-c", WORKER], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_fit_data_feeds_every_image_once_per_epoch_in_a_seeded_order(results):
    data = results["data"]
    assert data["sizes"] == [16, 16, 16, 2]
    assert data["each_once"] and data["shuffled"] and data["reshuffled"] and data["same_seed_same_order"]
    assert data["unshuffled"]  # validation data keeps its order
    assert data["autotune"] is False  # tearing down tf.data's autotuner stalled epochs by ~5 s
