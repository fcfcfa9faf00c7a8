"""``emokit evaluate``: a run's metrics on any split, on any installed backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from emokit.cli.common import console, registry_with_warnings, usable_run


def evaluate_command(
    run: str = typer.Argument(..., help="Run path or name (or `latest`), a bundled model's name (fer2013), or an exported model file."),
    data: Optional[str] = typer.Option(None, "--data", help="Dataset to evaluate on (default: the run's own; "
                                       "needed for a bundled model: --data fer2013.zip, whose test split is PublicTest)."),
    split: list[str] = typer.Option(["test"], "--split", help="Split(s) to evaluate: train, val, test."),
    backend: Optional[str] = typer.Option(None, "--backend", help="Backend to run the model on (any installed one)."),
    runtime: Optional[str] = typer.Option(None, "--runtime", help="keras, litert or onnx (the run's `emokit export --format`), "
                                          "or auto (the fastest current export, else keras). Default: keras for a run, "
                                          "the model's own runtime for a bundled model or a file."),
    tta: str = typer.Option("none", "--tta", help="Test-time augmentation: none, flip (average with the mirror image) or ten-crop (corner and centre crops, each mirrored)."),
    runs: Optional[Path] = typer.Option(None, "--runs", help="Runs folder."),
    json_out: bool = typer.Option(False, "--json", help="Print metrics as JSON."),
) -> None:
    """Evaluate a trained run or a bundled model: accuracy, loss, per-class precision/recall/F1, confusion matrix PNG."""
    from emokit.evaluation import evaluate_run  # noqa: PLC0415
    from emokit.inference.source import bundled_name  # noqa: PLC0415

    registry = registry_with_warnings()
    # A run named by name (or `latest`) is checked the CLI's way first: `latest` names the newer runs it skipped.
    model = run if Path(run).is_file() or bundled_name(run, registry) is not None else usable_run(run, runs)
    result = evaluate_run(model, registry, data=data, splits=split, backend=backend, root=runs, runtime=runtime, tta=tta)
    if json_out:
        print(json.dumps(result.metrics, indent=2))
        return
    from emokit.cli.tables import per_class_table, split_metrics_table  # noqa: PLC0415

    console.print(split_metrics_table([result.name, f"on {result.dataset}, {result.backend}"], result.metrics,
                                      dataset=result.dataset))
    for name, metrics in result.metrics.items():
        console.print(per_class_table(name, metrics, dataset=result.dataset))
    for plot in result.plots:
        console.print(f"Confusion matrix: {plot}")
    for predictions in result.predictions:
        console.print(f"Per-face predictions (for `emokit runs compare`): {predictions}")


