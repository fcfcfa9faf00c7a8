"""Build a ModelSpec from an architecture name and ``key=value`` options."""

from __future__ import annotations

from collections.abc import Iterable

from emokit import FER_CLASSES
from emokit.errors import EmokitError
from emokit.options import parse_options
from emokit.registry import Registry
from emokit.spec import ModelSpec


def spec_for(
    registry: Registry,
    arch: str,
    sets: Iterable[str] = (),
    input_shape: tuple[int, int, int] = (48, 48, 1),
    class_names: tuple[str, ...] = FER_CLASSES,
) -> ModelSpec:
    """The spec of architecture ``arch`` with ``--set`` options applied; errors name the option at fault."""
    record = registry.get("architecture", arch)
    options = {**record.options, **parse_options(sets, record.options, f"Architecture '{arch}'")}
    if input_shape[-1] not in (1, 3):
        raise EmokitError(f"Input channels must be 1 (grayscale) or 3 (RGB), got {input_shape[-1]}.")
    try:
        spec = record.build(input_shape=tuple(input_shape), class_names=tuple(class_names), **options)
    except (TypeError, ValueError) as exc:
        raise EmokitError(f"Architecture '{arch}' rejected its options {options}: {exc}") from None
    if not isinstance(spec, ModelSpec):
        raise EmokitError(f"Architecture '{arch}' returned {type(spec).__name__}, not a ModelSpec.")
    return spec
