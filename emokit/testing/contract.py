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

from emokit.hookspecs import KINDS
from emokit.registry import Registry, build_registry
from emokit.testing import local
from emokit.testing.backends import BackendJob, backends_to_check, run_backend_checks
from emokit.testing.imports import check_plugin_module
from emokit.testing.results import CheckResult

#: Backend names, or None for every installed backend.
Backends = Sequence[str] | None


def check_record(record: Any, kind: str, plugin: str = "-", backends: Backends = None) -> list[CheckResult]:
    """Every check that applies to one record of ``kind`` (a key of :data:`emokit.hookspecs.KINDS`).

    An exporter's runtime is looked up in emokit's installed registry."""
    job = BackendJob()
    return _local_checks(record, kind, plugin, job, None) + _keras_checks(job, None, backends)


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
    """Well formed. (The other records' Keras checks run on every installed backend.)"""
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
    registry = build_registry([(name, plugin)], use_entry_points=False, blocked=())
    if registry.failures:  # the plugin did not load: nothing else can be checked
        return [module_check or check_plugin_module(name, plugin=name),
                *(CheckResult(name, "plugin", name, "loads", "fail", reason) for _, reason in registry.failures)]
    return check_registry(registry, backends, {name: module_check} if module_check else {})


def check_registry(registry: Registry, backends: Backends = None,
                   module_checks: Mapping[str, CheckResult] | None = None, only: str | None = None) -> list[CheckResult]:
    """Check every plugin in ``registry``: those that failed to load, each module's imports, every record.

    The Keras checks run once per installed backend (or per name in ``backends``) for all records together,
    on the registry's backends (emokit's installed ones when it has none). ``module_checks`` holds import
    checks already run, by module name, so they are not run twice. ``only`` limits the checks to one plugin
    (its load failure, its module, its records) or, given a record's name, to that record; an unknown name
    raises :class:`~emokit.errors.UnknownNameError` listing the names.
    """
    module_checks = module_checks or {}
    selection = registry.selection(only)
    plugins, record_name = selection
    results = [CheckResult(name, "plugin", name, "loads", "fail", reason)
               for name, reason in registry.failures if name in plugins]
    for info in registry.plugins:
        if info.module and info.name in plugins and record_name is None:
            results.append(module_checks.get(info.module) or check_plugin_module(info.module, plugin=info.name))
    job = BackendJob()
    for kind in KINDS:
        for name, record in registry.records(kind).items():
            if registry.selects(selection, kind, name):
                results += _local_checks(record, kind, registry.provider(kind, name).name, job, registry)
    return results + _keras_checks(job, registry, backends)


def _keras_checks(job: BackendJob, registry: Registry | None, backends: Backends) -> list[CheckResult]:
    """Run ``job`` on the backends of ``registry`` (emokit's installed ones when it has none)."""
    if not job:
        return []
    if registry is None or not registry.records("backend"):
        registry = build_registry()
    return run_backend_checks(job, *backends_to_check(registry, backends))


def assert_plugin_contract(plugin: ModuleType | str, backends: Backends = None) -> list[CheckResult]:
    """:func:`check_plugin`, raising ``AssertionError`` unless every check ran and passed.

    A check that could not run (no backend to run it on, a ``build`` that cannot be re-created in
    another process) fails the assertion too, with its reason: a check that did not run proves nothing.
    """
    results = check_plugin(plugin, backends)
    failed = [r for r in results if r.failed]
    skipped = [r for r in results if r.status == "skip"]
    if failed or skipped:
        counts = ", ".join(text for count, text in ((len(failed), f"{len(failed)} plugin contract check(s) failed"),
                                                     (len(skipped), f"{len(skipped)} could not run")) if count)
        raise AssertionError(f"{counts}:\n" + "\n".join(str(r) for r in failed + skipped))
    return results


def _local_checks(record: Any, kind: str, plugin: str, job: BackendJob, registry: Registry | None) -> list[CheckResult]:
    """The in-process checks of one record; adds its Keras checks to ``job``. A kind without checks of its
    own gets the well-formed check alone."""
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
    elif kind == "runtime":
        results.append(local.check_runtime(record, plugin))
    elif kind == "exporter":
        runtimes = (registry or build_registry()).records("runtime")
        results.append(local.check_exporter(record, runtimes, plugin))
    elif kind == "command":
        results.append(local.check_command(record, plugin))
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


