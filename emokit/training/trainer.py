"""Train a model from a :class:`TrainConfig` into a run directory, or resume an interrupted run."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import platform
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

import emokit
from emokit.atomic import write_json, write_text
from emokit.backend import activate, check_precision, cpu_has_bfloat16, environment_for, resolve_backend
from emokit.builder import PRECISIONS, build_model
from emokit.data import open_dataset
from emokit.errors import EmokitError
from emokit.evaluation import evaluate_splits
from emokit.options import parse_named, parse_options
from emokit.plots import plot_curves
from emokit.predictor import probabilities
from emokit.records import BackendRecord, DataRequest, Dataset
from emokit.registry import Registry
from emokit.runs import Run, runs_root
from emokit.spec import ModelSpec
from emokit.training.checkpoint import latest_checkpoint, restore_checkpoint
from emokit.training.config import OPTIMIZERS, SCHEDULES, TrainConfig

SPLITS = ("train", "val", "test")


class TrainingInterrupted(EmokitError):
    """Ctrl-C or SIGTERM: the last complete epoch is kept and the run can be resumed."""


def validate(config: TrainConfig, registry: Registry) -> None:
    """Check every name and value before any slow work starts; each error names the option."""
    registry.get("architecture", config.arch)
    for name, options in config.augmentations:
        record = registry.get("augmentation", name)
        unknown = set(options) - set(record.options)
        if unknown:
            raise EmokitError(f"Augmentation '{name}' has no option '{sorted(unknown)[0]}'. Options: {', '.join(sorted(record.options))}.")
    checks = [
        (config.epochs >= 1, f"--epochs must be at least 1, got {config.epochs}."),
        (config.batch_size >= 1, f"--batch-size must be at least 1, got {config.batch_size}."),
        (config.lr > 0, f"--lr must be positive, got {config.lr}."),
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


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C while training, so both keep the last checkpoint."""
    def handler(signum, frame):  # noqa: ANN001
        raise KeyboardInterrupt
    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def new_run_dir(config: TrainConfig, root: Path, backend: str) -> Run:
    """A fresh, uniquely named run directory: ``<time>-<arch>-<backend>``."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = root / f"{stamp}-{config.arch}-{backend}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    path.mkdir(parents=True)
    return Run(path)


def _load_data(config: TrainConfig, registry: Registry, console: Console) -> Dataset:
    from rich.progress import Progress  # noqa: PLC0415

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("loading data", total=None)
        request = DataRequest(
            source=Path(config.data) if config.data else None,
            image_size=(config.image_size, config.image_size),
            channels=config.channels,
            val_fraction=config.val_fraction,
            seed=config.seed,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
        return open_dataset(registry, config.data, request, config.dataset)


def train(config: TrainConfig, registry: Registry, root: Path | None = None, resume: Run | None = None,
          console: Console | None = None) -> Run:
    """Run a whole training (or resume one) and write everything into the run directory. Returns the run."""
    console = console or Console()
    validate(config, registry)
    backend = resolve_backend(registry, config.backend)
    config = TrainConfig.from_dict({**config.to_dict(), "backend": backend.name})
    timings: dict[str, float] = dict(resume.metadata().get("timings", {})) if resume else {}

    started = time.perf_counter()
    dataset = _load_data(config, registry, console)
    timings["load_data_s"] = time.perf_counter() - started
    for split in ("train", "val"):
        if split not in dataset.splits or len(dataset.splits[split]) == 0:
            raise EmokitError(f"Dataset '{dataset.name}' ({dataset.source}) has no '{split}' images to train with.")
    label = "synthetic data (procedurally drawn faces, not FER-2013)" if dataset.name == "synthetic" else dataset.source
    console.print(f"Data: [bold]{dataset.name}[/] from {label}: " + ", ".join(
        f"{s} {len(d):,}" for s, d in dataset.splits.items()) + (f" ({dataset.skipped} unreadable skipped)" if dataset.skipped else ""))

    spec = spec_for_options(registry, config, dataset.class_names)
    check_precision(backend, spec, config.precision)
    if config.precision != "float32" and cpu_has_bfloat16() is False:
        console.print("[yellow]This CPU has no AVX-512 BF16 or AMX: bfloat16 is emulated and trains slower than float32.[/]")
    keras = activate(backend, spec)  # after the spec: some models need a backend setting (a kernel cap)

    run = resume or new_run_dir(config, runs_root(root), backend.name)
    if resume is None:
        write_json(run.config_file, config.to_dict())
        write_text(run.spec_file, spec.to_json())
    state = latest_checkpoint(run) if resume else None
    if resume is not None and state is None:
        console.print("[yellow]No checkpoint in this run yet: starting it from epoch 1.[/]")

    keras.utils.set_random_seed(config.seed)
    core = build_model(spec, keras, config.precision, backend.training_layer)
    train_model = _with_augmentations(keras, registry, core, config)
    train_split, val_split = dataset.splits["train"], dataset.splits["val"]
    steps = int(np.ceil(len(train_split) / config.batch_size))
    optimizer = _optimizer(keras, config, steps * config.epochs)
    train_model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
        **dict(backend.compile_options),
    )
    optimizer.build(train_model.trainable_variables)
    if state:
        restore_checkpoint(state, core, optimizer)
        console.print(f"Resuming [bold]{run.name}[/] after epoch {state['epoch']} (best val accuracy {state['best_val_accuracy']:.3f}).")
    state = state or {"epoch": 0, "best_val_accuracy": -1.0, "best_epoch": 0, "history": {}, "stopped_early": False}
    write_json(run.status_file, {"state": "running", "epoch": state["epoch"]})
    _write_metadata(run, config, dataset, registry, backend, spec, keras, timings)

    from emokit.training.callbacks import make_callbacks  # noqa: PLC0415

    num_classes = len(dataset.class_names)
    x_train = train_split.images.astype(np.float32)
    y_train = np.eye(num_classes, dtype=np.float32)[train_split.labels]
    x_val = val_split.images.astype(np.float32)
    y_val = np.eye(num_classes, dtype=np.float32)[val_split.labels]
    callbacks = make_callbacks(keras, run, core, epochs=config.epochs, steps=steps, patience=config.patience,
                               state=state, console=console, schedule=config.schedule)
    fit_started = time.perf_counter()
    try:
        with _sigterm_as_interrupt():
            if state["epoch"] < config.epochs and not state.get("stopped_early"):
                train_model.fit(
                    **_fit_arguments(backend, (x_train, y_train), (x_val, y_val), config.batch_size, config.seed),
                    epochs=config.epochs, initial_epoch=state["epoch"], verbose=0, callbacks=callbacks,
                    class_weight=_class_weights(train_split.labels, num_classes) if config.class_weights else None,
                )
    except KeyboardInterrupt:
        timings["train_s"] = timings.get("train_s", 0.0) + time.perf_counter() - fit_started
        _write_metadata(run, config, dataset, registry, backend, spec, keras, timings)
        write_json(run.status_file, {"state": "interrupted", "epoch": state["epoch"]})
        raise TrainingInterrupted(
            f"Training interrupted after epoch {state['epoch']}; the checkpoint is kept. Resume with: emokit train --resume {run.path}"
        ) from None
    timings["train_s"] = timings.get("train_s", 0.0) + time.perf_counter() - fit_started
    timings["epochs_run"] = state["epoch"]

    # The best epoch's weights (early stopping's "best") in a float32 model: the one `emokit evaluate`,
    # predict and the demo build, so the run's metrics are theirs whatever precision trained it.
    final = core if config.precision == "float32" else build_model(spec, keras)
    if run.weights_file.exists():
        final.load_weights(run.weights_file)
    eval_started = time.perf_counter()
    metrics = evaluate_splits(lambda x: probabilities(final, keras, x), dataset, ("val", "test"), dataset.class_names, run.plots_dir)
    timings["evaluate_s"] = time.perf_counter() - eval_started
    write_json(run.metrics_file, {
        "backend": backend.name, "dataset": dataset.name, "best_epoch": state["best_epoch"],
        "epochs_run": state["epoch"], "stopped_early": state.get("stopped_early", False), "splits": metrics,
    })
    plot_curves({run.name: state["history"]}, run.plots_dir / "curves.png")
    timings["total_s"] = time.perf_counter() - started
    _write_metadata(run, config, dataset, registry, backend, spec, keras, timings)
    write_json(run.status_file, {"state": "completed", "epoch": state["epoch"]})
    return run


def spec_for_options(registry: Registry, config: TrainConfig, class_names: tuple[str, ...]) -> ModelSpec:
    """The spec with the config's architecture options (already parsed and typed)."""
    record = registry.get("architecture", config.arch)
    return record.build(input_shape=(config.image_size, config.image_size, config.channels),
                        class_names=tuple(class_names), **{**record.options, **config.arch_options})


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


