"""Train a model from a :class:`TrainConfig` into a run directory, or resume an interrupted run."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from emokit.artefacts import load_weights, verify_artefact
from emokit.atomic import write_json, write_text
from emokit.backend import activate, check_precision, cpu_has_bfloat16, resolve_backend, set_random_seed
from emokit.builder import PRECISIONS, build_model
from emokit.data import open_dataset
from emokit.errors import EmokitError, PluginError
from emokit.evaluation import evaluate_splits
from emokit.inference.keras_model import model_probabilities
from emokit.inference.preprocessing import Preprocessing, write_preprocessing
from emokit.options import check_options, parse_named, parse_options
from emokit.plots import plot_curves
from emokit.plugin_errors import one_line
from emokit.records import BackendRecord, DataRequest, Dataset
from emokit.registry import Registry
from emokit.runs import Run, is_synthetic, runs_root
from emokit.spec import ModelSpec
from emokit.specs import build_spec
from emokit.training.callbacks import EpochListener, TrainingDiverged, make_callbacks, progress_display
from emokit.training.checkpoint import resume_from_checkpoint
from emokit.training.config import OPTIMIZERS, SCHEDULES, TrainConfig
from emokit.training.interrupts import StopSignals, stop_signals
from emokit.training.plugin_faults import plugin_fault, used_records
from emokit.training.preflight import check_augmentations, check_spec, input_shape
from emokit.training.run_state import RunState, apply_resume_settings, check_resumable, new_run_dir, write_metadata

SPLITS = ("train", "val", "test")


class TrainingInterrupted(EmokitError):
    """Ctrl-C or SIGTERM: the last complete epoch is kept and the run can be resumed."""


def validate(config: TrainConfig, registry: Registry) -> None:
    """Check every name and value before any slow work starts; each error names the option."""
    # The same checks as the command line's, so configs built in Python and resumed ones are held to them too.
    check_options(config.arch_options, registry.get("architecture", config.arch).options, f"Architecture '{config.arch}'")
    for name, options in config.augmentations:
        check_options(options, registry.get("augmentation", name).options, f"Augmentation '{name}'")
    checks = [
        (config.epochs >= 1, f"--epochs must be at least 1, got {config.epochs}."),
        (config.batch_size >= 1, f"--batch-size must be at least 1, got {config.batch_size}."),
        (math.isfinite(config.lr) and config.lr > 0, f"--lr must be a positive finite number, got {config.lr}."),
        (0 <= config.label_smoothing < 1, f"--label-smoothing must be in [0, 1), got {config.label_smoothing}."),
        (config.patience >= 1, f"--patience must be at least 1, got {config.patience}."),
        (0 < config.val_fraction < 1, f"--val-fraction must be between 0 and 1, got {config.val_fraction}."),
        (config.optimizer in OPTIMIZERS, f"Unknown optimizer '{config.optimizer}'. Available: {', '.join(OPTIMIZERS)}."),
        (config.schedule in SCHEDULES, f"Unknown schedule '{config.schedule}'. Available: {', '.join(SCHEDULES)}."),
        (config.precision in PRECISIONS, f"Unknown precision '{config.precision}'. Available: {', '.join(PRECISIONS)}."),
        (config.channels in (1, 3), f"--channels must be 1 or 3, got {config.channels}."),
        (config.image_size >= 16, f"--image-size must be at least 16, got {config.image_size}."),
    ]
    for ok, message in checks:
        if not ok:
            raise EmokitError(message)


def parse_augmentations(registry: Registry, texts: list[str]) -> tuple[tuple[str, dict[str, Any]], ...]:
    """``NAME`` or ``NAME=key=value,...`` per ``--aug`` flag, checked against each augmentation's options."""
    parsed = []
    for text in texts:
        name, pairs = parse_named(text)
        record = registry.get("augmentation", name)
        parsed.append((name, parse_options(pairs, record.options, f"Augmentation '{name}'")))
    return tuple(parsed)


