"""Turn what a user names into a :class:`ModelSource`: a run (its folder or name, ``latest``), an exported
file (in its run folder, or bare), or a bundled model's short name (``fer2013``); and which model answers
when none is named (:func:`default_model`).

A name is looked up in this order: an existing file or run folder (a path always means itself), then a
bundled model's name, then a run name or ``latest`` under the runs folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from emokit.errors import EmokitError
from emokit.inference.preprocessing import read_preprocessing
from emokit.inference.runtime import ModelSource
from emokit.runs import Run, find_run, is_run, require_usable, runs_root

if TYPE_CHECKING:
    from emokit.records import ModelRecord
    from emokit.registry import Registry

#: What ``emokit predict`` and ``emokit evaluate`` take as "the newest usable run".
LATEST = "latest"


def model_source(model: Run | str | Path | ModelSource | ModelRecord, root: Path | None = None,
                 registry: Registry | None = None) -> ModelSource:
    """The model ``model`` names: a :class:`ModelSource` as it is, a :class:`Run`, a bundled model (its
    :class:`~emokit.records.ModelRecord`, or its name when ``registry`` is given), a run folder or name
    (``latest`` too, looked up under ``root``), or an exported file: inside its run folder
    (``RUN/model.onnx``, checked against the run's weights), described by a sidecar
    (``x.tflite.json``), or bare (spec and preprocessing ``None``: the runtime reads them from the file).

    A run must have trained weights; a bundled model's file must match its SHA-256; errors are one line.
    """
    from emokit.records import ModelRecord  # noqa: PLC0415

    if isinstance(model, ModelSource):
        return model
    if isinstance(model, Run):
        return _run_source(model)
    if isinstance(model, ModelRecord):
        from emokit.inference.bundled import bundled_source  # noqa: PLC0415

        return bundled_source(model)
    path = Path(model)
    if path.is_file():
        if not is_run(path.parent):
            from emokit.inference.bundled import described_source  # noqa: PLC0415

            return described_source(path)
        return _run_source(Run(path.parent), path)
    record = bundled_name(model, registry) if registry is not None else None
    if record is not None:
        return model_source(record)
    try:
        run = find_run(model, root)
    except EmokitError as exc:
        raise EmokitError(f"{exc}{_bundled_hint(registry)}") from None
    return _run_source(run)


def _run_source(run: Run, file: Path | None = None) -> ModelSource:
    require_usable(run)
    return ModelSource(run.spec(), read_preprocessing(run), run, file)


def bundled_name(text: str | Path, registry: Registry) -> ModelRecord | None:
    """The bundled model ``text`` names, unless it is the path of a file or a run folder (which mean
    themselves). A folder that is no run does not hide a bundled model's name: ``emokit predict fer2013
    photo.jpg`` in a folder holding the ``fer2013/`` dataset still means the model (``./fer2013`` the folder)."""
    from emokit.inference.bundled import bundled_models  # noqa: PLC0415

    path = Path(text)
    if str(text) != path.name or path.is_file() or is_run(path):
        return None
    return bundled_models(registry).get(str(text))


def _bundled_hint(registry: Registry | None) -> str:
    if registry is None:
        return ""
    from emokit.inference.bundled import bundled_models  # noqa: PLC0415

    names = list(bundled_models(registry))
    return f" Bundled models: {', '.join(names)}." if names else ""


def model_suffixes(registry: Registry) -> set[str]:
    """The suffixes of files some runtime opens directly (``.tflite``, ``.onnx``)."""
    return {suffix for record in registry.records("runtime").values() for suffix in record.suffixes}


def names_model(text: str | Path, registry: Registry, root: Path | None = None) -> bool:
    """Whether a command-line argument names a model rather than, say, an image: ``latest``, a run folder,
    a run name under ``root``, an exported model file (a suffix a runtime opens), or a bundled model's name.

    Reads no model and builds nothing: it only looks at names and files.
    """
    text = str(text)
    path = Path(text)
    if text == LATEST or is_run(path):
        return True
    if path.is_file():
        return path.suffix in model_suffixes(registry)
    if bundled_name(text, registry) is not None:
        return True
    return not path.exists() and is_run(runs_root(root) / path)


def split_model_argument(arguments: Sequence[str], registry: Registry,
                         root: Path | None = None) -> tuple[str | None, list[str]]:
    """``emokit predict [MODEL] INPUT...``: (the model named first, or ``None`` for the default; the inputs).

    The first argument is the model when :func:`names_model` says so, or when it looks like a name rather
    than a file (no such path, no suffix) and inputs follow: ``emokit predict my-run x.png`` then says the
    run is not found instead of that ``my-run`` is not an image.
    """
    arguments = [str(a) for a in arguments]
    if not arguments:
        return None, []
    first, rest = arguments[0], arguments[1:]
    alone_folder = not rest and Path(first).is_dir() and not is_run(Path(first))  # `emokit predict fer2013/`: the folder
    if names_model(first, registry, root) and not alone_folder:
        return first, rest
    if rest and not Path(first).exists() and not Path(first).suffix:
        return first, rest
    return None, arguments


def default_model(registry: Registry, root: Path | None = None, *, real_runs: bool = False) -> ModelRecord | Run:
    """The model that answers when none is named: the bundled default model (emokit's own before a
    third party's), whose file is installed.

    ``real_runs`` (the demo): the newest usable run trained on real data (anything but the built-in
    synthetic faces) under ``root`` answers instead, when there is one: the user trained it to be used.
    A synthetic-trained run is never chosen over the bundled model. Without a bundled model the error
    says how to name a run.
    """
    if real_runs:
        run = newest_real_run(root)
        if run is not None:
            return run
    from emokit.inference.bundled import bundled_models, is_available  # noqa: PLC0415
    from emokit.registry import EMOKIT_PACKAGE  # noqa: PLC0415

    defaults = [name for name, record in bundled_models(registry).items() if record.default]
    defaults.sort(key=lambda name: registry.provider("model", name).package != EMOKIT_PACKAGE)
    for name in defaults:
        record = registry.get("model", name)
        if is_available(record):
            return record
    missing = f" (the default model '{defaults[0]}' has no file installed: reinstall emokit)" if defaults else ""
    raise EmokitError(f"No model named and no bundled model is installed{missing}; name a run: "
                      "emokit predict RUN photo.jpg (`emokit runs` lists them).")


def newest_real_run(root: Path | None = None) -> Run | None:
    """The newest run under ``root`` that can answer and was trained on real data, or ``None``."""
    from emokit.runs import list_runs, trained_on, trained_on_synthetic, unusable_reason  # noqa: PLC0415

    for run in reversed(list_runs(runs_root(root))):
        if unusable_reason(run) is None and trained_on(run) is not None and not trained_on_synthetic(run):
            return run
    return None
