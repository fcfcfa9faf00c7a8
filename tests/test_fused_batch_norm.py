"""The tensorflow and torch backends' fused batch norm changes nothing but speed: it computes what
Keras's ``BatchNormalization`` computes, in float32 and mixed bfloat16, and a model trained with it
saves the weights file the standard model loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import require_backend

#: Trains a model in a subprocess per backend: tens of seconds.
pytestmark = pytest.mark.slow

WORKER = """
import json
import sys
import numpy as np
from emokit.backend import load_keras
from emokit.builder import build_model
from emokit.registry import build_registry
from emokit.spec import BatchNorm
from emokit.specs import spec_for

backend = sys.argv[2]
registry = build_registry()
_, keras = load_keras(registry, backend)
record = registry.get("backend", backend)
out = {"batch_norm": {}}


def loss_of(y, ops):
    # Nonlinear in y: a loss linear in a batch-normalized y has zero input and gamma gradients.
    return ops.sum(ops.sin(ops.cast(y, "float32")) * ops.arange(1.0, y.shape[-1] + 1.0))


if backend == "tensorflow":
    import tensorflow as tf

    def forward_backward(layer, x):
        x = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = loss_of(y, keras.ops)
        return y, tape.gradient(loss, [x, layer.gamma, layer.beta])
else:
    import torch

    def forward_backward(layer, x):
        x = torch.tensor(x, requires_grad=True)
        y = layer(x, training=True)
        loss_of(y, keras.ops).backward()
        return y, [x.grad, layer.gamma.value.grad, layer.beta.value.grad]


def step(layer, x):
    # A training step's worth: the output, gradients for input, gamma and beta, the moving statistics.
    y, grads = forward_backward(layer, x)
    values = [y, *grads, layer.moving_mean, layer.moving_variance, layer(x, training=False)]
    return [keras.ops.convert_to_numpy(keras.ops.cast(v, "float32")) for v in values], keras.backend.standardize_dtype(y.dtype)


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
        "fused_module": type(fused).__module__,
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
out["predictions_diff"] = float(np.abs(keras.ops.convert_to_numpy(trained(images, training=False))
                                       - keras.ops.convert_to_numpy(standard(images, training=False))).max())
print(json.dumps(out))
"""

BACKENDS = ["tensorflow", "torch"]


@pytest.fixture(scope="module", params=BACKENDS)
def results(request, tmp_path_factory) -> dict:
    backend = request.param
    require_backend(backend)
    weights = tmp_path_factory.mktemp(backend) / "trained.weights.h5"
    env = {**os.environ, "KERAS_BACKEND": backend}
    done = subprocess.run([sys.executable, "-c", WORKER, str(weights), backend], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_fused_batch_norm_computes_what_keras_batch_norm_computes(results, precision):
    found = results["batch_norm"][precision]
    assert not found["fused_module"].startswith("keras"), "the backend's own layer was tested, not Keras's"
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