def _optimizer(keras: Any, config: TrainConfig, total_steps: int) -> Any:
    lr: Any = config.lr
    if config.schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(config.lr, decay_steps=max(1, total_steps))
    if config.optimizer == "adam":
        return keras.optimizers.Adam(lr)
    if config.optimizer == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=1e-4)
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=0.9, nesterov=True)
    return keras.optimizers.RMSprop(lr)


def _class_weights(labels: np.ndarray, num_classes: int) -> dict[int, float]:
    """Balanced weights, n / (k * count): disgust (436 of 28,709 in FER-2013) counts ~9x more than average."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    weights = len(labels) / (num_classes * np.maximum(counts, 1))
    return {i: float(w) for i, w in enumerate(weights)}


def _fit_arguments(backend: BackendRecord, train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray],
                   batch_size: int, seed: int) -> dict[str, Any]:
    """``model.fit``'s data arguments: the arrays, or what the backend wraps them in (``fit_data``)."""
    if backend.fit_data is None:
        return {"x": train[0], "y": train[1], "batch_size": batch_size, "shuffle": True, "validation_data": val}
    # ``shuffle=False``: the backend's data is already shuffled (Keras would only warn that it ignores it).
    return {"x": backend.fit_data(*train, batch_size, True, seed), "shuffle": False,
            "validation_data": backend.fit_data(*val, batch_size, False, seed)}


def _data_epoch_callbacks(keras: Any, data: Any) -> list[Any]:
    """A callback that tells the backend's data which epoch starts, when that data has an ``epoch``
    variable (the tensorflow backend's ``fit_data``): its order is then a function of (seed, epoch),
    so a run resumed in a new process feeds the same batches as the run never stopped (issue #18).
    Keras's own array shuffling needs nothing: ``SeedPerEpoch`` seeds the generators it draws from."""
    epoch = getattr(data, "epoch", None)
    if epoch is None:
        return []
    return [keras.callbacks.LambdaCallback(on_epoch_begin=lambda index, logs=None: epoch.assign(index))]


