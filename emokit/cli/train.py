"""``emokit train``: flags -> TrainConfig -> :func:`emokit.training.trainer.train`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from emokit.cli.common import console, registry_with_warnings
from emokit.options import parse_options
from emokit.runs import find_run
from emokit.training.config import TrainConfig

#: The built-in synthetic set is a smoke test that should finish in minutes on a laptop.
SYNTHETIC_EPOCHS = 5


def train_command(
    arch: str = typer.Option("small_cnn", "--arch", help="Architecture (see `emokit plugins`)."),
    data: Optional[str] = typer.Option(None, "--data", help="Dataset file or folder (FER-2013 zip/CSV/folder, image folder). Default: built-in synthetic faces."),
    dataset: Optional[str] = typer.Option(None, "--dataset", help="Dataset plugin to read --data with (default: picked from the path)."),
    backend: Optional[str] = typer.Option(None, "--backend", help="torch, tensorflow or jax (default: $KERAS_BACKEND, else the first installed)."),
    aug: list[str] = typer.Option([], "--aug", help="Augmentation NAME or NAME=key=value,... (repeatable)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Maximum epochs (default: 30; 5 on the built-in synthetic set)."),
    batch_size: int = typer.Option(64, "--batch-size"),
    lr: float = typer.Option(1e-3, "--lr", help="Initial learning rate."),
    optimizer: str = typer.Option("adam", "--optimizer", help="adam, adamw, sgd or rmsprop."),
    schedule: str = typer.Option("plateau", "--schedule", help="Learning-rate schedule: plateau, cosine or none."),
    label_smoothing: float = typer.Option(0.0, "--label-smoothing"),
    precision: str = typer.Option("float32", "--precision", help="float32, or mixed_bfloat16: bfloat16 compute, about 2x faster on CPUs with AVX-512 BF16/AMX."),
    patience: int = typer.Option(8, "--patience", help="Early stopping: epochs without a better validation accuracy."),
    class_weights: bool = typer.Option(False, "--class-weights", help="Weight classes inversely to their frequency."),
    seed: int = typer.Option(0, "--seed"),
    val_fraction: float = typer.Option(0.1, "--val-fraction", help="Share of train carved out for validation when the data has no val split."),
    image_size: int = typer.Option(48, "--image-size", help="Input height and width."),
    channels: int = typer.Option(1, "--channels", help="1 (grayscale) or 3 (RGB)."),
    sets: list[str] = typer.Option([], "--set", help="Architecture option key=value (repeatable)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Runs folder (default: $EMOKIT_RUNS_DIR or ./runs)."),
    resume: Optional[str] = typer.Option(None, "--resume", help="Continue an interrupted run (path or name)."),
) -> None:
    """Train a CNN and write a run: config, spec, weights, history, metrics, plots."""
    from emokit.training.trainer import parse_augmentations, train  # noqa: PLC0415 - keeps `--help` fast

    registry = registry_with_warnings()
    if resume:
        run = find_run(resume, out)
        config = TrainConfig.from_dict(run.config())
        result = train(config, registry, resume=run, console=console)
    else:
        record = registry.get("architecture", arch)
        config = TrainConfig(
            arch=arch, arch_options=parse_options(sets, record.options, f"Architecture '{arch}'"), data=data,
            dataset=dataset, backend=backend, augmentations=parse_augmentations(registry, aug),
            epochs=epochs if epochs is not None else (30 if (data or dataset) else SYNTHETIC_EPOCHS),
            batch_size=batch_size, lr=lr, optimizer=optimizer, schedule=schedule, label_smoothing=label_smoothing,
            precision=precision, patience=patience, class_weights=class_weights, seed=seed, val_fraction=val_fraction,
            image_size=image_size, channels=channels,
        )
        result = train(config, registry, root=out, console=console)
    from emokit.cli.tables import metrics_table  # noqa: PLC0415

    console.print(metrics_table(result))
    console.print(f"Run written to [bold]{result.path}[/]")


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
