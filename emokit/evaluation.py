"""Evaluate a model on dataset splits: metrics JSON and confusion-matrix plots in the run directory.

Any runtime evaluates (``keras`` on any backend, ``litert``, ``onnx``, ``auto``): the figures of an
export are measured the same way as the Keras model's. This module reads the run's training
configuration as the plain dict the run stores, so it never imports :mod:`emokit.training` (which
imports :func:`evaluate_splits` from here).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emokit.errors import EmokitError
from emokit.metrics import classification_metrics
from emokit.plots import plot_confusion
from emokit.records import DataRequest, Dataset
from emokit.inference.runtime import ModelSource
from emokit.registry import Registry
from emokit.runs import Run
from emokit.split_predictions import predictions_file, split_predictions, write_predictions

SPLITS = ("train", "val", "test")
#: What training used when a run's config.json does not say (the defaults of emokit's TrainConfig).
DEFAULT_VAL_FRACTION = 0.1
DEFAULT_SEED = 0


def evaluate_splits(
    predict: Callable[[np.ndarray], np.ndarray],
    dataset: Dataset,
    splits: Iterable[str],
    class_names: tuple[str, ...],
    plots_dir: Path | None = None,
    predictions_dir: Path | None = None,
    evaluator: str = "",
) -> dict[str, dict[str, Any]]:
    """Metrics for each split that the dataset has; a confusion-matrix PNG per split if ``plots_dir`` is given,
    and each face's predictions in ``predictions_dir/<split>.npz`` if that is given (labelled ``evaluator``,
    the runtime's label), so ``emokit runs compare`` can test two runs face by face."""
    results: dict[str, dict[str, Any]] = {}
    for split in splits:
        if split not in dataset.splits or len(dataset.splits[split]) == 0:
            continue
        data = dataset.splits[split]
        probabilities = predict(data.images)
        metrics = classification_metrics(probabilities, data.labels, class_names)
        results[split] = metrics
        if predictions_dir is not None:
            write_predictions(predictions_dir, split_predictions(dataset, split, probabilities, class_names, evaluator))
        if plots_dir is not None:
            plot_confusion(metrics["confusion_matrix"], class_names, plots_dir / f"confusion_{split}.png",
                           f"{split}: accuracy {metrics['accuracy']:.1%}")
    return results


@dataclass(frozen=True)
class EvaluationResult:
    """What ``emokit evaluate`` found: metrics per split, and where the plots went."""

    #: The run evaluated, or ``None`` for a bundled model or an exported file outside a run.
    run: Run | None
    #: What ran the model (``keras+torch``, ``litert``, ``onnx+flip``), as the runtime labels itself.
    backend: str
    dataset: str
    metrics: dict[str, dict[str, Any]]
    plots: tuple[Path, ...]
    #: The model's name as people know it: the run's name, the bundled model's short name, or the file's name.
    name: str = ""
    #: The per-face predictions written (``RUN/predictions/<split>.npz``; none for a model outside a run).
    predictions: tuple[Path, ...] = ()


def run_dataset(run: Run, registry: Registry, data: str | None = None) -> Dataset:
    """The run's own dataset (or ``data``), loaded the way training loaded it (same size, split seed and fraction)."""
    from emokit.data import open_dataset  # noqa: PLC0415

    config = run.config()
    spec = run.spec()
    source = data if data is not None else config.get("data")
    # A seed group's runs share the data seed of their first (``data_seed``); a run trained alone drew its data with its seed.
    data_seed = config.get("data_seed")
    request = DataRequest(source=Path(source) if source else None, image_size=(spec.input_shape[0], spec.input_shape[1]),
                          channels=spec.input_shape[2], val_fraction=float(config.get("val_fraction", DEFAULT_VAL_FRACTION)),
                          seed=int(data_seed if data_seed is not None else config.get("seed", DEFAULT_SEED)))
    dataset = open_dataset(registry, source, request, config.get("dataset") if data is None else None)
    if tuple(dataset.class_names) != tuple(spec.class_names):
        raise EmokitError(f"Dataset classes {list(dataset.class_names)} differ from the run's {list(spec.class_names)}.")
    return dataset


