"""Contract tests over every registered architecture and augmentation, on real Keras on each backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import missing_backend, needs_backend
from emokit import FER_CLASSES
from emokit.registry import build_registry
from emokit.spec import ModelSpec
from emokit.specs import spec_for

BACKENDS = ("torch", "jax", "tensorflow")
WORKER = Path(__file__).with_name("backend_worker.py")
REGISTRY = build_registry()
ARCHS = REGISTRY.names("architecture")
AUGS = REGISTRY.names("augmentation")


#: The backends installed here: a missing one skips its tests with the pip line (conftest), CI installs all three.
INSTALLED = tuple(backend for backend in BACKENDS if missing_backend(backend) is None)


def _run_worker(backend: str, workdir: Path, phase: str) -> dict:
    env = {**os.environ, "KERAS_BACKEND": backend}
    proc = subprocess.run([sys.executable, str(WORKER), backend, str(workdir), phase], env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{backend} {phase} worker failed:\n{proc.stderr[-4000:]}"
    return json.loads((workdir / f"{backend}-{phase}.json").read_text())


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("backends")


@pytest.fixture(scope="session")
def contract_results(workdir) -> dict[str, dict]:
    return {backend: _run_worker(backend, workdir, "contract") for backend in INSTALLED}


@pytest.fixture(scope="session")
def portable_results(workdir, contract_results) -> dict[str, float]:
    merged: dict[str, float] = {}
    for backend in INSTALLED:
        merged.update(_run_worker(backend, workdir, "portable"))
    return merged


@pytest.fixture(scope="session")
def mixed_results(workdir) -> dict[str, dict]:
    return {backend: _run_worker(backend, workdir, "mixed") for backend in INSTALLED}


@pytest.mark.parametrize("arch", ARCHS)
def test_spec_round_trips_through_json(arch):
    for channels in (1, 3):
        spec = spec_for(REGISTRY, arch, input_shape=(48, 48, channels))
        again = ModelSpec.from_json(spec.to_json())
        assert again == spec
        assert again.class_names == FER_CLASSES and again.input_shape == (48, 48, channels)


@pytest.mark.slow  # a worker process per backend builds every model
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("arch", ARCHS)
def test_architecture_builds_and_predicts(contract_results, backend, arch):
    for channels in ("c1", "c3"):
        result = contract_results[backend]["architectures"][arch][channels]
        assert result["shape"] == [4, 7]
        assert all(abs(s - 1) < 1e-4 for s in result["row_sums"])
        assert result["keras_params"] == result["spec_params"]


@pytest.mark.slow  # a worker process per backend builds every model
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("arch", ARCHS)
def test_mixed_bfloat16_computes_in_bfloat16_with_float32_weights_and_output(mixed_results, backend, arch):
    result = mixed_results[backend][arch]
    assert result["variable_dtypes"] == ["float32"]  # weights files are the float32 model's
    assert result["inner_compute_dtypes"] == ["bfloat16"]
    assert result["output_dtype"] == "float32"  # the softmax and the loss stay in float32
    # bfloat16 keeps 8 bits of mantissa: close to the float32 model, not equal.
    assert result["max_diff"] < 0.1


@pytest.mark.slow  # a worker process per backend builds every model
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("aug", AUGS)
def test_augmentation_acts_in_training_only(contract_results, backend, aug):
    result = contract_results[backend]["augmentations"][aug]
    assert result["train_shape"] == [8, 48, 48, 1]
    assert result["train_changed"] > 1.0, "the training batch should change"
    # 1e-3 of a grey level: only float rounding (noise rescales to 0-1 and back) is allowed.
    assert result["inference_max_diff"] <= 1e-3, "inference must be untouched"
    assert result["train_min"] >= 0.0 and result["train_max"] <= 255.0 + 1e-3


@pytest.mark.slow  # a worker process per backend builds every model
@needs_backend("jax")
@pytest.mark.parametrize("aug", AUGS)
def test_augmentation_is_compiled_into_the_jax_training_step(contract_results, aug):
    # One layer Keras can't jit makes it train the whole model op by op on JAX (a GPU then stalls).
    result = contract_results["jax"]["augmentations"][aug]
    assert result["jit_compile"] is True
    assert result["jit_changed"] > 1.0 and result["jit_steps_differ"] > 1.0, "each jitted step must draw anew"


@pytest.mark.slow  # a worker process per backend builds every model
@pytest.mark.skipif(len(INSTALLED) < 2, reason="needs two backends: pip install 'emokit[jax,tensorflow]'")
@pytest.mark.parametrize("arch", ARCHS)
def test_weights_are_portable_across_backends(portable_results, arch):
    pairs = {k: v for k, v in portable_results.items() if k.endswith(f":{arch}")}
    # Every backend loads every other backend's weights: 6 pairs with all three installed.
    assert len(pairs) == len(INSTALLED) * (len(INSTALLED) - 1), pairs
    for pair, diff in pairs.items():
        assert diff <= 1e-4, f"{pair}: max abs difference {diff}"