def _load_data(config: TrainConfig, registry: Registry, console: Console) -> Dataset:
    from rich.progress import Progress  # noqa: PLC0415

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("loading data", total=None)
        request = DataRequest(
            source=Path(config.data) if config.data else None,
            image_size=(config.image_size, config.image_size),
            channels=config.channels,
            val_fraction=config.val_fraction,
            seed=config.split_seed,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
        return open_dataset(registry, config.data, request, config.dataset)


def train(config: TrainConfig, registry: Registry, root: Path | None = None, resume: Run | None = None,
          console: Console | None = None, stops: StopSignals | None = None,
          listeners: Sequence[EpochListener] = ()) -> Run:
    """Run a whole training (or resume one) and write everything into the run directory. Returns the run.

    Ctrl-C and SIGTERM are handled from the first line (``stops``: the command's handlers, installed
    at its start; without them they are installed here): the first stops promptly keeping the last
    checkpoint, a second at once. The run folder is created only once the plugins, data and model
    are ready; from then on any failure marks the run ``failed`` with its reason.
    ``listeners`` are told of every epoch (epochs done, its logs); one that returns a reason stops the
    training after that epoch, recorded as the run's ``stopped_by`` (how a sweep prunes a trial).
    """
    if stops is None:
        with stop_signals() as own:
            return train(config, registry, root, resume, console, own, listeners)
    console = console or Console()
    tracker = RunState(resume)
    stops.before_exit = lambda: f"Stopped at once. {tracker.interrupted()}"
    try:
        return _train(config, registry, root, console, tracker, listeners)
    except KeyboardInterrupt:
        raise TrainingInterrupted(tracker.interrupted()) from None


def _train(config: TrainConfig, registry: Registry, root: Path | None, console: Console, tracker: RunState,
           listeners: Sequence[EpochListener] = ()) -> Run:
    validate(config, registry)
    backend = resolve_backend(registry, config.backend)
    config = TrainConfig.from_dict({**config.to_dict(), "backend": backend.name})
    resume = tracker.run
    if resume is not None:
        check_resumable(resume)
    timings: dict[str, float] = dict(resume.metadata().get("timings", {})) if resume else {}

    # The plugins' own checks before the data: a spec that shrinks the image to nothing or an
    # augmentation whose build raises is named at once, not after a minute of loading.
    placeholder_spec = check_spec(config, registry)
    check_precision(backend, placeholder_spec, config.precision)
    if config.precision != "float32" and cpu_has_bfloat16() is False:
        console.print("[yellow]This CPU has no AVX-512 BF16 or AMX: bfloat16 is emulated and trains slower than float32.[/]")
    data_path = Path(config.data).expanduser() if config.data else None
    if data_path is not None and not data_path.exists():  # said before the backend's seconds of import
        raise EmokitError(f"Data path '{data_path}' does not exist.")
    keras = activate(backend, placeholder_spec)  # the environment depends on the layers, not on the class names
    check_augmentations(config, registry, keras)

    started = time.perf_counter()
    dataset = _load_data(config, registry, console)
    timings["load_data_s"] = time.perf_counter() - started
    for split in ("train", "val"):
        if split not in dataset.splits or len(dataset.splits[split]) == 0:
            raise EmokitError(f"Dataset '{dataset.name}' ({dataset.source}) has no '{split}' images to train with.")
    console.print(f"Data: {describe_dataset(dataset)}: " + ", ".join(
        f"{s} {len(d):,}" for s, d in dataset.splits.items()) + (f" ({dataset.skipped} unreadable skipped)" if dataset.skipped else ""))

    spec = build_spec(registry, config.arch, config.arch_options, input_shape(config), dataset.class_names)
    set_random_seed(keras, config.seed)
    core = build_model(spec, keras, config.precision, backend.training_layer)
    train_model = _with_augmentations(keras, registry, core, config)
    train_split = dataset.splits["train"]
    steps = int(np.ceil(len(train_split) / config.batch_size))
    optimizer = _optimizer(keras, config, steps * config.epochs)
    train_model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
        **dict(backend.compile_options),
    )
    optimizer.build(train_model.trainable_variables)

    # Everything is ready: only now does the run folder appear (a failed setup leaves no orphan run).
    run = resume or new_run_dir(config, runs_root(root), backend.name)
    tracker.run = run
    try:
        return _fit_and_evaluate(config, registry, run, console, tracker, keras, backend, dataset, spec,
                                 core, train_model, optimizer, steps, timings, started, listeners)
    except KeyboardInterrupt:
        raise
    except TrainingDiverged as exc:
        tracker.failed(str(exc))
        raise
    except Exception as exc:
        reason = plugin_fault(exc, registry, used_records(config))
        tracker.failed(reason or one_line(exc))
        if reason is not None:
            raise PluginError(reason) from None
        raise


