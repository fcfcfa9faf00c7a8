"""Run the Keras checks on every installed backend, one fresh process per backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emokit.backend import environment_for, is_installed
from emokit.records import BackendRecord
from emokit.registry import Registry
from emokit.testing.local import function_reference, json_options
from emokit.testing.results import CheckResult

#: Seconds one backend may take for all its checks before it is reported as failed.
TIMEOUT_S = 900


@dataclass
class BackendJob:
    """What to check on each backend, collected from many records before any process starts."""

    #: (plugin, architecture name, specs as JSON)
    architectures: list[tuple[str, str, list[str]]] = field(default_factory=list)
    #: (plugin, augmentation name, ``module:qualname`` of build, options as JSON)
    augmentations: list[tuple[str, str, str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.architectures or self.augmentations)


def installed_backends(records: Iterable[BackendRecord], only: Sequence[str] | None = None) -> list[BackendRecord]:
    """The backend records whose package is importable, optionally limited to the names in ``only``."""
    chosen = [r for r in records if is_installed(r)]
    if only is not None:
        chosen = [r for r in chosen if r.name in only]
    return sorted(chosen, key=lambda r: r.name)


def backends_to_check(registry: Registry, only: Sequence[str] | None = None) -> tuple[list[BackendRecord], list[str]]:
    """The backends the Keras checks run on, and why each one asked for (or, when none is, any) cannot be.

    ``only`` is a list of backend names, or ``None`` for every installed backend of ``registry``.
    The reasons are said as they are - a plugin that was blocked or failed to load, a name that
    does not exist, a package that is not installed - because each calls for a different fix.
    """
    records = registry.records("backend")
    if not records:
        why = [f"blocked: {', '.join(registry.blocked)}"] if registry.blocked else []
        why += [f"failed: {name}: {reason}" for name, reason in registry.failures]
        return [], ["no backend plugin is loaded" + (f" ({'; '.join(why)})" if why else "")]
    if only is None:
        chosen = installed_backends(records.values())
        missing = "; ".join(f"{r.name}: {r.install}" for r in records.values())
        return chosen, [] if chosen else [f"none of the backends is installed ({missing})"]
    if not only:
        return [], ["no backend was asked for (backends=[])"]
    reasons = []
    for name in only:
        if name not in records:
            reasons.append(f"no backend named '{name}' (backends: {', '.join(records)})")
        elif not is_installed(records[name]):
            reasons.append(f"backend '{name}' is not installed ({records[name].install})")
    return installed_backends(records.values(), only), reasons


def run_backend_checks(job: BackendJob, backends: Sequence[BackendRecord], unavailable: Sequence[str] = ()) -> list[CheckResult]:
    """One result per (record, backend): pass, or fail with the problems the worker found; and one
    skipped result per record for each reason in ``unavailable`` (see :func:`backends_to_check`)."""
    results: list[CheckResult] = []
    if not job:
        return results
    for reason in unavailable:
        for plugin, name, *_ in job.architectures:
            results.append(CheckResult(plugin, "architecture", name, "builds on a backend", "skip", reason))
        for plugin, name, *_ in job.augmentations:
            results.append(CheckResult(plugin, "augmentation", name, "runs on a backend", "skip", reason))
    for backend in backends:
        found = _run_worker(job, backend)
        for plugin, name, _ in job.architectures:
            results.append(_outcome(plugin, "architecture", name, f"builds and predicts on {backend.name}", found, "architectures"))
        for plugin, name, _, _ in job.augmentations:
            results.append(_outcome(plugin, "augmentation", name, f"acts in training only on {backend.name}", found, "augmentations"))
            results.append(_outcome(plugin, "augmentation", name, f"trains one model.fit step on {backend.name}", found, "training"))
    return results


def _outcome(plugin: str, kind: str, name: str, check: str, found: dict[str, Any] | str, section: str) -> CheckResult:
    if isinstance(found, str):  # the whole worker failed
        return CheckResult(plugin, kind, name, check, "fail", found)
    problems = found[section].get(name, ["no result from the backend worker"])
    return CheckResult(plugin, kind, name, check, "fail" if problems else "pass", " ".join(problems))


def _run_worker(job: BackendJob, backend: BackendRecord) -> dict[str, Any] | str:
    """The worker's result, or a one-line reason it produced none."""
    payload = {
        "backend": {"name": backend.name, "module": backend.module, "environment": environment_for(backend),  # any spec: the strictest
                    "compile_options": json.loads(json_options(backend.compile_options) or "{}"),
                    "training_layer": backend.training_layer and function_reference(backend.training_layer),
                    "fit_data": backend.fit_data and function_reference(backend.fit_data)},
        "architectures": [{"name": name, "specs": specs} for _, name, specs in job.architectures],
        "augmentations": [{"name": name, "build": ref, "options": json.loads(options)}
                          for _, name, ref, options in job.augmentations],
    }
    with tempfile.TemporaryDirectory(prefix="emokit-check-") as folder:
        payload_file, result_file = Path(folder, "payload.json"), Path(folder, "result.json")
        payload_file.write_text(json.dumps(payload))
        # KERAS_BACKEND must be right before the worker imports anything that might import Keras.
        env = {**os.environ, "KERAS_BACKEND": backend.name}
        try:
            proc = subprocess.run([sys.executable, "-m", "emokit.testing.worker", str(payload_file), str(result_file)],
                                  env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return f"the {backend.name} checks took longer than {TIMEOUT_S} s"
        if proc.returncode != 0 or not result_file.exists():
            last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            return f"the {backend.name} worker failed: {last}"
        return json.loads(result_file.read_text())
