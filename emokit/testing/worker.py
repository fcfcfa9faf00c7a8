"""Runs the Keras half of the contract checks on one backend, in its own process.

    python -m emokit.testing.worker PAYLOAD.json RESULT.json

Keras fixes its backend when it is first imported, so :mod:`emokit.testing.backends` starts one
of these per backend. The payload holds the backend (name, module, environment, compile options,
and its ``training_layer`` and ``fit_data`` as ``module:qualname`` references), architecture specs
as JSON (no plugin import needed: specs are plain data) and augmentations as ``module:qualname``
references with JSON options. The result maps each name to its problems.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from emokit.backend import set_random_seed
from emokit.plugin_errors import one_line  # the one-line form of an error from plugin code

#: How many training-mode draws an augmentation gets to change a batch (some act on part of the batches).
DRAWS = 4
#: Images in the one ``model.fit`` step an augmentation is trained with (one batch).
FIT_IMAGES = 8
#: Tolerances: probabilities sum to 1; inference leaves pixels alone up to float rounding.
SUM_TOLERANCE = 1e-3
IDENTITY_TOLERANCE = 1e-3


def check_architecture_spec(keras: Any, spec_json: str) -> list[str]:
    """Build the spec, run a forward pass, and compare the parameter count with emokit's anatomy."""
    from emokit.anatomy import anatomy
    from emokit.builder import build_model
    from emokit.inference.keras_model import model_probabilities
    from emokit.spec import ModelSpec

    spec = ModelSpec.from_json(spec_json)
    where = f"input {tuple(spec.input_shape)}, {len(spec.class_names)} classes"
    set_random_seed(keras, 7)
    model = build_model(spec, keras)
    images = np.random.default_rng(123).integers(0, 256, size=(2, *spec.input_shape)).astype(np.uint8)
    probs = model_probabilities(model, keras, images)  # the keras runtime's own call (an untrained model: no run to open)
    problems = []
    if probs.shape != (2, len(spec.class_names)):
        problems.append(f"{where}: output shape {probs.shape}, expected {(2, len(spec.class_names))}.")
    elif not np.isfinite(probs).all():
        problems.append(f"{where}: the output has NaN or infinite values.")
    elif np.abs(probs.sum(axis=1) - 1).max() > SUM_TOLERANCE:
        problems.append(f"{where}: outputs do not sum to 1 (end the spec with Activation('softmax')).")
    expected = anatomy(spec).params
    if int(model.count_params()) != expected:
        problems.append(f"{where}: Keras counts {model.count_params()} parameters, the spec {expected}.")
    return problems


def check_augmentation_layers(keras: Any, build: Any, options: dict[str, Any], channels: int) -> list[str]:
    """Shape kept, pixels stay in 0-255, the batch changes in training and not at inference."""
    where = f"{channels}-channel input"
    set_random_seed(keras, 11)
    layers = build(keras, **options)
    if not isinstance(layers, (list, tuple)) or not layers:
        return [f"build() returned {type(layers).__name__}; expected a non-empty list of Keras layers."]
    inputs = keras.Input((48, 48, channels))
    x = inputs
    for layer in layers:  # built as a model, the way emokit trains it (a symbolic batch dimension)
        x = layer(x)
    model = keras.Model(inputs, x)
    batch = np.random.default_rng(5).integers(0, 256, size=(8, 48, 48, channels)).astype(np.float32)
    draws = [keras.ops.convert_to_numpy(model(batch, training=True)) for _ in range(DRAWS)]
    inferred = keras.ops.convert_to_numpy(model(batch, training=False))
    problems = []
    if any(d.shape != batch.shape for d in draws + [inferred]):
        return [f"{where}: output shape {draws[0].shape}, expected the input's {batch.shape}."]
    if max(float(np.abs(d - batch).max()) for d in draws) <= 1.0:
        problems.append(f"{where}: {DRAWS} training-mode batches came out unchanged.")
    if float(np.abs(inferred - batch).max()) > IDENTITY_TOLERANCE:
        problems.append(f"{where}: inference changes the images (augmentations must be the identity when not training).")
    low, high = min(float(d.min()) for d in draws), max(float(d.max()) for d in draws)
    if not all(np.isfinite(d).all() for d in draws) or low < -IDENTITY_TOLERANCE or high > 255 + IDENTITY_TOLERANCE:
        problems.append(f"{where}: training output spans {low:.2f}..{high:.2f}; pixels must stay within 0-255.")
    return problems


