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


def run_backend_checks(job: BackendJob, backends: Sequence[BackendRecord]) -> list[CheckResult]:
    """One result per (record, backend): pass, or fail with the problems the worker found."""
    results: list[CheckResult] = []
    if not job:
        return results
    if not backends:
        for plugin, name, *_ in job.architectures:
            results.append(CheckResult(plugin, "architecture", name, "builds on a backend", "skip", "no Keras backend is installed"))
        for plugin, name, *_ in job.augmentations:
            results.append(CheckResult(plugin, "augmentation", name, "runs on a backend", "skip", "no Keras backend is installed"))
        return results
    for backend in backends:
        found = _run_worker(job, backend)
        for plugin, name, _ in job.architectures:
            results.append(_outcome(plugin, "architecture", name, f"builds and predicts on {backend.name}", found, "architectures"))
        for plugin, name, _, _ in job.augmentations:
            results.append(_outcome(plugin, "augmentation", name, f"acts in training only on {backend.name}", found, "augmentations"))
    return results


def _outcome(plugin: str, kind: str, name: str, check: str, found: dict[str, Any] | str, section: str) -> CheckResult:
    if isinstance(found, str):  # the whole worker failed
        return CheckResult(plugin, kind, name, check, "fail", found)
    problems = found[section].get(name, ["no result from the backend worker"])
    return CheckResult(plugin, kind, name, check, "fail" if problems else "pass", " ".join(problems))


def _run_worker(job: BackendJob, backend: BackendRecord) -> dict[str, Any] | str:
    """The worker's result, or a one-line reason it produced none."""
    payload = {
        "backend": {"name": backend.name, "module": backend.module, "environment": environment_for(backend)},  # any spec: the strictest
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
