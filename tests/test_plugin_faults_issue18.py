"""Issue #18: a crash inside training names the plugin whose code raised, in one line.

Real failures, not mocks: a layer that raises in ``call`` during ``fit`` on torch, and an
augmentation written with TensorFlow ops inside JAX's jitted train step (in a subprocess, since
Keras fixes its backend per process).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from emokit.backend import load_keras
from emokit.builder import build_model
from emokit.registry import build_registry
from emokit.training.config import TrainConfig
from emokit.training.plugin_faults import plugin_fault, used_records
from emokit.training.preflight import check_spec

PLUGINS = Path(__file__).with_name("plugins")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGINS))
    return build_registry([("faulty", importlib.import_module("plugin_faulty_training"))], blocked=())


def fit_error(registry, config: TrainConfig, labels: np.ndarray | None = None) -> BaseException:
    """Train ``config``'s augmentations and a tiny small_cnn for one step on torch; return what ``fit`` raised."""
    _, keras = load_keras(registry, "torch")
    core = build_model(check_spec(config, registry, ("a", "b")), keras)
    inputs = keras.Input((48, 48, 1))
    x = inputs
    for name, options in config.augmentations:
        for layer in registry.get("augmentation", name).build(keras, **options):
            x = layer(x)
    model = keras.Model(inputs, core(x))
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    images = np.random.default_rng(0).integers(0, 256, (4, 48, 48, 1)).astype(np.float32)
    with pytest.raises(Exception) as caught:
        model.fit(images, np.eye(2, dtype=np.float32)[[0, 1, 0, 1]] if labels is None else labels, epochs=1, verbose=0)
    return caught.value


@pytest.mark.slow  # trains a model for a step
def test_layer_that_raises_in_training_is_named_with_its_plugin(registry):
    config = TrainConfig(arch_options={"width": 0.25, "dense_units": 16}, backend="torch",
                         augmentations=(("flip", {}), ("raising_call", {})))
    message = plugin_fault(fit_error(registry, config), registry, used_records(config))
    assert message is not None and "\n" not in message
    assert message.startswith("Augmentation 'raising_call' from plugin 'faulty' (package (local)) failed during training: ")
    assert "RuntimeError: the layer's random table is empty" in message


def test_failure_outside_plugin_code_blames_no_plugin(registry):
    """Labels of the wrong shape fail inside Keras: no plugin is at fault, so none is named."""
    config = TrainConfig(arch_options={"width": 0.25, "dense_units": 16}, backend="torch", augmentations=(("flip", {}),))
    error = fit_error(registry, config, labels=np.zeros((4, 5), np.float32))
    assert plugin_fault(error, registry, used_records(config)) is None


JAX_TRAINING = textwrap.dedent("""
    import sys
    import numpy as np
    import plugin_faulty_training
    from emokit.backend import load_keras
    from emokit.builder import build_model
    from emokit.registry import build_registry
    from emokit.training.config import TrainConfig
    from emokit.training.plugin_faults import plugin_fault, used_records
    from emokit.training.preflight import check_spec

    registry = build_registry([("faulty", plugin_faulty_training)], blocked=())
    config = TrainConfig(arch_options={"width": 0.25, "dense_units": 16}, backend="jax",
                         augmentations=(("tf_brightness", {}),))
    _, keras = load_keras(registry, "jax")
    core = build_model(check_spec(config, registry, ("a", "b")), keras)
    inputs = keras.Input((48, 48, 1))
    x = inputs
    for layer in registry.get("augmentation", "tf_brightness").build(keras):
        x = layer(x)
    model = keras.Model(inputs, core(x))
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    images = np.random.default_rng(0).integers(0, 256, (4, 48, 48, 1)).astype(np.float32)
    try:
        model.fit(images, np.eye(2, dtype=np.float32)[[0, 1, 0, 1]], epochs=1, verbose=0)
    except Exception as exc:
        print("FAULT:", plugin_fault(exc, registry, used_records(config)))
    else:
        print("TRAINED")
""")


@pytest.mark.slow
def test_tensorflow_ops_in_a_jax_training_are_named_with_their_plugin():
    pytest.importorskip("jax")
    pytest.importorskip("tensorflow")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PLUGINS), str(REPO)]), "KERAS_BACKEND": "jax"}
    done = subprocess.run([sys.executable, "-c", JAX_TRAINING], env=env, capture_output=True, text=True, timeout=300)
    lines = [line for line in done.stdout.splitlines() if line.startswith(("FAULT:", "TRAINED"))]
    assert lines, done.stderr[-3000:]
    assert lines[0].startswith("FAULT: Augmentation 'tf_brightness' from plugin 'faulty' (package (local)) failed during training: "), lines[0]
