"""Built-in Keras backends: torch (the default), tensorflow and jax."""

from __future__ import annotations

from emokit import hookimpl
from emokit.records import BackendRecord


@hookimpl
def emokit_backends() -> list[BackendRecord]:
    """PyTorch, TensorFlow and JAX, each with the settings that make it fast and stable on CPU."""
    return [
        BackendRecord(
            name="torch",
            summary="PyTorch (default); CPU wheel: pip install torch==2.13.0",
            module="torch",
            install="pip install 'emokit[torch]'  (CPU build: pip install torch==2.13.0)",
            # torch 2.13's oneDNN can segfault in the backward pass of a 1x1 stride-2 convolution
            # (mini-Xception's shortcuts) with AVX-512 kernels; capping the ISA at AVX2 avoids it.
            environment={"ONEDNN_MAX_CPU_ISA": "AVX2"},
        ),
        BackendRecord(
            name="tensorflow",
            summary="TensorFlow (CPU); fastest training on CPU here, XLA off",
            module="tensorflow",
            install="pip install 'emokit[tensorflow]'",
            # TensorFlow's CPU kernels use oneDNN too; mini-Xception training crashed here (general
            # protection fault in tf_Compute) without the same AVX2 cap the torch backend needs.
            environment={"TF_CPP_MIN_LOG_LEVEL": "2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
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
