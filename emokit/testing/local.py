"""Contract checks that run in this process: well-formed records, specs, datasets, face detectors,
runtimes (their module installed), exporters (their runtime exists) and commands (their function resolves).

None of these imports Keras; the checks that need a backend are in :mod:`emokit.testing.backends`.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np

from emokit import FER_CLASSES
from emokit.anatomy import anatomy
from emokit.records import Box, LazyImport
from emokit.registry import record_problems
from emokit.spec import ModelSpec
from emokit.testing.results import CheckResult, result

#: (input shape, class names) every architecture is built for: emokit's default, and an RGB input
#: of another size with another number of classes, which catches hard-coded shapes and class counts.
SPEC_INPUTS: tuple[tuple[tuple[int, int, int], tuple[str, ...]], ...] = (
    ((48, 48, 1), FER_CLASSES),
    ((64, 64, 3), ("negative", "neutral", "positive")),
)


def check_well_formed(record: Any, kind: str, plugin: str = "-") -> CheckResult:
    """The record has the right type, non-empty name and summary, callables, and options its callable accepts."""
    return result(plugin, kind, _name(record), "well formed", record_problems(record, kind))


def check_specs(record: Any, plugin: str = "-") -> tuple[list[CheckResult], list[str]]:
    """Build the architecture's spec for each of :data:`SPEC_INPUTS`; check it and its JSON round trip.

    Returns the results and the specs as JSON, which the per-backend checks build in other processes.
    """
    results: list[CheckResult] = []
    specs: list[str] = []
    for input_shape, class_names in SPEC_INPUTS:
        label = f"spec for {input_shape} with {len(class_names)} classes"
        try:
            spec = record.build(input_shape=input_shape, class_names=class_names, **record.options)
        except Exception as exc:
            results.append(result(plugin, "architecture", record.name, label, f"build() raised {type(exc).__name__}: {exc}"))
            continue
        problems = _spec_problems(spec, input_shape, class_names)
        results.append(result(plugin, "architecture", record.name, label, problems))
        if problems:
            continue
        round_trip = _round_trip_problems(spec)
        results.append(result(plugin, "architecture", record.name, f"{label} round-trips through JSON", round_trip))
        if not round_trip:
            specs.append(spec.to_json())
    return results, specs


def _spec_problems(spec: Any, input_shape: tuple[int, int, int], class_names: tuple[str, ...]) -> list[str]:
    if not isinstance(spec, ModelSpec):
        return [f"build() returned {type(spec).__name__}, not an emokit.spec.ModelSpec."]
    problems = []
    if tuple(spec.input_shape) != input_shape:
        problems.append(f"spec.input_shape is {spec.input_shape}, but build() was asked for {input_shape}.")
    if tuple(spec.class_names) != class_names:
        problems.append(f"spec.class_names is {spec.class_names}, but build() was given {class_names}.")
    try:
        outputs = anatomy(spec).rows[-1].output_shape
    except Exception as exc:  # anatomy validates every layer's shape
        return problems + [f"the spec's layers do not fit together: {exc}"]
    if tuple(outputs) != (len(class_names),):
        problems.append(f"the model outputs shape {tuple(outputs)}, expected ({len(class_names)},): one probability per class.")
    return problems


def _round_trip_problems(spec: ModelSpec) -> list[str]:
    try:
        again = ModelSpec.from_json(spec.to_json())
    except (TypeError, ValueError) as exc:  # options that are not JSON data, for one
        return [f"the spec does not serialise to JSON: {exc}"]
    except Exception as exc:
        return [f"the spec's JSON does not read back: {exc}"]
    if again != spec:
        return ["the spec read back from JSON differs from the original (use tuples for sequences, "
                "plain str/int/float/bool/None in options)."]
    return []


def check_dataset(record: Any, plugin: str = "-") -> CheckResult:
    """``can_open`` answers ``False`` (a bool, not an exception) for a path that does not exist."""
    missing = Path("/nonexistent/emokit-contract-check/data.zip")
    try:
        answer = record.can_open(missing)
    except Exception as exc:
        return result(plugin, "dataset", record.name, "can_open on a missing path", f"raised {type(exc).__name__}: {exc}")
    ok = isinstance(answer, (bool, np.bool_)) and not answer
    return result(plugin, "dataset", record.name, "can_open on a missing path",
                  None if ok else f"returned {answer!r}; expected False.")


def check_face_detector(record: Any, plugin: str = "-") -> CheckResult:
    """``create(**options)`` gives a detector whose ``detect`` returns a list of Box for gray and RGB images."""
    check = "create() and detect() on gray and RGB images"
    try:
        detector = record.create(**record.options)
        for image in (np.full((96, 96), 128, np.uint8), np.full((96, 96, 3), 128, np.uint8)):
            boxes = detector.detect(image)
            if not isinstance(boxes, list) or not all(isinstance(b, Box) for b in boxes):
                return result(plugin, "face_detector", record.name, check,
                              f"detect() returned {type(boxes).__name__}; expected a list of emokit.records.Box.")
    except Exception as exc:
        return result(plugin, "face_detector", record.name, check, f"raised {type(exc).__name__}: {exc}")
    return result(plugin, "face_detector", record.name, check, None)


def check_runtime(record: Any, plugin: str = "-") -> CheckResult:
    """The runtime's module is installed (found without importing it: runtimes import it only when opened);
    when it is not, the check is skipped with the record's install line, as a missing backend is."""
    check = "its module is installed"
    if not record.module:
        return result(plugin, "runtime", record.name, check, None)
    try:
        found = importlib.util.find_spec(record.module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        return CheckResult(plugin, "runtime", record.name, check, "skip",
                           f"'{record.module}' is not installed; install it with: {record.install or '(no install line given)'}")
    return result(plugin, "runtime", record.name, check, None)


def check_exporter(record: Any, runtimes: Any, plugin: str = "-") -> CheckResult:
    """The runtime that runs the exported file (``record.runtime``) is one of ``runtimes``, and the suffix is a suffix."""
    problems = []
    if record.runtime not in runtimes:
        problems.append(f"its runtime '{record.runtime}' is not a registered runtime (have: {', '.join(sorted(runtimes)) or 'none'}).")
    if not record.suffix.startswith("."):
        problems.append(f"its suffix {record.suffix!r} does not start with '.'.")
    return result(plugin, "exporter", record.name, "its runtime exists and its suffix is a file suffix", problems)


def check_command(record: Any, plugin: str = "-") -> CheckResult:
    """The command's function can be found: a :class:`~emokit.records.LazyImport` target imports."""
    check = "its function can be imported"
    if isinstance(record.function, LazyImport):
        try:
            function = record.function.resolve()
        except Exception as exc:
            return result(plugin, "command", record.name, check, f"{record.function.target}: {type(exc).__name__}: {exc}")
        if not callable(function):
            return result(plugin, "command", record.name, check, f"{record.function.target} is a {type(function).__name__}, not callable.")
    return result(plugin, "command", record.name, check, None)


def function_reference(function: Any) -> str | None:
    """``module:qualname`` when ``function`` can be imported by name in another process, else None."""
    module, qualname = getattr(function, "__module__", None), getattr(function, "__qualname__", "")
    if not module or not qualname or "<" in qualname or module == "__main__":
        return None
    return f"{module}:{qualname}"


def json_options(options: Any) -> str | None:
    """The options as JSON, or None when they are not plain data."""
    try:
        return json.dumps(dict(options))
    except (TypeError, ValueError):
        return None


def _name(record: Any) -> str:
    name = getattr(record, "name", None)
    return name if isinstance(name, str) and name else type(record).__name__
