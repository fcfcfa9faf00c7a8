"""Open a trained model on a runtime from the ``emokit_runtimes`` hook: ``keras``, ``litert``, ``onnx``, or ``auto``.

``auto`` serves a run's exported model when it has a current export (made from its current weights)
whose runtime is installed and no Keras backend was asked for: the one with the lowest per-face
latency measured when it was exported (``emokit export`` records it). Otherwise it runs Keras. An
exported file given directly is opened by the runtime whose suffix it has; a bundled model by the runtime
its record names.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from emokit.errors import EmokitError
from emokit.inference.runtime import ModelSource, Runtime
from emokit.options import check_options
from emokit.records import ModelRecord, RuntimeRecord
from emokit.registry import Registry
from emokit.runs import Run

AUTO = "auto"
#: The built-in runtime names and ``auto``, for help texts; the registry holds the ones installed plugins add.
RUNTIME_CHOICES = (AUTO, "keras", "litert", "onnx")
#: The runtime that needs no export: a run's Keras weights on a Keras backend.
KERAS = "keras"
#: ``auto``'s order among current exports that recorded no latency (made before latency was recorded).
UNMEASURED_ORDER = ("litert", "onnx")


def runtime_names(registry: Registry) -> list[str]:
    """``auto`` and every registered runtime."""
    return [AUTO, *registry.names("runtime")]


def check_runtime(registry: Registry, name: str) -> None:
    """Raise a one-line error for a runtime name that is neither ``auto`` nor registered, listing the names."""
    if name != AUTO and name not in registry.entries["runtime"]:
        raise EmokitError(f"Unknown runtime '{name}'. Available: {', '.join(runtime_names(registry))}.")


def is_installed(record: RuntimeRecord) -> bool:
    """Whether the runtime's library can be imported (a runtime needing none always can)."""
    return not record.module or importlib.util.find_spec(record.module) is not None


def require_installed(record: RuntimeRecord) -> None:
    """A one-line error with the install line when the runtime's library is missing."""
    if not is_installed(record):
        raise EmokitError(f"Runtime '{record.name}' needs the '{record.module}' package, which is not installed. "
                          f"Run: {record.install}")


def open_runtime(model: Run | str | Path | ModelSource | ModelRecord, registry: Registry, runtime: str = AUTO,
                 backend: str | None = None, options: Mapping[str, Any] | None = None,
                 root: Path | None = None) -> Runtime:
    """Load ``model`` (a :class:`Run`, a run folder or name under ``root``, an exported file, a bundled
    model or its short name, or a :class:`ModelSource`) on ``runtime`` and return it as a :class:`Runtime`.

    ``backend`` is the Keras backend for the ``keras`` runtime (and makes ``auto`` choose Keras);
    ``options`` are the runtime's own (``{"threads": 2}``), checked against what its record declares.
    A swapped or stale artefact is refused by every runtime, ``auto`` included, in one line.
    """
    from emokit.inference.source import model_source  # noqa: PLC0415 - reads run files only when opening

    check_runtime(registry, runtime)
    source = model_source(model, root, registry)
    name = choose_runtime(source, registry, backend) if runtime == AUTO else runtime
    record: RuntimeRecord = registry.get("runtime", name)
    require_installed(record)
    if source.file is not None and source.file.suffix not in record.suffixes:
        raise EmokitError(f"Runtime '{name}' does not open '{source.file.name}' files; "
                          f"use --runtime {_runtime_for_file(registry, source.file) or AUTO}.")
    values = check_options(dict(options or {}), record.options, f"Runtime '{name}'")
    if "backend" in record.options:
        values["backend"] = backend
    return record.open(source, registry, **values)


def choose_runtime(source: ModelSource, registry: Registry, backend: str | None = None) -> str:
    """What ``auto`` opens ``source`` with (see the module docstring); a bundled model names its runtime."""
    if source.model is not None:
        return source.model.runtime
    if source.file is not None:
        found = _runtime_for_file(registry, source.file)
        if found is None:
            raise EmokitError(f"No runtime opens '{source.file.name}' files. Runtimes: {', '.join(registry.names('runtime'))}.")
        return found
    if backend is not None or source.run is None:
        return KERAS
    from emokit.inference.export_records import current_exports  # noqa: PLC0415

    usable = {}
    for format, record in current_exports(source.run).items():
        exporter = registry.entries["exporter"].get(format)
        runtime = exporter.record.runtime if exporter is not None else format
        if runtime in registry.entries["runtime"] and is_installed(registry.get("runtime", runtime)):
            usable[runtime] = record
    if not usable:
        return KERAS
    return min(usable, key=lambda name: (usable[name].get("latency_ms", float("inf")), _unmeasured_rank(name)))


def _unmeasured_rank(name: str) -> int:
    return UNMEASURED_ORDER.index(name) if name in UNMEASURED_ORDER else len(UNMEASURED_ORDER)


def _runtime_for_file(registry: Registry, file: Path) -> str | None:
    for name, record in registry.records("runtime").items():
        if file.suffix in record.suffixes:
            return name
    return None
