"""``emokit export``: write a run's model as LiteRT for fast single-face inference (the demo uses it)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from emokit.cli.common import FlagCommand, console, registry_with_warnings, usable_run


def export_command(
    run: str = typer.Argument(..., help="Run path or name (or `latest`)."),
    int8: bool = typer.Option(False, "--int8", help="Store weights as int8 (dynamic-range quantization): 4x smaller."),
    runs: Optional[Path] = typer.Option(None, "--runs", help="Runs folder."),
) -> None:
    """Export a run's model to LiteRT (RUN/model.tflite); needs TensorFlow to convert, only ai-edge-litert to run."""
    from emokit.export import export_litert  # noqa: PLC0415 - Keras loads only for this command

    found = usable_run(run, runs)
    path = export_litert(found, registry_with_warnings(), quantize=int8)
    console.print(f"Exported {found.name} to {path} ({path.stat().st_size / 1e6:.2f} MB, "
                  f"{'int8 weights' if int8 else 'float32'}). Try it: emokit evaluate {found.path} --runtime litert",
                  highlight=False)


def register(app: typer.Typer) -> None:
    app.command("export", cls=FlagCommand)(export_command)
