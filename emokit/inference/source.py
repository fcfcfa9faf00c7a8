"""Turn what a user names (a run, its folder or name, an exported file in a run folder) into a :class:`ModelSource`."""

from __future__ import annotations

from pathlib import Path

from emokit.inference.preprocessing import read_preprocessing
from emokit.inference.runtime import ModelSource
from emokit.runs import Run, find_run, is_run, require_usable


def model_source(model: Run | str | Path | ModelSource, root: Path | None = None) -> ModelSource:
    """The model ``model`` names: a :class:`ModelSource` as it is, a :class:`Run`, a run folder or name
    (``latest`` too, looked up under ``root``), or an exported file: inside its run folder
    (``RUN/model.onnx``, checked against the run's weights), or bare (spec and preprocessing ``None``:
    the runtime reads them from the file).

    A run must have trained weights (its exports are made from them); errors are one line.
    """
    if isinstance(model, ModelSource):
        return model
    if isinstance(model, Run):
        return _run_source(model)
    path = Path(model)
    if path.is_file():
        if not is_run(path.parent):
            return ModelSource(None, None, None, path)
        return _run_source(Run(path.parent), path)
    return _run_source(find_run(model, root))


def _run_source(run: Run, file: Path | None = None) -> ModelSource:
    require_usable(run)
    return ModelSource(run.spec(), read_preprocessing(run), run, file)
