"""The tensorflow backend's training speed-ups change nothing but speed: the fused batch norm computes
what Keras's computes and saves the same weights file, and its tf.data pipeline feeds every image
once per epoch in a fresh seeded order, with tf.data's autotuning (which stalled epochs) off."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

WORKER = """
import json
import sys
import numpy as np
from emokit.backend import load_keras
from emokit.builder import build_model
from emokit.registry import build_registry
from emokit.spec import BatchNorm
from emokit.specs import spec_for

registry = build_registry()
_, keras = load_keras(registry, "tensorflow")
import tensorflow as tf
record = registry.get("backend", "tensorflow")
out = {"batch_norm": {}}


def step(layer, x):
    # A training step's worth: the output, gradients for input, gamma and beta, the moving statistics.
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        # Nonlinear in y: a loss linear in a batch-normalized y has zero input and gamma gradients.
        loss = tf.reduce_sum(tf.sin(tf.cast(y, tf.float32)) * tf.range(1.0, y.shape[-1] + 1.0))
    grads = tape.gradient(loss, [x, layer.gamma, layer.beta])
    values = [y, *grads, layer.moving_mean, layer.moving_variance, layer(x, training=False)]
    return [np.asarray(tf.cast(v, tf.float32)) for v in values], str(y.dtype.name)


rng = np.random.default_rng(0)
x = rng.normal(2.0, 3.0, size=(8, 6, 6, 5)).astype("float32")
weights = [rng.normal(size=5).astype("float32"), rng.normal(size=5).astype("float32"),
           rng.normal(size=5).astype("float32"), rng.uniform(0.5, 2, size=5).astype("float32")]
for precision in ("float32", "mixed_bfloat16"):
    keras_bn = keras.layers.BatchNormalization(momentum=0.9, name="bn", dtype=precision)
    fused = record.training_layer(keras, BatchNorm(momentum=0.9), {"name": "bn", "dtype": precision})
    for layer in (keras_bn, fused):
        layer.build(x.shape)
        layer.set_weights(weights)
    (theirs, their_dtype), (ours, our_dtype) = step(keras_bn, x), step(fused, x)
    out["batch_norm"][precision] = {
        "relative_diffs": [float(np.abs(a - b).max() / (np.abs(a).max() + 1e-12)) for a, b in zip(theirs, ours)],
        "dtypes": [their_dtype, our_dtype], "fused_class": type(fused).__name__,
    }

# Nothing but batch norm is replaced, and a model built with the training layers saves the weights
# file the standard model loads (Keras files weights under class names).
spec = spec_for(registry, "mini_xception")
trained = build_model(spec, keras, "float32", record.training_layer)
trained.compile("adam", "categorical_crossentropy")
images = rng.integers(0, 256, size=(32, 48, 48, 1)).astype("float32")
trained.fit(images, np.eye(7, dtype="float32")[rng.integers(0, 7, 32)], batch_size=16, epochs=1, verbose=0)
trained.save_weights(sys.argv[1])
standard = build_model(spec, keras)
standard.load_weights(sys.argv[1])
out["replaced"] = sorted({type(a).__module__ != type(b).__module__ for a, b in zip(trained.layers, standard.layers)
                          if not isinstance(a, keras.layers.BatchNormalization)})
out["weights_equal"] = all(np.array_equal(a, b) for a, b in zip(trained.get_weights(), standard.get_weights()))
out["predictions_diff"] = float(np.abs(np.asarray(trained(images, training=False))
                                       - np.asarray(standard(images, training=False))).max())

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
    pytest.importorskip("tensorflow")
    weights = tmp_path_factory.mktemp("tf") / "trained.weights.h5"
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    done = subprocess.run([sys.executable, "-c", WORKER, str(weights)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_fused_batch_norm_computes_what_keras_batch_norm_computes(results, precision):
    found = results["batch_norm"][precision]
    names = ["output", "input gradient", "gamma gradient", "beta gradient", "moving mean", "moving variance",
             "inference output"]
    # Both compute the statistics in float32 (measured: relative differences under 2e-6).
    assert dict(zip(names, found["relative_diffs"])) == {name: pytest.approx(0, abs=1e-4) for name in names}
    assert found["dtypes"][0] == found["dtypes"][1]  # bfloat16 out under mixed precision, like Keras's layer
    # Keras files a layer's weights under its class name: the fused layer must keep Keras's.
    assert found["fused_class"] == "BatchNormalization"


def test_a_model_trained_with_fused_batch_norm_loads_into_the_standard_model(results):
    assert results["replaced"] == [False]  # only batch norm layers differ
    assert results["weights_equal"] is True
    assert results["predictions_diff"] < 1e-5


def test_fit_data_feeds_every_image_once_per_epoch_in_a_seeded_order(results):
    data = results["data"]
    assert data["sizes"] == [16, 16, 16, 2]
    assert data["each_once"] and data["shuffled"] and data["reshuffled"] and data["same_seed_same_order"]
    assert data["unshuffled"]  # validation data keeps its order
    assert data["autotune"] is False  # tearing down tf.data's autotuner stalled epochs by ~5 s
