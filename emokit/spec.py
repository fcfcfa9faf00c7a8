"""The common CNN spec: a backend-neutral, versioned, JSON-serialisable model description.

Architecture plugins return a :class:`ModelSpec`; :mod:`emokit.builder` turns it into a
``keras.Model`` on whichever backend is active, and :mod:`emokit.anatomy` computes shapes,
parameters and FLOPs from it without building anything. The vocabulary is small and closed
on purpose: every backend must build every node the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Literal, Union

from emokit import FER_CLASSES
from emokit.errors import EmokitError

SPEC_VERSION = 1
Padding = Literal["same", "valid"]


@dataclass(frozen=True)
class Conv:
    """2-D convolution (no activation unless given)."""

    filters: int
    kernel_size: int = 3
    stride: int = 1
    padding: Padding = "same"
    use_bias: bool = True
    activation: str | None = None
    kind: ClassVar[str] = "conv"


@dataclass(frozen=True)
class SeparableConv:
    """Depthwise-separable convolution: a depthwise k x k conv, then a 1 x 1 pointwise conv."""

    filters: int
    kernel_size: int = 3
    stride: int = 1
    padding: Padding = "same"
    use_bias: bool = True
    activation: str | None = None
    kind: ClassVar[str] = "separable_conv"


@dataclass(frozen=True)
class BatchNorm:
    """Batch normalisation over channels.

    ``momentum`` 0.9 (Keras defaults to 0.99) lets the moving statistics used at inference catch
    up within a few hundred steps, so short trainings on small datasets validate correctly.
    """

    momentum: float = 0.9
    kind: ClassVar[str] = "batch_norm"


@dataclass(frozen=True)
class Activation:
    """An elementwise activation: relu, elu, gelu, swish, tanh, sigmoid, softmax, ..."""

    function: str = "relu"
    kind: ClassVar[str] = "activation"


@dataclass(frozen=True)
class Pool:
    """Max or average pooling; ``stride`` defaults to ``size``."""

    mode: Literal["max", "avg"] = "max"
    size: int = 2
    stride: int | None = None
    padding: Padding = "valid"
    kind: ClassVar[str] = "pool"


@dataclass(frozen=True)
class GlobalPool:
    """Global max or average pooling to one value per channel."""

    mode: Literal["max", "avg"] = "avg"
    kind: ClassVar[str] = "global_pool"


@dataclass(frozen=True)
class Dropout:
    """Dropout with the given rate (training only)."""

    rate: float = 0.5
    kind: ClassVar[str] = "dropout"


@dataclass(frozen=True)
class Flatten:
    """Flatten (H, W, C) into one vector."""

    kind: ClassVar[str] = "flatten"


@dataclass(frozen=True)
class Dense:
    """Fully connected layer."""

    units: int
    activation: str | None = None
    kind: ClassVar[str] = "dense"


@dataclass(frozen=True)
class Residual:
    """``body(x) + shortcut(x)``; an empty shortcut is the identity."""

    body: tuple[Node, ...]
    shortcut: tuple[Node, ...] = ()
    kind: ClassVar[str] = "residual"


Node = Union[Conv, SeparableConv, BatchNorm, Activation, Pool, GlobalPool, Dropout, Flatten, Dense, Residual]


def walk(nodes: Iterable[Node]) -> Iterator[Node]:
    """Every node, depth first, including those inside residual bodies and shortcuts."""
    for node in nodes:
        yield node
        if isinstance(node, Residual):
            yield from walk(node.body)
            yield from walk(node.shortcut)


def is_strided_pointwise(node: Node) -> bool:
    """A 1x1 convolution with stride > 1 (``emokit.builder`` realises it as a subsample, then a stride-1 conv)."""
    return isinstance(node, Conv) and node.kernel_size == 1 and node.stride > 1


NODE_TYPES: dict[str, type] = {
    t.kind: t for t in (Conv, SeparableConv, BatchNorm, Activation, Pool, GlobalPool, Dropout, Flatten, Dense, Residual)
}


@dataclass(frozen=True)
class ModelSpec:
    """A whole model: input, layers, classes. Inputs are raw 0-255 pixels, scaled inside the model."""

    name: str
    layers: tuple[Node, ...]
    input_shape: tuple[int, int, int] = (48, 48, 1)
    class_names: tuple[str, ...] = FER_CLASSES
    #: Multiplier applied to raw pixels as the model's first step (0-255 -> 0-1).
    input_scale: float = 1 / 255
    #: The options the architecture was built with, for the record.
    options: dict[str, Any] = field(default_factory=dict)
    version: int = SPEC_VERSION

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "version": self.version,
            "name": self.name,
            "input_shape": list(self.input_shape),
            "class_names": list(self.class_names),
            "input_scale": self.input_scale,
            "options": dict(self.options),
            "layers": [node_to_dict(n) for n in self.layers],
        }

    def to_json(self) -> str:
        """The spec as indented JSON."""
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
        """Read a spec written by :meth:`to_dict`; a newer version or an unknown node is an error."""
        version = data.get("version")
        if version != SPEC_VERSION:
            raise EmokitError(f"Model spec version {version!r} is not supported (this emokit reads version {SPEC_VERSION}).")
        return cls(
            name=data["name"],
            layers=tuple(node_from_dict(n) for n in data["layers"]),
            input_shape=tuple(data["input_shape"]),
            class_names=tuple(data["class_names"]),
            input_scale=float(data["input_scale"]),
            options=dict(data.get("options", {})),
            version=version,
        )

    @classmethod
    def from_json(cls, text: str) -> ModelSpec:
        """Parse JSON written by :meth:`to_json`."""
        return cls.from_dict(json.loads(text))


def node_to_dict(node: Node) -> dict[str, Any]:
    """One node as ``{"kind": ..., field: value}``, residual bodies nested."""
    out: dict[str, Any] = {"kind": node.kind}
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, tuple):
            value = [node_to_dict(n) for n in value]
        out[f.name] = value
    return out


def node_from_dict(data: dict[str, Any]) -> Node:
    """The inverse of :func:`node_to_dict`."""
    data = dict(data)
    kind = data.pop("kind", None)
    node_type = NODE_TYPES.get(kind)
    if node_type is None:
        raise EmokitError(f"Unknown layer kind {kind!r} in model spec (known: {', '.join(NODE_TYPES)}).")
    for key in ("body", "shortcut"):
        if key in data:
            data[key] = tuple(node_from_dict(n) for n in data[key])
    try:
        return node_type(**data)
    except TypeError as exc:
        raise EmokitError(f"Bad '{kind}' layer in model spec: {exc}.") from None


__all__ = [
    "Activation", "BatchNorm", "Conv", "Dense", "Dropout", "Flatten", "GlobalPool",
    "ModelSpec", "Node", "Pool", "Residual", "SeparableConv", "SPEC_VERSION",
]
