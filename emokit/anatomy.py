"""Layer-by-layer anatomy of a spec (output shape, parameters, FLOPs) without building a model.

Parameter counts follow Keras exactly (batch norm counts its 4 per-channel vectors), so a
test can compare them with ``model.count_params()``. FLOPs count a multiply-add as 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from emokit.errors import EmokitError
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

Shape = tuple[int, ...]


@dataclass(frozen=True)
class LayerRow:
    """One row of the anatomy table; ``depth`` > 0 for layers inside a residual block."""

    name: str
    description: str
    output_shape: Shape
    params: int
    flops: int
    depth: int = 0


@dataclass(frozen=True)
class Anatomy:
    """Every layer, plus totals."""

    rows: tuple[LayerRow, ...]

    @property
    def params(self) -> int:
        """Total parameters (trainable and not), as Keras counts them."""
        return sum(r.params for r in self.rows)

    @property
    def flops(self) -> int:
        """Forward-pass FLOPs for one image."""
        return sum(r.flops for r in self.rows)

    @property
    def output_shape(self) -> Shape:
        return self.rows[-1].output_shape


def _conv_out(size: int, kernel: int, stride: int, padding: str) -> int:
    if padding == "same":
        return math.ceil(size / stride)
    return (size - kernel) // stride + 1


def _numel(shape: Shape) -> int:
    return math.prod(shape)


def _describe(node: Node) -> str:
    if isinstance(node, (Conv, SeparableConv)):
        act = f", {node.activation}" if node.activation else ""
        return f"{node.filters} filters {node.kernel_size}x{node.kernel_size} /{node.stride} {node.padding}{act}"
    if isinstance(node, Pool):
        return f"{node.mode} {node.size}x{node.size} /{node.stride or node.size} {node.padding}"
    if isinstance(node, Dense):
        return f"{node.units} units" + (f", {node.activation}" if node.activation else "")
    if isinstance(node, Activation):
        return node.function
    if isinstance(node, Dropout):
        return f"rate {node.rate}"
    if isinstance(node, GlobalPool):
        return node.mode
    if isinstance(node, Residual):
        return "add(body, " + ("projection" if node.shortcut else "identity") + ")"
    return ""


def _node_rows(node: Node, shape: Shape, depth: int, name: str) -> tuple[list[LayerRow], Shape]:
    """Rows for one node (several for a residual block) and its output shape."""
    if isinstance(node, Residual):
        rows: list[LayerRow] = []
        body_shape = shape
        for i, child in enumerate(node.body):
            child_rows, body_shape = _node_rows(child, body_shape, depth + 1, f"{name}_body{i}")
            rows += child_rows
        short_shape = shape
        for i, child in enumerate(node.shortcut):
            child_rows, short_shape = _node_rows(child, short_shape, depth + 1, f"{name}_shortcut{i}")
            rows += child_rows
        if body_shape != short_shape:
            raise EmokitError(f"Residual block {name}: body gives {body_shape} but shortcut gives {short_shape}.")
        rows.append(LayerRow(name, _describe(node), body_shape, 0, _numel(body_shape), depth))
        return rows, body_shape

    params = flops = 0
    if isinstance(node, (Conv, SeparableConv)):
        if len(shape) != 3:
            raise EmokitError(f"Layer {name} ({node.kind}) needs an image-shaped input, got {shape}.")
        h, w, cin = shape
        k = node.kernel_size
        out = (_conv_out(h, k, node.stride, node.padding), _conv_out(w, k, node.stride, node.padding), node.filters)
        pixels = out[0] * out[1]
        if isinstance(node, Conv):
            params = k * k * cin * node.filters
            flops = 2 * params * pixels
        else:
            params = k * k * cin + cin * node.filters
            flops = 2 * (k * k * cin + cin * node.filters) * pixels
        params += node.filters if node.use_bias else 0
    elif isinstance(node, Pool):
        h, w, c = shape
        stride = node.stride or node.size
        out = (_conv_out(h, node.size, stride, node.padding), _conv_out(w, node.size, stride, node.padding), c)
        flops = _numel(out) * node.size * node.size
    elif isinstance(node, GlobalPool):
        out = (shape[-1],)
        flops = _numel(shape)
    elif isinstance(node, Flatten):
        out = (_numel(shape),)
    elif isinstance(node, Dense):
        out = (*shape[:-1], node.units)
        params = shape[-1] * node.units + node.units
        flops = 2 * shape[-1] * node.units
    elif isinstance(node, BatchNorm):
        out = shape
        params = 4 * shape[-1]
        flops = 2 * _numel(shape)
    elif isinstance(node, (Activation, Dropout)):
        out = shape
        flops = _numel(shape) if isinstance(node, Activation) else 0
    else:  # pragma: no cover - the vocabulary is closed
        raise EmokitError(f"Unknown layer {node!r}.")
    if min(out) <= 0:
        raise EmokitError(f"Layer {name} ({node.kind}) shrinks the image to nothing: output shape {out}.")
    return [LayerRow(name, f"{node.kind} {_describe(node)}".strip(), out, params, flops, depth)], out


def anatomy(spec: ModelSpec) -> Anatomy:
    """Walk the spec and compute every layer's output shape, parameters and FLOPs."""
    shape: Shape = tuple(spec.input_shape)
    rows = [LayerRow("input", f"raw pixels x {spec.input_scale:.6g}", shape, 0, 0)]
    for i, node in enumerate(spec.layers):
        node_rows, shape = _node_rows(node, shape, 0, layer_name(i, node))
        rows += node_rows
    if shape != (len(spec.class_names),):
        raise EmokitError(f"Model '{spec.name}' outputs shape {shape}, expected ({len(spec.class_names)},) for its classes.")
    return Anatomy(tuple(rows))


def layer_name(index: int, node: Node) -> str:
    """The stable name of a top-level layer; the builder uses the same names so weights map by name."""
    return f"{index:02d}_{node.kind}"
