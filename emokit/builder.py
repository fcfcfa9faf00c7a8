"""Turn a :class:`~emokit.spec.ModelSpec` into a ``keras.Model`` on the active backend.

This is the only place that maps spec nodes to Keras layers. ``keras`` is passed in, so this
module can be imported before the backend is chosen.

Precision: ``float32`` everywhere, or Keras's ``mixed_bfloat16`` policy (bfloat16 compute, float32
weights), which CPUs with AVX-512 BF16 or AMX run about twice as fast. Under mixed precision the
last node is still computed in float32 so that the softmax and the loss keep full precision (the
Keras mixed-precision guide's advice); the weights are float32 either way, so a run trained in
bfloat16 is evaluated and served by the same float32 model as any other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from emokit.anatomy import anatomy, layer_name
from emokit.spec import (
    Activation,
    BatchNorm,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalPool,
    ModelSpec,
    Node,
    Pool,
    Residual,
    SeparableConv,
    is_strided_pointwise,
)


#: ``--precision`` values: Keras dtype policy names.
PRECISIONS = ("float32", "mixed_bfloat16")

#: A backend's faster layer for a node, or ``None`` (see ``BackendRecord.training_layer``).
LayerFor = Callable[[Any, Node, Mapping[str, Any]], Any]


def _layer(keras: Any, node: Node, name: str, dtype: str, layer_for: LayerFor | None) -> Any:
    L = keras.layers
    common = {"name": name, "dtype": dtype}
    if layer_for is not None and (layer := layer_for(keras, node, common)) is not None:
        return layer
    if isinstance(node, Conv):
        return L.Conv2D(node.filters, node.kernel_size, strides=node.stride, padding=node.padding,
                        use_bias=node.use_bias, activation=node.activation, **common)
    if isinstance(node, SeparableConv):
        return L.SeparableConv2D(node.filters, node.kernel_size, strides=node.stride, padding=node.padding,
                                 use_bias=node.use_bias, activation=node.activation, **common)
    if isinstance(node, BatchNorm):
        return L.BatchNormalization(momentum=node.momentum, **common)
    if isinstance(node, Activation):
        return L.Activation(node.function, **common)
    if isinstance(node, Pool):
        cls = L.MaxPooling2D if node.mode == "max" else L.AveragePooling2D
        return cls(pool_size=node.size, strides=node.stride or node.size, padding=node.padding, **common)
    if isinstance(node, GlobalPool):
        return (L.GlobalMaxPooling2D if node.mode == "max" else L.GlobalAveragePooling2D)(**common)
    if isinstance(node, Dropout):
        return L.Dropout(node.rate, **common)
    if isinstance(node, Flatten):
        return L.Flatten(**common)
    if isinstance(node, Dense):
        return L.Dense(node.units, activation=node.activation, **common)
    raise TypeError(f"Unknown spec node {node!r}")  # pragma: no cover - the vocabulary is closed


def _apply(keras: Any, node: Node, x: Any, name: str, dtype: str, layer_for: LayerFor | None) -> Any:
    if is_strided_pointwise(node):
        # A strided 1x1 convolution reads every stride-th pixel: take those pixels first (a 1x1 pool with
        # the same stride), then convolve at stride 1. Same outputs and the same weights, and it avoids
        # oneDNN's strided 1x1 backward pass, which crashes torch 2.13 and TensorFlow with AVX-512 kernels.
        x = keras.layers.MaxPooling2D(pool_size=1, strides=node.stride, padding=node.padding,
                                      name=f"{name}_subsample", dtype=dtype)(x)
        node = dataclasses.replace(node, stride=1)
    if isinstance(node, Residual):
        body = x
        for i, child in enumerate(node.body):
            body = _apply(keras, child, body, f"{name}_body{i}", dtype, layer_for)
        shortcut = x
        for i, child in enumerate(node.shortcut):
            shortcut = _apply(keras, child, shortcut, f"{name}_shortcut{i}", dtype, layer_for)
        return keras.layers.Add(name=name, dtype=dtype)([body, shortcut])
    return _layer(keras, node, name, dtype, layer_for)(x)


def build_model(spec: ModelSpec, keras: Any, precision: str = "float32", layer_for: LayerFor | None = None) -> Any:
    """Build the model: raw 0-255 pixels in, ``spec.input_scale`` applied first, class probabilities out.

    ``precision`` is one of :data:`PRECISIONS`; the last node always computes in float32.
    ``layer_for`` (the training backend's ``training_layer``) may supply a faster layer for a node;
    the model's variables, and so its weights file, are the same either way.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    anatomy(spec)  # validates shapes with a clear message before Keras sees them
    inputs = keras.Input(shape=tuple(spec.input_shape), name="pixels")
    x = keras.layers.Rescaling(spec.input_scale, name="scale", dtype=precision)(inputs)
    last = len(spec.layers) - 1
    for i, node in enumerate(spec.layers):
        x = _apply(keras, node, x, layer_name(i, node), "float32" if i == last else precision, layer_for)
    return keras.Model(inputs, x, name=spec.name)
