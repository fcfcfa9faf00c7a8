"""Built-in Keras backends: torch (the default), tensorflow and jax.

None of them caps oneDNN's instruction set any more. torch 2.13's oneDNN segfaults in the backward
pass of a strided 1x1 convolution with AVX-512 kernels (mini_xception's and resnet_fer's shortcuts);
emokit's builder never emits one (it takes every stride-th pixel, then convolves at stride 1: see
``emokit.builder``), so every model trains with the CPU's full instruction set, in float32 or bfloat16.
"""

from __future__ import annotations

from emokit import hookimpl
from emokit.records import BackendRecord
from . import tensorflow_training, torch_training


@hookimpl
def emokit_backends() -> list[BackendRecord]:
    """PyTorch, TensorFlow and JAX, each with the settings that make it fast and stable on CPU."""
    return [
        BackendRecord(
            name="torch",
            summary="PyTorch (default); CPU wheel: pip install torch==2.13.0",
            module="torch",
            install="pip install 'emokit[torch]'  (CPU build: pip install torch==2.13.0)",
            # Keras's batch norm is backend-neutral ops; PyTorch's fused kernel trains faster (docs/benchmarks.md).
            training_layer=torch_training.training_layer,
        ),
        BackendRecord(
            name="tensorflow",
            summary="TensorFlow (CPU); fastest training on CPU here, XLA off",
            module="tensorflow",
            install="pip install 'emokit[tensorflow]'",
            environment={"TF_CPP_MIN_LOG_LEVEL": "2"},
            # XLA makes convolution training ~5x slower on CPU; plain TF graphs are faster. Eight steps per
            # tf.function call skip Keras's per-step Python: +5% in one A/B, within the noise in another
            # (docs/benchmarks.md); the only cost is a progress bar that moves eight batches at a time.
            compile_options={"jit_compile": False, "steps_per_execution": 8},
            # Keras's batch norm is backend-neutral ops; TensorFlow's fused kernel trains mini_xception ~1.5x faster.
            training_layer=tensorflow_training.training_layer,
            # Keras's own pipeline for arrays often stalls 5 s per epoch tearing down tf.data's autotuner.
            fit_data=tensorflow_training.fit_data,
        ),
        BackendRecord(
            name="jax",
            summary="JAX (CPU); XLA-compiled, slow convolutions on CPU",
            module="jax",
            install="pip install 'emokit[jax]'",
        ),
    ]