def model_dataset(source: ModelSource, registry: Registry, data: str) -> Dataset:
    """``data`` (a path, or the name of a dataset that needs none: ``synthetic``) loaded at a model's input size
    and channels (a bundled model or a bare file: no run to read them from), with emokit's default
    validation carving; its classes must be the model's."""
    from emokit.data import open_dataset  # noqa: PLC0415

    height, width = source.preprocessing.input_size
    named = not Path(data).exists() and data in registry.entries["dataset"]  # a dataset that needs no file: synthetic
    request = DataRequest(source=None if named else Path(data), image_size=(height, width),
                          channels=source.preprocessing.channels, val_fraction=DEFAULT_VAL_FRACTION, seed=DEFAULT_SEED)
    dataset = open_dataset(registry, None, request, data) if named else open_dataset(registry, data, request)
    if tuple(dataset.class_names) != tuple(source.spec.class_names):
        raise EmokitError(f"Dataset classes {list(dataset.class_names)} differ from the model's {list(source.spec.class_names)}.")
    return dataset


def _own_data(run: Run, data: str | None) -> bool:
    """Whether ``data`` (``--data``) is the run's own dataset: not given, or the same path it trained on."""
    trained = run.config().get("data")
    return data is None or (trained is not None and Path(data).expanduser().resolve() == Path(trained).expanduser().resolve())


def evaluate_run(run_ref: str | Path | Run, registry: Registry, *, data: str | None = None, splits: Iterable[str] = ("test",),
                 backend: str | None = None, root: Path | None = None, runtime: str | None = None,
                 tta: str = "none") -> EvaluationResult:
    """Load a model on ``runtime`` (see :mod:`emokit.inference.runtimes`; ``backend`` for Keras), load its
    dataset (or ``data``) the way training did, and evaluate ``splits``.

    The model is a run (its own dataset by default), a bundled model's short name (``fer2013``) or an
    exported file outside a run; those two need ``data`` (FER-2013's PublicTest is the ``test`` split of the
    Kaggle image zip, the ``val`` split of the CSV).
    A run's per-face predictions on its own data are kept in ``RUN/predictions/<split>.npz``.
    ``runtime`` ``None`` is ``keras`` for a run and the record's runtime for a bundled model.
    ``tta`` (see :data:`emokit.inference.tta.TTA_MODES`) averages each image's probabilities over views
    of it: its mirror image (``flip``) or ten crops (``ten-crop``). Results are labelled with the runtime
    and mode (``keras+tensorflow+ten-crop``) so they are never mistaken for other figures.
    """
    from emokit.backend import resolve_backend  # noqa: PLC0415
    from emokit.inference.runtimes import AUTO, check_runtime, open_runtime  # noqa: PLC0415
    from emokit.inference.source import model_source  # noqa: PLC0415
    from emokit.inference.tta import check_tta, with_tta  # noqa: PLC0415
    from emokit.runs import runs_root  # noqa: PLC0415

    # Everything that needs no model is checked first: loading one takes seconds.
    source = model_source(run_ref, root, registry)
    splits = tuple(splits)
    for split in splits:
        if split not in SPLITS:
            raise EmokitError(f"Unknown split '{split}'. Available: {', '.join(SPLITS)}.")
    check_tta(tta)
    if runtime is None:
        runtime = "keras" if source.run is not None and source.file is None else AUTO
    check_runtime(registry, runtime)
    if backend is not None:
        resolve_backend(registry, backend)
    run = source.run
    if run is not None:
        dataset = run_dataset(run, registry, data)
        name = run.name
    else:
        name = source.model.name if source.model is not None else Path(source.file).name
        if data is None:
            raise EmokitError(f"'{name}' is not a run, so it has no dataset of its own: name one with --data "
                              "(FER-2013's Kaggle zip: --data fer2013.zip, whose test split is PublicTest).")
    missing_spec = source.spec is None  # a bare file: its runtime reads the spec from the file
    model = with_tta(open_runtime(source, registry, runtime, backend), tta)
    if run is None:
        opened = ModelSource(model.spec, model.preprocessing, None, source.file) if missing_spec else source
        dataset = model_dataset(opened, registry, data)
    missing = [s for s in splits if s not in dataset.splits]
    if missing:
        raise EmokitError(f"Dataset '{dataset.name}' has no '{missing[0]}' split. It has: {', '.join(dataset.splits)}.")
    plots_dir = (run.path / "evaluations" if run is not None else runs_root(root) / "evaluations" / name) / model.label
    # A run keeps each face's predictions on its own data (the latest evaluation of each split), for
    # `emokit runs compare`; another dataset's predictions would replace them with other faces.
    predictions_dir = run.predictions_dir if run is not None and _own_data(run, data) else None
    metrics = evaluate_splits(model.probabilities, dataset, splits, model.class_names, plots_dir, predictions_dir, model.label)
    plots = tuple(plots_dir / f"confusion_{s}.png" for s in metrics)
    written = tuple(predictions_file(predictions_dir, s) for s in metrics) if predictions_dir is not None else ()
    return EvaluationResult(run, model.label, dataset.name, metrics, plots, name, written)
