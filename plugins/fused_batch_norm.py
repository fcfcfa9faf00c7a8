"""Keras's ``BatchNormalization`` with its training step done by one backend kernel.

Keras 3's batch norm is written once for every backend: in training it computes the batch mean and
variance with separate reductions, then normalizes with elementwise ops, and the backend
differentiates each of them. TensorFlow and PyTorch each have one kernel for all of that, with a fused
gradient (``plugins/tensorflow_training.py``, ``plugins/torch_training.py`` supply it). The layer here
is Keras's own with only the training branch replaced, so it has the same variables and the same
inference path: runs load into the standard model, on any backend.

Keras is never imported here: it arrives as ``keras``, once emokit has chosen the backend.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from emokit.spec import BatchNorm, Node

#: ``normalize(x, gamma, beta, epsilon) -> (y, batch mean, biased batch variance)`` for float32,
#: channels-last ``x``: one backend's fused batch norm in training mode, differentiable.
Normalize = Callable[[Any, Any, Any, float], tuple[Any, Any, Any]]


def fused_batch_norm_layer(keras: Any, node: Node, layer_kwargs: Mapping[str, Any], normalize: Normalize) -> Any:
    """For a :class:`~emokit.spec.BatchNorm` node, Keras's layer training with ``normalize``; ``None`` otherwise."""
    if isinstance(node, BatchNorm):
        return fused_batch_norm_class(keras, normalize)(momentum=node.momentum, **layer_kwargs)
    return None


def fused_batch_norm_class(keras: Any, normalize: Normalize) -> type:
    """``keras.layers.BatchNormalization`` whose training step is ``normalize``."""

    # Named like Keras's class on purpose: Keras files a layer's weights under its class name, so
    # this name keeps the weights file identical to the standard model's.
    class BatchNormalization(keras.layers.BatchNormalization):
        """Keras batch norm; in training, one fused kernel (same statistics, same updates)."""

        def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
            fusable = (training and self.trainable and mask is None and not self.renorm and self.center
                       and self.scale and len(inputs.shape) == 4 and self.axis in (-1, 3))
            if not fusable:
                return super().call(inputs, training=training, mask=mask)
            # Statistics in float32 under mixed precision too, as Keras's layer computes them.
            y, mean, variance = normalize(keras.ops.cast(inputs, "float32"), keras.ops.cast(self.gamma, "float32"),
                                          keras.ops.cast(self.beta, "float32"), self.epsilon)
            self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
            self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
            return keras.ops.cast(y, self.compute_dtype)

    return BatchNormalization
