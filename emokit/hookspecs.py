"""The hooks a plugin may implement. Each is called once when a registry is built.

A plugin is a module (or object) with functions of these names decorated with
``emokit.hookimpl``; it is found through the ``emokit`` entry-point group. Every hook
takes no arguments and returns a list of records; returning an empty list is fine.

This module is also the one table of record kinds: :data:`KINDS` is read from the hookspecs
below (each one's ``list[XRecord]`` return annotation gives its record type, and the record
type's name gives the kind: ``FaceDetectorRecord`` -> ``face_detector``). The registry, the
``emokit plugins`` table, the contract kit and the docs generator all iterate :data:`KINDS`, so a
new kind is a record type in ``emokit/records.py``, a hookspec here, and the code that uses it.
"""

from __future__ import annotations

import functools
import inspect
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pluggy

from emokit.records import (
    ArchitectureRecord,
    AugmentationRecord,
    BackendRecord,
    CommandRecord,
    DatasetRecord,
    ExporterRecord,
    FaceDetectorRecord,
    ModelRecord,
    RuntimeRecord,
)

PROJECT = "emokit"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def emokit_architectures() -> list[ArchitectureRecord]:
    """Return the CNN architectures this plugin provides.

    Called once when the registry is built. Each record's ``build`` returns a
    :class:`emokit.spec.ModelSpec` and must not import Keras.
    """


@hookspec
def emokit_augmentations() -> list[AugmentationRecord]:
    """Return the training-time augmentations this plugin provides.

    Called once when the registry is built. Each record's ``build(keras, **options)`` is
    called after the backend is chosen and returns Keras layers. On JAX, one layer whose
    ``supports_jit`` is False makes Keras train the whole model op by op, so layers written in
    ``keras.ops`` should leave it True.
    """


@hookspec
def emokit_backends() -> list[BackendRecord]:
    """Return the Keras backends this plugin provides.

    Called once when the registry is built, before Keras is imported; the chosen
    record's environment is applied before the backend library is imported. While
    training, its ``training_layer`` may swap in faster layers (same variables, same
    function) and its ``fit_data`` may wrap the arrays ``model.fit`` is given.
    """


@hookspec
def emokit_datasets() -> list[DatasetRecord]:
    """Return the datasets this plugin provides.

    Called once when the registry is built. ``load(request)`` is called when a command
    needs data; ``can_open(path)`` is asked to pick a dataset for ``--data PATH``.
    """


@hookspec
def emokit_face_detectors() -> list[FaceDetectorRecord]:
    """Return the face detectors this plugin provides.

    Called once when the registry is built; ``create(**options)`` is called when a
    command needs to find faces in a photo.
    """


@hookspec
def emokit_runtimes() -> list[RuntimeRecord]:
    """Return the runtimes this plugin provides: ways to run a trained model (Keras, LiteRT, ONNX).

    Called once when the registry is built. ``open(model, registry, **options)`` is called when a
    command needs to classify faces and returns an :class:`emokit.inference.Runtime`; the runtime's
    own library is imported there, never at module level.
    """


@hookspec
def emokit_exporters() -> list[ExporterRecord]:
    """Return the export formats this plugin provides (``emokit export RUN --format NAME``).

    Called once when the registry is built. ``export(run, registry, target, **options)`` writes the
    file; emokit then checks it against the Keras model through the record's ``runtime``.
    """


@hookspec
def emokit_models() -> list[ModelRecord]:
    """Return the pretrained models this plugin ships (files inside its package), by short name.

    Called once when the registry is built; nothing is read then. A model's file is opened, and its
    SHA-256 checked, when a command names the model (``emokit predict fer2013 photo.jpg``) or uses the
    default one (``emokit predict photo.jpg``, ``emokit demo``), through the runtime the record names.
    """


@hookspec
def emokit_commands() -> list[CommandRecord]:
    """Return the CLI commands this plugin adds to ``emokit``.

    Called once when the CLI starts, so keep it cheap: each record's ``function`` is a Typer command
    function that imports what it needs when it runs. emokit's own commands come through this hook.
    """


@dataclass(frozen=True)
class Kind:
    """One kind of record: its name in messages and tables, the hook that returns it, its record type."""

    name: str
    hook: str
    record_type: type


def kind_name(record_type: type) -> str:
    """``FaceDetectorRecord`` -> ``face_detector``: the kind a record type is named for."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", record_type.__name__.removesuffix("Record")).lower()


@functools.cache
def _kinds() -> Mapping[str, Kind]:
    """Every hookspec of this module, in source order, as kind name -> :class:`Kind`."""
    kinds: dict[str, Kind] = {}
    for hook, function in list(globals().items()):
        if not (inspect.isfunction(function) and hasattr(function, f"{PROJECT}_spec")):
            continue
        returns = typing.get_type_hints(function)["return"]  # list[XRecord]
        (record_type,) = typing.get_args(returns)
        kinds[kind_name(record_type)] = Kind(kind_name(record_type), hook, record_type)
    return MappingProxyType(kinds)  # read-only: it is shared by every caller


def __getattr__(name: str) -> Any:
    """``KINDS``: every kind of record, in the order the hooks are declared, as kind name -> :class:`Kind`;
    ``RECORD_TYPES``: kind name -> record type.

    Read on first use rather than here, so a hookspec written anywhere in this module counts."""
    if name == "KINDS":
        return _kinds()
    if name == "RECORD_TYPES":  # kind name -> record type
        return {kind.name: kind.record_type for kind in _kinds().values()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
