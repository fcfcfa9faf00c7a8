"""Build a ModelSpec from an architecture name and its options: the one way, for every command.

``emokit describe``, the trainer (with the data's class names), the trainer's pre-flight check
(with placeholder ones) and the tests all call :func:`build_spec`; :func:`spec_for` is the same
from ``--set key=value`` texts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from emokit import FER_CLASSES
from emokit.errors import EmokitError, PluginError
from emokit.options import parse_options
from emokit.plugin_errors import one_line, plugin_label
from emokit.registry import Registry
from emokit.spec import ModelSpec


def build_spec(
    registry: Registry,
    arch: str,
    options: Mapping[str, Any] | None = None,
    input_shape: tuple[int, int, int] = (48, 48, 1),
    class_names: tuple[str, ...] = FER_CLASSES,
) -> ModelSpec:
    """The spec of architecture ``arch`` for ``input_shape`` (height, width, channels) and ``class_names``.

    ``options`` are already parsed and typed (a ``TrainConfig``'s ``arch_options``, or
    :func:`emokit.options.parse_options`' result); the record's defaults fill the rest. Raises a
    one-line :class:`PluginError` naming the architecture, its plugin and package, the input size
    and the options when ``build`` raises or returns something other than a spec.
    """
    record = registry.get("architecture", arch)
    if input_shape[-1] not in (1, 3):
        raise EmokitError(f"Input channels must be 1 (grayscale) or 3 (RGB), got {input_shape[-1]}.")
    options = dict(options or {})
    label = plugin_label(registry, "architecture", arch)
    size = "x".join(str(n) for n in input_shape)
    try:
        spec = record.build(input_shape=tuple(input_shape), class_names=tuple(class_names), **{**record.options, **options})
    except EmokitError as exc:
        raise PluginError(f"{label} refused a {size} input: {exc}") from None
    except Exception as exc:  # plugin code: any failure is the plugin's, named in one line
        raise PluginError(f"{label}: build() raised {one_line(exc)} (input {size}, options {options or 'default'}).") from None
    if not isinstance(spec, ModelSpec):
        raise PluginError(f"{label}: build() returned {type(spec).__name__}, not a ModelSpec.")
    return spec


def spec_for(
    registry: Registry,
    arch: str,
    sets: Iterable[str] = (),
    input_shape: tuple[int, int, int] = (48, 48, 1),
    class_names: tuple[str, ...] = FER_CLASSES,
) -> ModelSpec:
    """:func:`build_spec` with ``--set key=value`` texts as options; errors name the option at fault."""
    record = registry.get("architecture", arch)
    options = parse_options(sets, record.options, f"Architecture '{arch}'")
    return build_spec(registry, arch, options, input_shape, class_names)
