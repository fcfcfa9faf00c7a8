"""The demo's work that is not Gradio's: models loaded once per run, which runs to offer, and its settings.

Frames and photos are analysed by the one frame pipeline (:class:`emokit.inference.frames.FramePipeline`),
as ``emokit predict`` and the Python API analyse them; this module holds only what the demo adds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from emokit.errors import EmokitError
from emokit.inference.runtimes import check_runtime, open_runtime
from emokit.runs import Run, find_run, latest_usable_run, list_runs, require_usable, runs_root, unusable_reason

if TYPE_CHECKING:
    from emokit.inference.runtime import Runtime
    from emokit.records import ModelRecord
    from emokit.registry import Registry

#: The picker's key of a bundled model is this plus its name, so it never clashes with a run's name.
BUNDLED = "bundled:"

#: Webcam frames are detected at this width: about 4x fewer pixels than 640x480 for Haar to scan.
STREAM_DETECT_WIDTH = 320
#: Photos are detected at most this wide (a 12-megapixel photo at full size takes seconds).
PHOTO_DETECT_WIDTH = 960
#: Detector options for webcam frames, used where the detector declares them: a coarser Haar
#: scale pyramid (1.2 instead of 1.1) halves detection time; webcam faces are large and frontal.
STREAM_DETECTOR_OPTIONS = {"scale_factor": 1.2}


class ModelCache:
    """Each run's model, loaded once on first use and kept (the ``capacity`` most recent runs)."""

    def __init__(self, registry: Registry, backend: str | None = None, capacity: int = 4, runtime: str = "auto") -> None:
        check_runtime(registry, runtime)  # a typo fails now, not on the first frame
        self.registry = registry
        self.backend = backend
        self.runtime = runtime
        self.capacity = capacity
        self._loaded: OrderedDict[Path | str, Runtime] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, run: Run | ModelRecord) -> Runtime:
        """The loaded model of ``run`` (or of a bundled model); concurrent first calls load it once."""
        key = run.path.resolve() if isinstance(run, Run) else BUNDLED + run.name
        with self._lock:
            runtime = self._loaded.get(key)
            if runtime is None:
                # A bundled model runs on its own runtime (its file's), whatever --runtime says for runs.
                runtime = (open_runtime(run, self.registry, self.runtime, self.backend) if isinstance(run, Run)
                           else open_runtime(run, self.registry))
                self._loaded[key] = runtime
                while len(self._loaded) > self.capacity:
                    self._loaded.popitem(last=False)
            self._loaded.move_to_end(key)
            return runtime


@dataclass(frozen=True)
class RunChoice:
    """The models the demo offers: bundled models first, then the runs folder's runs (newest first); the one
    to open, and why some runs cannot answer.

    A key is ``bundled:NAME`` for a bundled model, a run's name, or its path for a run outside the folder;
    ``runs`` maps run keys to runs, ``models`` bundled keys to their records.
    """

    root: Path
    names: list[str]
    selected: str | None
    runs: dict[str, Run] = field(default_factory=dict)
    unusable: dict[str, str] = field(default_factory=dict)
    models: dict[str, ModelRecord] = field(default_factory=dict)


def run_choices(root: Path | None, run: str | None = None, registry: Registry | None = None) -> RunChoice:
    """The bundled models (with ``registry``) and the runs in ``root``, with ``run`` (a bundled model's name, a
    run's name or path, ``latest``) or the default selected.

    The default (no ``run``) is the newest usable run trained on real data; else the bundled default model
    (a run trained on synthetic faces never answers real photos by default when a real model is installed);
    else the newest usable run. A run still training before its first checkpoint, or stopped before one, has
    no weights: it is listed with the reason it cannot answer but never chosen by default.
    """
    from emokit.inference.bundled import bundled_models, is_available  # noqa: PLC0415
    from emokit.inference.source import bundled_name  # noqa: PLC0415

    folder = runs_root(root)
    runs = {r.name: r for r in reversed(list_runs(folder))}
    models = {} if registry is None else {
        BUNDLED + name: record for name, record in bundled_models(registry).items() if is_available(record)}
    if run and run != "latest" and registry is not None and BUNDLED + run in models and bundled_name(run, registry):
        selected = BUNDLED + run
    elif run and run != "latest":
        found = find_run(run, folder)
        # A run given by path outside the folder is offered by its path.
        key = found.name if (folder / found.name).resolve() == found.path.resolve() else str(found.path)
        if key not in runs:
            runs = {key: found, **runs}
        selected = key
    elif run is None and registry is not None:
        selected = _default_key(registry, folder, models)
    else:
        selected = _newest_usable_name(folder)
    unusable = {name: reason for name, r in runs.items() if (reason := unusable_reason(r)) is not None}
    return RunChoice(folder, [*models, *runs], selected, runs, unusable, models)


def _default_key(registry: Registry, folder: Path, models: dict[str, ModelRecord]) -> str | None:
    from emokit.inference.source import default_model  # noqa: PLC0415

    try:
        chosen = default_model(registry, folder, real_runs=True)
    except EmokitError:  # no bundled model installed: the newest usable run, as before there were any
        return _newest_usable_name(folder)
    if isinstance(chosen, Run):
        return chosen.name
    return BUNDLED + chosen.name if BUNDLED + chosen.name in models else _newest_usable_name(folder)


def usable_run(name: str, root: Path) -> Run:
    """The run ``name`` under ``root``; one that cannot answer is a one-line error saying why (not blaming the photo)."""
    return require_usable(find_run(name, root))


def chosen_model(choice: RunChoice, key: str) -> Run | ModelRecord:
    """What a picker key names: a bundled model's record, or the usable run (one-line error if it cannot answer)."""
    if key in choice.models:
        return choice.models[key]
    return usable_run(key, choice.root)


def _newest_usable_name(root: Path) -> str | None:
    try:
        return latest_usable_run(root).name
    except EmokitError:
        return None


def no_runs_message(root: Path) -> str:
    """What to do when there is no run to demo."""
    return (
        f"No trained runs in `{root}` yet. Train one, then restart the demo (or press Refresh):\n\n"
        f"    emokit train --arch small_cnn --out {root}\n\n"
        "(`--data path/to/fer2013.zip` trains on FER-2013; without it emokit uses synthetic faces.)"
    )
