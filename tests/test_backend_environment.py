"""Backend settings: no built-in model needs a kernel cap any more (the torch 2.13 segfault is built
around, and tested here), and a backend plugin's per-model settings and precision limits still apply."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest

from emokit import hookimpl
from emokit.backend import check_precision, environment_for
from emokit.errors import EmokitError
from emokit.registry import build_registry
from emokit.specs import spec_for

REGISTRY = build_registry()
BACKENDS = ("torch", "tensorflow", "jax")


def spec_of(arch: str):
    return spec_for(REGISTRY, arch)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("arch", REGISTRY.names("architecture"))
def test_every_built_in_model_trains_uncapped_in_float32_and_bfloat16(backend, arch):
    record = REGISTRY.get("backend", backend)
    assert "ONEDNN_MAX_CPU_ISA" not in environment_for(record, spec_of(arch))
    for precision in ("float32", "mixed_bfloat16"):
        check_precision(record, spec_of(arch), precision)  # refuses nothing


STRIDED_POINTWISE = """
import json
import numpy as np
from emokit.backend import load_keras
from emokit.builder import build_model
from emokit.registry import build_registry
from emokit.specs import spec_for

registry = build_registry()
_, keras = load_keras(registry, "torch")
model = build_model(spec_for(registry, "mini_xception"), keras)
# Each strided 1x1 convolution is a 1x1 pool with its stride, then the convolution at stride 1 ...
pairs = [(layer, model.get_layer(layer.name.removesuffix("_subsample"))) for layer in model.layers
         if layer.name.endswith("_subsample")]
subsample, conv = pairs[0]
x = np.random.default_rng(0).normal(size=(2, 12, 12, conv.kernel.shape[2])).astype("float32")
reference = keras.layers.Conv2D(conv.filters, 1, strides=2, padding="same", use_bias=conv.use_bias)
reference.build(x.shape)
reference.set_weights(conv.get_weights())
ours = keras.ops.convert_to_numpy(conv(subsample(x)))
theirs = keras.ops.convert_to_numpy(reference(x))
# ... and the model trains with oneDNN's full instruction set, where torch 2.13 used to segfault.
model.compile("adam", "categorical_crossentropy")
rng = np.random.default_rng(1)
images = rng.integers(0, 256, size=(64, 48, 48, 1)).astype("float32")
labels = np.eye(7, dtype="float32")[rng.integers(0, 7, 64)]
losses = [float(model.train_on_batch(images, labels)) for _ in range(3)]
print(json.dumps({"pairs": len(pairs), "strides": [conv.strides[0] for _, conv in pairs],
                  "max_diff": float(np.abs(ours - theirs).max()), "shape": list(ours.shape), "losses": losses}))
"""


@pytest.mark.slow
def test_strided_pointwise_convolution_is_built_around_the_torch_segfault():
    # With oneDNN uncapped, torch 2.13 segfaulted in the first backward pass of mini_xception here.
    env = {k: v for k, v in os.environ.items() if k not in ("ONEDNN_MAX_CPU_ISA", "KERAS_BACKEND")}
    done = subprocess.run([sys.executable, "-c", STRIDED_POINTWISE], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, f"rc {done.returncode}: {done.stderr[-3000:]}"
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["pairs"] == 4 and set(out["strides"]) == {1}  # mini_xception's four shortcuts
    assert out["shape"][1:3] == [6, 6] and out["max_diff"] < 1e-5  # the same outputs as a strided convolution
    assert all(loss == loss and loss < 10 for loss in out["losses"])  # finite: a real training step


def knob_backend():
    """A backend plugin that needs a setting to train mini_xception, and refuses it bfloat16."""
    return replace(
        REGISTRY.get("backend", "torch"),
        training_environment=lambda spec: {} if spec is not None and spec.name != "mini_xception" else {"EMOKIT_TEST_KNOB": "on"},
        precision_limit=lambda spec, precision: "it needs firmware 2" if spec.name == "mini_xception" else None,
    )


def test_a_backend_plugin_sets_its_per_model_environment():
    record = knob_backend()
    assert environment_for(record) == {"EMOKIT_TEST_KNOB": "on"}  # model unknown: the answer suits any model
    assert environment_for(record, spec_of("mini_xception")) == {"EMOKIT_TEST_KNOB": "on"}
    assert environment_for(record, spec_of("small_cnn")) == {}
    assert environment_for(REGISTRY.get("backend", "tensorflow"), spec_of("vgg_fer")) == {"TF_CPP_MIN_LOG_LEVEL": "2"}


def test_a_backend_plugin_states_its_own_precision_limit():
    record = knob_backend()
    check_precision(record, spec_of("small_cnn"), "mixed_bfloat16")
    check_precision(record, spec_of("mini_xception"), "float32")  # float32 is never refused
    with pytest.raises(EmokitError) as error:
        check_precision(record, spec_of("mini_xception"), "mixed_bfloat16")
    assert str(error.value) == "--precision mixed_bfloat16 cannot train 'mini_xception' on 'torch': it needs firmware 2"


REFUSAL = """
import json, os
from dataclasses import replace
from emokit.backend import activate
from emokit.errors import EmokitError
from emokit.registry import build_registry
from emokit.specs import spec_for

