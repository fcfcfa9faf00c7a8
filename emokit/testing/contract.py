"""The contract checks as plugin authors and ``emokit plugins --check`` call them.

Each function returns :class:`CheckResult` objects rather than raising, so one report can show
everything that is wrong at once; :func:`assert_plugin_contract` turns failures into an
``AssertionError`` for pytest.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from emokit.errors import PluginError
from emokit.records import BackendRecord
from emokit.registry import HOOK_FOR_KIND, Registry, build_registry
from emokit.testing import local
from emokit.testing.backends import BackendJob, installed_backends, run_backend_checks
from emokit.testing.imports import check_plugin_module
from emokit.testing.results import CheckResult

#: Backend names, or None for every installed backend.
Backends = Sequence[str] | None


def check_record(record: Any, kind: str, plugin: str = "-", backends: Backends = None) -> list[CheckResult]:
    """Every check that applies to one record of ``kind`` (architecture, augmentation, backend, dataset, face_detector)."""
    job = BackendJob()
    results = _local_checks(record, kind, plugin, job)
    return results + run_backend_checks(job, _backend_records(backends))


def check_architecture(record: Any, backends: Backends = None, plugin: str = "-") -> list[CheckResult]:
    """Well formed; specs for gray 48x48 / 7 classes and RGB 64x64 / 3 classes build, fit together and
    round-trip through JSON; on each backend the model builds, outputs probabilities and has the spec's
    parameter count."""
    return check_record(record, "architecture", plugin, backends)


def check_augmentation(record: Any, backends: Backends = None, plugin: str = "-") -> list[CheckResult]:
    """Well formed; on each backend, for gray and RGB batches: shape kept, 0-255 kept, changes the batch
    in training, the identity at inference. ``build`` must be a module-level function."""
    return check_record(record, "augmentation", plugin, backends)


def check_dataset(record: Any, plugin: str = "-") -> list[CheckResult]:
    """Well formed; ``can_open`` answers False for a missing path."""
    return check_record(record, "dataset", plugin)


def check_face_detector(record: Any, plugin: str = "-") -> list[CheckResult]:
    """Well formed; ``create(**options).detect(image)`` returns a list of Box for gray and RGB images."""
    return check_record(record, "face_detector", plugin)


def check_backend(record: Any, plugin: str = "-") -> list[CheckResult]:
    """Well formed; skipped (not failed) when the backend's package is not installed."""
    return check_record(record, "backend", plugin)


def check_plugin(plugin: ModuleType | str, backends: Backends = None) -> list[CheckResult]:
    """Load one plugin module on its own (no entry points) and check its module and every record.

    ``plugin`` is the module or its import name, e.g. ``"emokit_example.plugin"``. Given a name, the
    module's imports are checked in a fresh process first, and a module that fails that check is not
    imported here: importing one that imports Keras would fix Keras's backend for the calling process.
    """
    module_check = None
    if isinstance(plugin, str):
        module_check = check_plugin_module(plugin)
        if not module_check.passed:
            return [module_check]
        plugin = importlib.import_module(plugin)
    name = plugin.__name__
    try:
        registry = build_registry([(name, plugin)], use_entry_points=False, blocked=())
    except PluginError as exc:
        return [module_check or check_plugin_module(name, plugin=name),
                CheckResult(name, "plugin", name, "loads", "fail", str(exc))]
    return check_registry(registry, backends, {name: module_check} if module_check else {})


def check_registry(registry: Registry, backends: Backends = None,
                   module_checks: Mapping[str, CheckResult] | None = None) -> list[CheckResult]:
    """Check every plugin in ``registry``: those that failed to load, each module's imports, every record.

    The Keras checks run once per installed backend (or per name in ``backends``) for all records together.
    ``module_checks`` holds import checks already run, by module name, so they are not run twice.
    """
    module_checks = module_checks or {}
    results = [CheckResult(name, "plugin", name, "loads", "fail", reason) for name, reason in registry.failures]
    for info in registry.plugins:
        if info.module:
            results.append(module_checks.get(info.module) or check_plugin_module(info.module, plugin=info.name))
    job = BackendJob()
    for kind in HOOK_FOR_KIND:
        for name, record in registry.records(kind).items():
            results += _local_checks(record, kind, registry.provider(kind, name).name, job)
    available = list(registry.records("backend").values()) or list(_default_backend_records())
    return results + run_backend_checks(job, installed_backends(available, backends))


def assert_plugin_contract(plugin: ModuleType | str, backends: Backends = None) -> list[CheckResult]:
    """:func:`check_plugin`, raising ``AssertionError`` with every failure; for a plugin's own test suite."""
    results = check_plugin(plugin, backends)
    failed = [r for r in results if not r.passed]
    if failed:
        raise AssertionError(f"{len(failed)} plugin contract check(s) failed:\n" + "\n".join(str(r) for r in failed))
    return results


def _local_checks(record: Any, kind: str, plugin: str, job: BackendJob) -> list[CheckResult]:
    """The in-process checks of one record; adds its Keras checks to ``job``."""
    formed = local.check_well_formed(record, kind, plugin)
    if not formed.passed:
        return [formed]  # the other checks would only fail in less helpful ways
    results = [formed]
    if kind == "architecture":
        spec_results, specs = local.check_specs(record, plugin)
        results += spec_results
        if specs:
            job.architectures.append((plugin, record.name, specs))
    elif kind == "augmentation":
        results += _queue_augmentation(record, plugin, job)
    elif kind == "dataset":
        results.append(local.check_dataset(record, plugin))
    elif kind == "face_detector":
        results.append(local.check_face_detector(record, plugin))
    elif kind == "backend":
        from emokit.backend import is_installed  # noqa: PLC0415 - only needed here

        if not is_installed(record):
            results.append(CheckResult(plugin, kind, record.name, "installed", "skip", f"'{record.module}' is not installed"))
    return results


def _queue_augmentation(record: Any, plugin: str, job: BackendJob) -> list[CheckResult]:
    reference = local.function_reference(record.build)
    options = local.json_options(record.options)
    if reference is None or options is None:
        why = ("build is not a module-level function" if reference is None else "its options are not JSON data")
        return [CheckResult(plugin, "augmentation", record.name, "runs on each backend", "skip",
                            f"{why}, so it cannot be re-created in a fresh process per backend")]
    job.augmentations.append((plugin, record.name, reference, options))
    return []


def _default_backend_records() -> list[BackendRecord]:
    try:
        return list(build_registry().records("backend").values())
    except PluginError:
        return []


def _backend_records(backends: Backends) -> list[BackendRecord]:
    return installed_backends(_default_backend_records(), backends)

