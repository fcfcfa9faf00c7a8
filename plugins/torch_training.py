"""What the torch backend changes to train faster: a fused batch norm layer (``training_layer``).

Keras 3's ``BatchNormalization`` differentiates separate reductions and elementwise ops
(``plugins/fused_batch_norm.py``); PyTorch has one kernel for all of that,
``torch.nn.functional.batch_norm``, with a fused backward. small_cnn trains 1.26x faster on torch with
it; mini_xception, whose torch step is mostly Keras's per-layer Python, no measurably faster
(docs/benchmarks.md).

Neither Keras nor torch is imported at module level: Keras arrives as ``keras`` and torch is imported
inside the function, which emokit calls only once it has chosen the backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emokit.spec import Node

from .fused_batch_norm import fused_batch_norm_layer


def training_layer(keras: Any, node: Node, layer_kwargs: Mapping[str, Any]) -> Any:
    """The fused batch norm for :class:`~emokit.spec.BatchNorm` nodes; ``None`` (Keras's layer) for the rest."""
    return fused_batch_norm_layer(keras, node, layer_kwargs, _fused_batch_norm)


def _fused_batch_norm(x: Any, gamma: Any, beta: Any, epsilon: float) -> tuple[Any, Any, Any]:
    """``torch.nn.functional.batch_norm`` in training mode: output, batch mean, biased batch variance."""
    import torch  # noqa: PLC0415 - only once the torch backend is active

    channels = x.shape[-1]
    # Keras keeps images channels-last; this view is NCHW over the same memory, which PyTorch's kernel
    # handles as channels_last without a copy.
    nchw = x.permute(0, 3, 1, 2)
    # With momentum 1 the "running" buffers come back holding this batch's mean and unbiased variance:
    # the statistics for Keras's moving averages, without computing them again.
    mean = torch.zeros(channels, dtype=x.dtype, device=x.device)
    variance = torch.ones(channels, dtype=x.dtype, device=x.device)
    y = torch.nn.functional.batch_norm(nchw, mean, variance, gamma, beta, training=True, momentum=1.0, eps=epsilon)
    count = x.numel() // channels
    return y.permute(0, 2, 3, 1), mean, variance * ((count - 1) / count)  # Keras keeps the biased variance