registry = build_registry()
torch = replace(registry.get("backend", "torch"),
                training_environment=lambda spec: {"EMOKIT_TEST_KNOB": "on"} if spec and spec.name == "mini_xception" else {})
out = {}
activate(torch, spec_for(registry, "small_cnn"))
out["after_small_cnn"] = os.environ.get("EMOKIT_TEST_KNOB")
try:
    activate(torch, spec_for(registry, "mini_xception"))
    out["error"] = None
except EmokitError as exc:
    out["error"] = str(exc)
print(json.dumps(out))
"""


@pytest.mark.slow
def test_a_process_started_without_a_setting_refuses_to_train_a_model_that_needs_it():
    env = {k: v for k, v in os.environ.items() if k not in ("EMOKIT_TEST_KNOB", "KERAS_BACKEND")}
    done = subprocess.run([sys.executable, "-c", REFUSAL], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["after_small_cnn"] is None
    assert out["error"] == ("Training 'mini_xception' on 'torch' needs EMOKIT_TEST_KNOB=on, which this process "
                            "started without; train it in a new process, or set EMOKIT_TEST_KNOB=on before starting Python.")


def test_cpu_bfloat16_support_is_read_from_cpuinfo(tmp_path):
    from emokit.backend import cpu_has_bfloat16

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16\n\nprocessor\t: 1\nflags\t\t: fpu avx2\n")
    assert cpu_has_bfloat16(cpuinfo) is True
    cpuinfo.write_text("flags\t\t: fpu sse avx2 fma\n")
    assert cpu_has_bfloat16(cpuinfo) is False
    assert cpu_has_bfloat16(tmp_path / "missing") is None  # not Linux: unknown, no warning


class SpyBackends:
    """A torch backend plugin that supplies its own training layers and fit data, and notes each use."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.fed: list[tuple[int, int, bool, int]] = []

    def training_layer(self, keras, node, layer_kwargs):
        self.asked.append(type(node).__name__)
        if type(node).__name__ == "Dropout":  # a stand-in "faster" layer: the same layer, renamed
            return keras.layers.Dropout(node.rate, name=layer_kwargs["name"] + "_spy", dtype=layer_kwargs["dtype"])
        return None

    def fit_data(self, images, labels, batch_size, shuffle, seed):
        import torch  # noqa: PLC0415

        self.fed.append((len(images), batch_size, shuffle, seed))
        data = torch.utils.data.TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))
        return torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=shuffle)

    @hookimpl
    def emokit_backends(self):
        return [replace(REGISTRY.get("backend", "torch"), training_layer=self.training_layer, fit_data=self.fit_data)]


@pytest.mark.slow
def test_training_uses_a_backend_plugins_training_layers_and_fit_data(tmp_path):
    from rich.console import Console

    from conftest import TINY_TRAINING
    from emokit.training.config import TrainConfig
    from emokit.training.trainer import train

    spy = SpyBackends()
    registry = build_registry([("spy", spy)], blocked=["backends"])  # the spy stands in for the built-in torch
    run = train(TrainConfig(**{**TINY_TRAINING, "epochs": 2}), registry, root=tmp_path, console=Console(quiet=True))
    assert {"Conv", "BatchNorm", "Dropout", "Dense"} <= set(spy.asked)
    assert spy.fed == [(2800, 64, True, 1), (420, 64, False, 1)]  # training data shuffled, validation in order
    assert run.metrics()["splits"]["test"]["accuracy"] > 0.3  # it trained on what fit_data fed
