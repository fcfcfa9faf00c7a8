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
    from emokit.registry import Registry

#: Webcam frames are detected at this width: about 4x fewer pixels than 640x480 for Haar to scan.
STREAM_DETECT_WIDTH = 320
#: Photos are detected at most this wide (a 12-megapixel photo at full size takes seconds).
PHOTO_DETECT_WIDTH = 960
#: Detector options for webcam frames, used where the detector declares them: a coarser Haar
#: scale pyramid (1.2 instead of 1.1) halves detection time; webcam faces are large and frontal.
STREAM_DETECTOR_OPTIONS = {"scale_factor": 1.2}
#: One math thread per model call: a batch of one to four 48x48 faces is too small for
#: intra-op parallelism to pay, and on a busy CPU the threads' synchronisation costs 10x
#: (measured: 97 ms vs 6.6 ms per call on torch). Set before the backend is imported; an
#: explicit environment value wins.
INFERENCE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class ModelCache:
    """Each run's model, loaded once on first use and kept (the ``capacity`` most recent runs)."""

    def __init__(self, registry: Registry, backend: str | None = None, capacity: int = 4, runtime: str = "auto") -> None:
        check_runtime(registry, runtime)  # a typo fails now, not on the first frame
        self.registry = registry
        self.backend = backend
        self.runtime = runtime
        self.capacity = capacity
        self._loaded: OrderedDict[Path, Runtime] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, run: Run) -> Runtime:
        """The loaded model of ``run``; concurrent first calls load it once."""
        key = run.path.resolve()
        with self._lock:
            runtime = self._loaded.get(key)
            if runtime is None:
                runtime = open_runtime(run, self.registry, self.runtime, self.backend)
                self._loaded[key] = runtime
                while len(self._loaded) > self.capacity:
                    self._loaded.popitem(last=False)
            self._loaded.move_to_end(key)
            return runtime


@dataclass(frozen=True)
class RunChoice:
    """The runs folder as the demo shows it: run keys (newest first), the one to open, and why some cannot answer.

    A key is a run's name, or its path for a run outside the folder; ``runs`` maps each key to its run.
    """

    root: Path
    names: list[str]
    selected: str | None
    runs: dict[str, Run] = field(default_factory=dict)
    unusable: dict[str, str] = field(default_factory=dict)


def run_choices(root: Path | None, run: str | None = None) -> RunChoice:
    """Runs in ``root``, newest first, with ``run`` (a name, path or ``latest``) or the newest usable run selected.

    A run still training before its first checkpoint, or stopped before one, has no weights: it is
    listed with the reason it cannot answer but never chosen by default, so the demo does not open
    on a model that fails every photo as if the photo were at fault.
    """
    folder = runs_root(root)
    runs = {r.name: r for r in reversed(list_runs(folder))}
    if run and run != "latest":
        found = find_run(run, folder)
        # A run given by path outside the folder is offered by its path.
        key = found.name if (folder / found.name).resolve() == found.path.resolve() else str(found.path)
        if key not in runs:
            runs = {key: found, **runs}
        selected = key
    else:
        selected = _newest_usable_name(folder)
    unusable = {name: reason for name, r in runs.items() if (reason := unusable_reason(r)) is not None}
    return RunChoice(folder, list(runs), selected, runs, unusable)


def usable_run(name: str, root: Path) -> Run:
    """The run ``name`` under ``root``; one that cannot answer is a one-line error saying why (not blaming the photo)."""
    return require_usable(find_run(name, root))


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