def _write_metadata(run: Run, config: TrainConfig, dataset: Dataset, registry: Registry, backend: BackendRecord,
                    spec: ModelSpec, keras: Any, timings: dict[str, float]) -> None:
    used = [("architecture", config.arch), *(("augmentation", name) for name, _ in config.augmentations)]
    plugins = {(kind if kind == "architecture" else f"augmentation:{name}"):
               f"{registry.provider(kind, name).package}:{registry.provider(kind, name).name}" for kind, name in used}
    backend_module = importlib.import_module(backend.module)
    # The settings the backend may apply, as this process has them: a kernel cap changes speed.
    settings = sorted({*environment_for(backend), *environment_for(backend, spec)})
    write_json(run.metadata_file, {
        "emokit": emokit.__version__, "keras": keras.__version__, "backend": backend.name,
        "backend_version": getattr(backend_module, "__version__", "?"), "python": platform.python_version(),
        "environment": {key: os.environ.get(key) for key in settings},
        "machine": platform.machine(), "dataset": dataset.name, "dataset_source": dataset.source,
        "dataset_fingerprint": dataset.fingerprint, "class_names": list(dataset.class_names),
        "split_sizes": {s: len(d) for s, d in dataset.splits.items()}, "seed": config.seed,
        "plugins": plugins, "timings": timings, "updated": dt.datetime.now().isoformat(timespec="seconds"),
    })
