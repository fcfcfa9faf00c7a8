"""Runs real Keras checks on one backend in its own process (Keras picks its backend once per process).

    python tests/backend_worker.py BACKEND WORKDIR contract   -> WORKDIR/BACKEND-contract.json
    python tests/backend_worker.py BACKEND WORKDIR portable   -> WORKDIR/BACKEND-portable.json
    python tests/backend_worker.py BACKEND WORKDIR mixed      -> WORKDIR/BACKEND-mixed.json

``contract`` builds every registered architecture (grayscale and RGB), runs a forward pass,
compares parameter counts with the spec's, saves weights and predictions for the others, and
checks every augmentation. ``portable`` loads the weights the other backends saved and
compares predictions. ``mixed`` builds every architecture for bfloat16 compute.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from emokit.anatomy import anatomy
from emokit.backend import load_keras
from emokit.builder import build_model
from emokit.inference.keras_model import model_probabilities as probabilities
from emokit.registry import build_registry
from emokit.specs import spec_for

BACKENDS = ("torch", "jax", "tensorflow")


def fixed_input(shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(123).integers(0, 256, size=(4, *shape)).astype(np.uint8)


def contract(backend: str, workdir: Path) -> dict:
    registry = build_registry()
    _, keras = load_keras(registry, backend)
    out: dict = {"architectures": {}, "augmentations": {}}
    for name in registry.names("architecture"):
        result = {}
        for channels in (1, 3):
            spec = spec_for(registry, name, input_shape=(48, 48, channels))
            keras.utils.set_random_seed(7)
            model = build_model(spec, keras)
            x = fixed_input(spec.input_shape)
            probs = probabilities(model, keras, x)
            result[f"c{channels}"] = {
                "shape": list(probs.shape),
                "row_sums": probs.sum(axis=1).tolist(),
                "keras_params": int(model.count_params()),
                "spec_params": anatomy(spec).params,
            }
            if channels == 1:
                model.save_weights(workdir / f"{backend}-{name}.weights.h5")
                np.save(workdir / f"{backend}-{name}.npy", probs)
        out["architectures"][name] = result

    batch = np.random.default_rng(5).integers(0, 256, size=(8, 48, 48, 1)).astype(np.float32)
    for name, record in registry.records("augmentation").items():
        keras.utils.set_random_seed(11)
        inputs = keras.Input((48, 48, 1))
        x = inputs
        for layer in record.build(keras, **record.options):
            x = layer(x)
        model = keras.Model(inputs, x)
        # Some layers draw once per batch (e.g. erasing with probability 0.5): take several batches.
        draws = [keras.ops.convert_to_numpy(model(batch, training=True)) for _ in range(4)]
        trained = max(draws, key=lambda d: float(np.abs(d - batch).max()))
        inferred = keras.ops.convert_to_numpy(model(batch, training=False))
        model.compile(loss="mse")  # jit_compile="auto", as fit resolves it: off if any layer can't be compiled
        out["augmentations"][name] = {
            "train_shape": list(trained.shape),
            "train_changed": float(np.abs(trained - batch).max()),
            "inference_max_diff": float(np.abs(inferred - batch).max()),
            "train_min": float(trained.min()),
            "train_max": float(trained.max()),
            "jit_compile": bool(model.jit_compile),
            **(jitted_draws(model, batch) if backend == "jax" else {}),
        }
    return out


def jitted_draws(model, batch: np.ndarray) -> dict:
    """Run the augmentation inside ``jax.jit`` the way Keras's JAX trainer does (stateless, the seed
    state threaded through) and report how much successive steps differ: they must draw anew."""
    import jax  # noqa: PLC0415

    step = jax.jit(lambda trainable, state, x: model.stateless_call(trainable, state, x, training=True))
    trainable = [v.value for v in model.trainable_variables]
    state = [v.value for v in model.non_trainable_variables]
    first, state = step(trainable, state, batch)
    later = []
    for _ in range(3):
        out, state = step(trainable, state, batch)
        later.append(float(np.abs(np.asarray(out) - np.asarray(first)).max()))
    return {"jit_steps_differ": max(later), "jit_changed": float(np.abs(np.asarray(first) - batch).max())}


def mixed(backend: str, workdir: Path) -> dict:
    """Every architecture built for bfloat16 compute: its variables, output dtype, and how far its
    probabilities are from the float32 model's with the same weights."""
    registry = build_registry()
    _, keras = load_keras(registry, backend)
    out: dict = {}
    for name in registry.names("architecture"):
        spec = spec_for(registry, name, input_shape=(48, 48, 1))
        keras.utils.set_random_seed(7)
        model = build_model(spec, keras)
        bf16 = build_model(spec, keras, "mixed_bfloat16")
        bf16.set_weights(model.get_weights())  # same variables in the same order: float32 in both
        x = fixed_input(spec.input_shape)
        output = keras.ops.convert_to_numpy(bf16(x.astype(np.float32), training=False))
        out[name] = {
            "variable_dtypes": sorted({str(v.dtype) for v in bf16.weights}),
            "inner_compute_dtypes": sorted({layer.compute_dtype for layer in bf16.layers[1:-1]}),
            "output_dtype": str(output.dtype),
            "max_diff": float(np.abs(output - probabilities(model, keras, x)).max()),
        }
    return out


def portable(backend: str, workdir: Path) -> dict:
    registry = build_registry()
    _, keras = load_keras(registry, backend)
    out: dict = {}
    for name in registry.names("architecture"):
        spec = spec_for(registry, name, input_shape=(48, 48, 1))
        model = build_model(spec, keras)
        for source in BACKENDS:
            weights = workdir / f"{source}-{name}.weights.h5"
            if source == backend or not weights.exists():
                continue
            model.load_weights(weights)
            probs = probabilities(model, keras, fixed_input(spec.input_shape))
            expected = np.load(workdir / f"{source}-{name}.npy")
            out[f"{source}->{backend}:{name}"] = float(np.abs(probs - expected).max())
    return out


if __name__ == "__main__":
    backend_name, folder, phase = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    result = {"contract": contract, "portable": portable, "mixed": mixed}[phase](backend_name, folder)
    (folder / f"{backend_name}-{phase}.json").write_text(json.dumps(result, indent=2))
