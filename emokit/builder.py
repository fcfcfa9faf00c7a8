"""Turn a :class:`~emokit.spec.ModelSpec` into a ``keras.Model`` on the active backend.

This is the only place that maps spec nodes to Keras layers. ``keras`` is passed in, so this
module can be imported before the backend is chosen.
"""

from __future__ import annotations

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
)


def _layer(keras: Any, node: Node, name: str) -> Any:
    L = keras.layers
    if isinstance(node, Conv):
        return L.Conv2D(node.filters, node.kernel_size, strides=node.stride, padding=node.padding,
                        use_bias=node.use_bias, activation=node.activation, name=name)
    if isinstance(node, SeparableConv):
        return L.SeparableConv2D(node.filters, node.kernel_size, strides=node.stride, padding=node.padding,
                                 use_bias=node.use_bias, activation=node.activation, name=name)
    if isinstance(node, BatchNorm):
        return L.BatchNormalization(momentum=node.momentum, name=name)
    if isinstance(node, Activation):
        return L.Activation(node.function, name=name)
    if isinstance(node, Pool):
        cls = L.MaxPooling2D if node.mode == "max" else L.AveragePooling2D
        return cls(pool_size=node.size, strides=node.stride or node.size, padding=node.padding, name=name)
    if isinstance(node, GlobalPool):
        return (L.GlobalMaxPooling2D if node.mode == "max" else L.GlobalAveragePooling2D)(name=name)
    if isinstance(node, Dropout):
        return L.Dropout(node.rate, name=name)
    if isinstance(node, Flatten):
        return L.Flatten(name=name)
    if isinstance(node, Dense):
        return L.Dense(node.units, activation=node.activation, name=name)
    raise TypeError(f"Unknown spec node {node!r}")  # pragma: no cover - the vocabulary is closed


def _apply(keras: Any, node: Node, x: Any, name: str) -> Any:
    if isinstance(node, Residual):
        body = x
        for i, child in enumerate(node.body):
            body = _apply(keras, child, body, f"{name}_body{i}")
        shortcut = x
        for i, child in enumerate(node.shortcut):
            shortcut = _apply(keras, child, shortcut, f"{name}_shortcut{i}")
        return keras.layers.Add(name=name)([body, shortcut])
    return _layer(keras, node, name)(x)


def build_model(spec: ModelSpec, keras: Any) -> Any:
    """Build the model: raw 0-255 pixels in, ``spec.input_scale`` applied first, class probabilities out."""
    anatomy(spec)  # validates shapes with a clear message before Keras sees them
    inputs = keras.Input(shape=tuple(spec.input_shape), name="pixels")
    x = keras.layers.Rescaling(spec.input_scale, name="scale")(inputs)
    for i, node in enumerate(spec.layers):
        x = _apply(keras, node, x, layer_name(i, node))
    return keras.Model(inputs, x, name=spec.name)
