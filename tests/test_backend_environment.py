"""The oneDNN kernel cap: set to train models with a strided 1x1 convolution (the torch 2.13 segfault),
left off for the others, and never silently missing when a process that started uncapped trains one."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from emokit.backend import environment_for
from emokit.registry import build_registry
from emokit.specs import spec_for
from emokit_plugins.backends import onednn_cap_for

CAP = {"ONEDNN_MAX_CPU_ISA": "AVX2"}


def spec_of(arch: str):
    return spec_for(build_registry(), arch)


@pytest.mark.parametrize(("arch", "capped"), [("small_cnn", False), ("vgg_fer", False),
                                              ("mini_xception", True), ("resnet_fer", True)])
def test_only_models_with_a_strided_pointwise_conv_are_capped(arch, capped):
    assert dict(onednn_cap_for(spec_of(arch))) == (CAP if capped else {})


def test_an_unknown_model_gets_the_cap_on_torch_and_tensorflow_not_jax():
    registry = build_registry()
    assert environment_for(registry.get("backend", "torch")) == CAP
    assert environment_for(registry.get("backend", "tensorflow")) == {"TF_CPP_MIN_LOG_LEVEL": "2", **CAP}
    assert environment_for(registry.get("backend", "jax")) == {}
    assert environment_for(registry.get("backend", "tensorflow"), spec_of("vgg_fer")) == {"TF_CPP_MIN_LOG_LEVEL": "2"}


SCRIPT = """
import json, os
from emokit.backend import activate
from emokit.errors import EmokitError
from emokit.registry import build_registry
from emokit.specs import spec_for

registry = build_registry()
def spec(arch):
    return spec_for(registry, arch)

torch = registry.get("backend", "torch")
out = {}
activate(torch, spec("small_cnn"))
out["after_small_cnn"] = os.environ.get("ONEDNN_MAX_CPU_ISA")
activate(torch)  # inference (no spec) needs no cap: no error
try:
    activate(torch, spec("mini_xception"))
    out["error"] = None
except EmokitError as exc:
    out["error"] = str(exc)
print(json.dumps(out))
"""


def test_a_process_started_uncapped_refuses_to_train_a_model_that_needs_the_cap():
    env = {k: v for k, v in os.environ.items() if k not in ("ONEDNN_MAX_CPU_ISA", "KERAS_BACKEND")}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["after_small_cnn"] is None
    assert out["error"] == ("Training 'mini_xception' on 'torch' needs ONEDNN_MAX_CPU_ISA=AVX2, which this process "
                            "started without; train it in a new process, or set ONEDNN_MAX_CPU_ISA=AVX2 before starting Python.")


def test_cpu_bfloat16_support_is_read_from_cpuinfo(tmp_path):
    from emokit.backend import cpu_has_bfloat16

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16\n\nprocessor\t: 1\nflags\t\t: fpu avx2\n")
    assert cpu_has_bfloat16(cpuinfo) is True
    cpuinfo.write_text("flags\t\t: fpu sse avx2 fma\n")
    assert cpu_has_bfloat16(cpuinfo) is False
    assert cpu_has_bfloat16(tmp_path / "missing") is None  # not Linux: unknown, no warning


@pytest.mark.parametrize(("backend", "arch", "refused"), [
    ("torch", "mini_xception", True), ("tensorflow", "resnet_fer", True),
    ("tensorflow", "vgg_fer", False), ("jax", "mini_xception", False),
])
def test_bfloat16_is_refused_only_where_the_backend_caps_onednn_for_the_model(backend, arch, refused, monkeypatch):
    from emokit.backend import check_precision
    from emokit.errors import EmokitError

    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    record = build_registry().get("backend", backend)
    check_precision(record, spec_of(arch), "float32")  # float32 is never refused
    if not refused:
        check_precision(record, spec_of(arch), "mixed_bfloat16")
        return
    with pytest.raises(EmokitError, match=f"cannot train '{arch}' on '{backend}': the backend caps oneDNN"):
        check_precision(record, spec_of(arch), "mixed_bfloat16")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_AMX")  # a cap the user lifted is the user's choice
    check_precision(record, spec_of(arch), "mixed_bfloat16")


def test_a_third_party_backend_states_its_own_precision_limit():
    from dataclasses import replace

    from emokit.backend import check_precision
    from emokit.errors import EmokitError

    record = replace(build_registry().get("backend", "jax"), name="npu",
                     precision_limit=lambda spec, precision: f"{precision} needs firmware 2" if spec.name == "vgg_fer" else None)
    check_precision(record, spec_of("small_cnn"), "mixed_bfloat16")
    with pytest.raises(EmokitError) as error:
        check_precision(record, spec_of("vgg_fer"), "mixed_bfloat16")
    assert str(error.value) == "--precision mixed_bfloat16 cannot train 'vgg_fer' on 'npu': mixed_bfloat16 needs firmware 2"
