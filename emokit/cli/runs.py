"""``emokit runs``: list runs; ``emokit runs compare``: configs, metrics and curves side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

from emokit.cli.common import console
from emokit.runs import Run, find_run, list_runs, runs_root

runs_app = typer.Typer(help="List and compare runs.", invoke_without_command=True, no_args_is_help=False)


def _fmt(value: Any, percent: bool = False) -> str:
    if value is None:
        return "-"
    if percent:
        return f"{value:.2%}"
    return f"{value:.0f}s" if isinstance(value, float) else str(value)


def run_summary(run: Run) -> dict[str, Any]:
    """The row ``emokit runs`` shows for one run."""
    config, metrics, metadata = run.config(), run.metrics(), run.metadata()
    history = run.history()
    splits = metrics.get("splits", {})
    best_val = max(history.get("val_accuracy", []), default=None)
    return {
        "run": run.name,
        "arch": config.get("arch"),
        "backend": config.get("backend"),
        "data": metadata.get("dataset", "?"),
        "augmentations": ",".join(name for name, _ in config.get("augmentations", [])) or "-",
        "epochs": len(history.get("loss", [])),
        "best_val_accuracy": best_val,
        "test_accuracy": splits.get("test", {}).get("accuracy"),
        "wall_s": metadata.get("timings", {}).get("total_s") or metadata.get("timings", {}).get("train_s"),
        "state": run.status().get("state"),
    }


@runs_app.callback()
def runs_command(ctx: typer.Context, runs: Optional[Path] = typer.Option(None, "--runs", help="Runs folder.")) -> None:
    """List runs: arch, backend, augmentations, epochs, best validation accuracy, test accuracy, wall time."""
    if ctx.invoked_subcommand:
        return
    root = runs_root(runs)
    found = list_runs(root)
    if not found:
        console.print(f"No runs in '{root}'. Train one: emokit train --arch small_cnn")
        return
    table = Table(title=f"Runs in {root}", title_justify="left")
    for column in ("run", "arch", "backend", "data", "augmentations", "epochs", "best val acc", "test acc", "wall", "state"):
        table.add_column(column, justify="right" if column in ("epochs", "best val acc", "test acc", "wall") else "left")
    for run in found:
        s = run_summary(run)
        table.add_row(s["run"], s["arch"], s["backend"], s["data"], s["augmentations"], str(s["epochs"]),
                      _fmt(s["best_val_accuracy"], True), _fmt(s["test_accuracy"], True), _fmt(s["wall_s"]), s["state"])
    console.print(table)


@runs_app.command("compare")
def compare_command(
    refs: list[str] = typer.Argument(..., help="Two or more runs (paths or names)."),
    runs: Optional[Path] = typer.Option(None, "--runs", help="Runs folder."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where to write the overlaid curves PNG."),
) -> None:
    """Configs and metrics side by side, and every run's curves overlaid in one PNG."""
    from emokit.plots import plot_curves  # noqa: PLC0415

    found = [find_run(ref, runs) for ref in refs]
    table = Table(title="Runs compared", title_justify="left")
    table.add_column("")
    for run in found:
        table.add_column(run.name)
    configs = [run.config() for run in found]
    keys = sorted({k for c in configs for k in c})
    for key in keys:
        values = [str(c.get(key, "-")) for c in configs]
        style = "bold yellow" if len(set(values)) > 1 else None
        table.add_row(key, *values, style=style)
    table.add_section()
    summaries = [run_summary(run) for run in found]
    for key, label, pct in (("epochs", "epochs", False), ("best_val_accuracy", "best val acc", True),
                            ("test_accuracy", "test acc", True), ("wall_s", "wall time", False)):
        table.add_row(label, *(_fmt(s[key], pct) for s in summaries))
    for split in ("val", "test"):
        table.add_row(f"{split} macro-F1", *(_fmt(r.metrics().get("splits", {}).get(split, {}).get("macro_f1")) for r in found))
    console.print(table)
    path = out or runs_root(runs) / "compare.png"
    plot_curves({run.name: run.history() for run in found}, path)
    console.print(f"Curves overlaid in {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(runs_app, name="runs")
