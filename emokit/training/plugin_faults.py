"""Tell whether an exception raised while training came from plugin code, and which plugin.

A crash inside ``model.fit`` (an augmentation written with TensorFlow ops, traced by JAX's jit;
a layer whose ``call`` raises) ends in a long traceback through Keras and the backend that names
no plugin. :func:`plugin_fault` walks the traceback's frames and matches their modules against
the modules of the plugins this training uses, so the trainer can print one line and mark the
run failed::

    try:
        train_model.fit(...)
    except Exception as exc:
        reason = plugin_fault(exc, registry, used_records(config))
        if reason is None:
            raise
        write_json(run.status_file, {"state": "failed", "epoch": ..., "reason": reason})
        raise PluginError(reason) from None
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Iterable, Iterator

from emokit.plugin_errors import one_line, plugin_label
from emokit.registry import Registry
from emokit.training.config import TrainConfig

def used_records(config: TrainConfig) -> list[tuple[str, str]]:
    """(kind, name) of every record whose code a training with ``config`` runs."""
    used = [("architecture", config.arch), *(("augmentation", name) for name, _ in config.augmentations)]
    if config.backend:
        used.append(("backend", config.backend))
    if config.dataset:
        used.append(("dataset", config.dataset))
    return used


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception it was raised from or while handling, the original failure first.

    ``raise ... from None`` only hides the context from the printed traceback; Keras re-raises a
    layer's error that way, and with JAX the re-raise itself can fail (a ``TracerArrayConversionError``
    rebuilt from a string), so the original is often only in ``__context__``.
    """
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain[::-1]


def _frames(exc: BaseException) -> Iterator[types.FrameType]:
    """The frames of ``exc``'s own traceback, outermost first."""
    tb = exc.__traceback__
    while tb is not None:
        yield tb.tb_frame
        tb = tb.tb_next


def _record_modules(registry: Registry, kind: str, name: str) -> set[str]:
    """The modules holding a record's code: its plugin's module and those of its callables."""
    modules = {registry.provider(kind, name).module}
    record = registry.get(kind, name)
    if dataclasses.is_dataclass(record):
        for field in dataclasses.fields(record):
            module = getattr(getattr(record, field.name), "__module__", None)
            if callable(getattr(record, field.name)) and isinstance(module, str):
                modules.add(module)
    return {m for m in modules if m}


def _in_modules(module: str, modules: set[str]) -> bool:
    return any(module == m or module.startswith(m + ".") for m in modules)


def plugin_fault(exc: BaseException, registry: Registry, used: Iterable[tuple[str, str]]) -> str | None:
    """One line naming the record, plugin and package whose code raised ``exc``; ``None`` if no plugin's did.

    ``used`` is the (kind, name) of each record the training uses (see :func:`used_records`). The
    innermost frame that belongs to one of their modules, in the original exception of the chain,
    decides; when that module provides several of the used records, all of them are named.
    """
    owners: list[tuple[tuple[str, str], set[str]]] = []
    for kind, name in used:
        try:
            owners.append(((kind, name), _record_modules(registry, kind, name)))
        except KeyError:  # a name the registry no longer has cannot be at fault
            continue
    for link in _chain(exc):  # the original failure decides; re-raises add only Keras's wrapping
        culprits: list[tuple[str, str]] = []
        for frame in _frames(link):  # the innermost plugin frame of this link decides
            module = frame.f_globals.get("__name__", "")
            matched = [key for key, modules in owners if _in_modules(module, modules)]
            if matched:
                culprits = matched
        if culprits:
            return _describe(registry, culprits, link)
    return None


def _describe(registry: Registry, culprits: list[tuple[str, str]], exc: BaseException) -> str:
    kind, name = culprits[0]
    label = plugin_label(registry, kind, name)
    if len(culprits) > 1:
        others = ", ".join(f"'{n}'" for _, n in culprits[1:])
        label += f" (or {others}, from the same module)"
    return f"{label} failed during training: {one_line(exc)}"