def check_augmentation_training(keras: Any, backend: Any, build: Any, options: dict[str, Any]) -> list[str]:
    """One ``model.fit`` step with the layers in front of a tiny model, as ``emokit train`` runs them.

    Called eagerly, layers written with another library's ops (``tf.image`` on JAX, say) work; in
    training, Keras traces the whole train step (``jax.jit`` on JAX), where they fail. So the model is
    built, compiled and fed the way the trainer does: the backend's training layers, its
    ``compile_options`` and its ``fit_data``.
    """
    from emokit.builder import build_model
    from emokit.spec import Activation, Conv, Dense, GlobalPool, ModelSpec

    set_random_seed(keras, 13)
    spec = ModelSpec("contract_probe", (Conv(4, 3, activation="relu"), GlobalPool("avg"), Dense(2), Activation("softmax")),
                     (48, 48, 1), ("a", "b"))
    core = build_model(spec, keras, "float32", backend.training_layer)
    inputs = keras.Input(shape=spec.input_shape, name="pixels")
    x = inputs
    for layer in build(keras, **options):
        x = layer(x)
    model = keras.Model(inputs, core(x))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.CategoricalCrossentropy(),
                  metrics=["accuracy"], **dict(backend.compile_options))
    images = np.random.default_rng(17).integers(0, 256, size=(FIT_IMAGES, *spec.input_shape)).astype(np.float32)
    labels = np.eye(2, dtype=np.float32)[np.arange(FIT_IMAGES) % 2]
    data = ({"x": images, "y": labels, "batch_size": FIT_IMAGES} if backend.fit_data is None
            else {"x": backend.fit_data(images, labels, FIT_IMAGES, True, 0)})
    try:
        history = model.fit(**data, epochs=1, verbose=0)
    except Exception as exc:
        first = _first_error(exc)
        hint = (" - JAX compiles the train step, so layers must be written with keras.ops, not another library's ops"
                if "Tracer" in type(first).__name__ else "")
        return [f"model.fit() raised {one_line(first)}{hint}"]
    loss = history.history["loss"][-1]
    return [] if np.isfinite(loss) else [f"the training loss is {loss} after one step (the layers give NaN or infinite pixels)."]


def _first_error(exc: BaseException) -> BaseException:
    """The exception that started a chain: a failed trace often surfaces as an unrelated error raised while
    handling it (TensorFlow formatting JAX's TracerArrayConversionError ends in an AttributeError)."""
    seen = {id(exc)}
    while (earlier := exc.__cause__ or exc.__context__) is not None and id(earlier) not in seen:
        seen.add(id(earlier))
        exc = earlier
    return exc


def resolve(reference: str) -> Any:
    """Import ``module:qualname``."""
    module_name, _, qualname = reference.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


def _guard(check: Any, *args: Any) -> list[str]:
    try:
        return check(*args)
    except Exception as exc:  # one broken record must not hide the results of the others
        return [f"raised {one_line(exc)}"]


def run(payload: dict[str, Any]) -> dict[str, Any]:
    """Activate the payload's backend and check everything in it."""
    from emokit.backend import activate
    from emokit.records import BackendRecord

    given = payload["backend"]
    backend = BackendRecord(given["name"], "", given["module"], "", given.get("environment", {}),
                            compile_options=given.get("compile_options", {}),
                            training_layer=resolve(given["training_layer"]) if given.get("training_layer") else None,
                            fit_data=resolve(given["fit_data"]) if given.get("fit_data") else None)
    keras = activate(backend)
    out: dict[str, Any] = {"architectures": {}, "augmentations": {}, "training": {}}
    for item in payload.get("architectures", []):
        out["architectures"][item["name"]] = [p for spec in item["specs"] for p in _guard(check_architecture_spec, keras, spec)]
    for item in payload.get("augmentations", []):
        options = {k: tuple(v) if isinstance(v, list) else v for k, v in item["options"].items()}
        try:
            build = resolve(item["build"])
        except Exception as exc:
            out["augmentations"][item["name"]] = out["training"][item["name"]] = [
                f"cannot import {item['build']}: {type(exc).__name__}: {exc}"]
            continue
        out["augmentations"][item["name"]] = [
            p for channels in (1, 3) for p in _guard(check_augmentation_layers, keras, build, options, channels)
        ]
        out["training"][item["name"]] = _guard(check_augmentation_training, keras, backend, build, options)
    return out


if __name__ == "__main__":
    payload_file, result_file = Path(sys.argv[1]), Path(sys.argv[2])
    result_file.write_text(json.dumps(run(json.loads(payload_file.read_text()))))
