"""Built-in Keras backends: torch (the default), tensorflow and jax."""

from __future__ import annotations

import os
from collections.abc import Mapping

from emokit import hookimpl
from emokit.records import BackendRecord
from emokit.spec import Conv, ModelSpec, walk

ONEDNN_ISA = "ONEDNN_MAX_CPU_ISA"
AVX2_CAP = {ONEDNN_ISA: "AVX2"}


def onednn_cap_for(spec: ModelSpec | None) -> Mapping[str, str]:
    """Cap oneDNN at AVX2 to train a model with a strided 1x1 convolution, or any model not known yet.

    torch 2.13's oneDNN can segfault in the backward pass of a 1x1 stride-2 convolution (mini-Xception's
    and resnet_fer's shortcuts) with AVX-512 kernels, and TensorFlow's crashed training mini-Xception
    here (general protection fault in tf_Compute); AVX2 avoids both. The cap costs 20-60% of training
    speed, so models without such a layer (small_cnn, vgg_fer) train uncapped. Inference runs no
    backward pass and is never refused for it (see ``emokit.backend.activate``).
    """
    if spec is None:
        return AVX2_CAP
    strided_pointwise = any(isinstance(n, Conv) and n.kernel_size == 1 and n.stride > 1 for n in walk(spec.layers))
    return AVX2_CAP if strided_pointwise else {}


def bfloat16_under_cap(spec: ModelSpec, precision: str) -> str | None:
    """Refuse bfloat16 for a model this backend trains with oneDNN capped at AVX2.

    AVX2 has no bfloat16 convolutions: TensorFlow fails on the first batch ("could not create a
    primitive descriptor") and torch falls back to slow reference kernels. A cap the user lifted
    (``ONEDNN_MAX_CPU_ISA`` set to something else before starting) is the user's choice.
    """
    cap = onednn_cap_for(spec).get(ONEDNN_ISA)
    if cap is None or not os.environ.get(ONEDNN_ISA, cap).upper().startswith("AVX2"):
        return None
    return (f"the backend caps oneDNN at {ONEDNN_ISA}={cap} for this model (its strided 1x1 convolution can "
            "crash above it) and AVX2 has no bfloat16 kernels. Train it in float32, or on jax.")


@hookimpl
def emokit_backends() -> list[BackendRecord]:
    """PyTorch, TensorFlow and JAX, each with the settings that make it fast and stable on CPU."""
    return [
        BackendRecord(
            name="torch",
            summary="PyTorch (default); CPU wheel: pip install torch==2.13.0",
            module="torch",
            install="pip install 'emokit[torch]'  (CPU build: pip install torch==2.13.0)",
            training_environment=onednn_cap_for,
            precision_limit=bfloat16_under_cap,
        ),
        BackendRecord(
            name="tensorflow",
            summary="TensorFlow (CPU); fastest training on CPU here, XLA off",
            module="tensorflow",
            install="pip install 'emokit[tensorflow]'",
            environment={"TF_CPP_MIN_LOG_LEVEL": "2"},
            # TensorFlow's CPU kernels use oneDNN too, with the same crash for the same models.
            training_environment=onednn_cap_for,
            precision_limit=bfloat16_under_cap,
            # XLA makes convolution training ~5x slower on CPU; plain TF graphs are faster.
            compile_options={"jit_compile": False},
        ),
        BackendRecord(
            name="jax",
            summary="JAX (CPU); XLA-compiled, slow convolutions on CPU",
            module="jax",
            install="pip install 'emokit[jax]'",
        ),
    ]