def _fit_and_evaluate(config: TrainConfig, registry: Registry, run: Run, console: Console, tracker: RunState,
                      keras: Any, backend: BackendRecord, dataset: Dataset, spec: ModelSpec, core: Any,
                      train_model: Any, optimizer: Any, steps: int, timings: dict[str, float], started: float,
                      listeners: Sequence[EpochListener] = ()) -> Run:
    """The run's part of a training: restore, fit, evaluate, each recorded in the run as it happens."""
    if tracker.resumed:
        state = resume_from_checkpoint(run, core, optimizer, lambda line: console.print(f"[yellow]{line}[/]", highlight=False))
        if state is None:
            console.print("[yellow]No checkpoint in this run yet: starting it from epoch 1.[/]")
        else:
            state.pop("dir")
            apply_resume_settings(state, config)
            console.print(f"Resuming [bold]{run.name}[/] after epoch {state['epoch']} (best val accuracy {state['best_val_accuracy']:.3f}).")
    else:
        state = None
    write_json(run.config_file, config.to_dict())  # on resume too: --epochs and --patience may have changed
    write_text(run.spec_file, spec.to_json())
    # How a face becomes this model's input, beside the spec: every runtime and exporter reads it from here.
    write_preprocessing(run, Preprocessing.for_spec(spec))
    state = state or {"epoch": 0, "best_val_accuracy": -1.0, "best_epoch": 0, "history": {}, "stopped_early": False}
    tracker.state = state
    tracker.phase = "training"
    tracker.mark("running")
    write_metadata(run, config, dataset, registry, backend, spec, keras, timings)

    num_classes = len(dataset.class_names)
    train_split, val_split = dataset.splits["train"], dataset.splits["val"]
    x_train = train_split.images.astype(np.float32)
    y_train = keras.utils.to_categorical(train_split.labels, num_classes).astype(np.float32)
    x_val = val_split.images.astype(np.float32)
    y_val = keras.utils.to_categorical(val_split.labels, num_classes).astype(np.float32)
    fit_started = time.perf_counter()
    try:
        if state["epoch"] < config.epochs and not state.get("stopped_early") and not state.get("stopped_by"):
            # The bars are a context: whatever ends the fit (Ctrl-C, a crash), their line is finished first.
            with progress_display(console) as bars:
                callbacks = make_callbacks(keras, run, core, epochs=config.epochs, steps=steps, patience=config.patience,
                                           seed=config.seed, state=state, console=console, progress=bars,
                                           schedule=config.schedule, listeners=listeners)
                data = _fit_arguments(backend, (x_train, y_train), (x_val, y_val), config.batch_size, config.seed)
                train_model.fit(
                    **data, epochs=config.epochs, initial_epoch=state["epoch"], verbose=0,
                    callbacks=[*callbacks, *_data_epoch_callbacks(keras, data["x"])],
                    class_weight=_class_weights(train_split.labels, num_classes) if config.class_weights else None,
                )
    finally:
        timings["train_s"] = timings.get("train_s", 0.0) + time.perf_counter() - fit_started
        timings["epochs_run"] = state["epoch"]
        write_metadata(run, config, dataset, registry, backend, spec, keras, timings)

    # The best epoch's weights (early stopping's "best") in a float32 model: the one `emokit evaluate`,
    # predict and the demo build, so the run's metrics are theirs whatever precision trained it.
    tracker.phase = "evaluation"
    final = core if config.precision == "float32" else build_model(spec, keras)
    if run.weights_file.exists():
        verify_artefact(run, run.weights_file)  # the final evaluation refuses swapped weights too
        load_weights(final, run.weights_file)
    eval_started = time.perf_counter()
    # Each face's predictions are kept too (RUN/predictions/), labelled as `emokit evaluate` labels the Keras runtime.
    metrics = evaluate_splits(lambda x: model_probabilities(final, keras, x), dataset, ("val", "test"), dataset.class_names,
                              run.plots_dir, run.predictions_dir, f"keras+{backend.name}")
    timings["evaluate_s"] = time.perf_counter() - eval_started
    write_json(run.metrics_file, {
        "backend": backend.name, "dataset": dataset.name, "best_epoch": state["best_epoch"],
        "epochs_run": state["epoch"], "stopped_early": state.get("stopped_early", False),
        **({"stopped_by": state["stopped_by"]} if state.get("stopped_by") else {}), "splits": metrics,
    })
    plot_curves({run.name: state["history"]}, run.plots_dir / "curves.png")
    timings["total_s"] = time.perf_counter() - started
    write_metadata(run, config, dataset, registry, backend, spec, keras, timings)
    tracker.mark("completed")
    return run


def describe_dataset(dataset: Dataset) -> str:
    """The dataset as the ``Data:`` line says it: the built-in synthetic faces, or a dataset and its source."""
    if is_synthetic(dataset.name):
        return "the built-in synthetic faces (procedurally drawn, not FER-2013)"
    return f"{dataset.name} from {dataset.source}"


def _with_augmentations(keras: Any, registry: Registry, core: Any, config: TrainConfig) -> Any:
    """The model ``fit`` trains: augmentation layers (identity at inference), then the core model."""
    if not config.augmentations:
        return core
    inputs = keras.Input(shape=core.input_shape[1:], name="pixels")
    x = inputs
    for name, options in config.augmentations:
        record = registry.get("augmentation", name)
        for layer in record.build(keras, **{**record.options, **options}):
            x = layer(x)
    return keras.Model(inputs, core(x), name=f"{core.name}_train")
