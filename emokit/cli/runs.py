"""``emokit runs``: list runs; ``emokit runs compare``: configs, metrics and curves side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.cells import cell_len
from rich.table import Table

from emokit.cli.common import FlagCommand, FlagGroup, console
from emokit.cli.tables import fraction, percent, seconds
from emokit.runs import Run, find_run, is_synthetic, list_runs, runs_root, trained_on, unusable_reason

runs_app = typer.Typer(help="List and compare runs.", invoke_without_command=True, no_args_is_help=False, cls=FlagGroup)

#: The columns of ``emokit runs``, in the order shown, and which are right-aligned (numbers).
LIST_COLUMNS = ("run", "arch", "backend", "data", "aug", "epochs", "best val acc", "test acc", "wall", "state")
NUMERIC_COLUMNS = ("epochs", "best val acc", "test acc", "wall")
#: On a terminal too narrow for every column, these give way, first to last. The run's name, the
#: one thing a user must copy, never does; nor does the data, which must stand beside a test
#: accuracy measured on synthetic faces.
GIVE_WAY = ("aug", "wall", "backend", "epochs", "best val acc", "arch", "state", "test acc")


def run_summary(run: Run) -> dict[str, Any]:
    """The row ``emokit runs`` shows for one run, as values (``None`` where not known yet)."""
    config, metrics, metadata = run.config(), run.metrics(), run.metadata()
    history = run.history()
    timings = metadata.get("timings", {})
    unusable = unusable_reason(run)
    state = run.status().get("state")
    return {
        "run": run.name,
        "arch": config.get("arch"),
        "backend": config.get("backend"),
        "data": trained_on(run),
        "augmentations": [name for name, _ in config.get("augmentations", [])],
        "epochs": len(history.get("loss", [])),
        "best_val_accuracy": max(history.get("val_accuracy", []), default=None),
        "test_accuracy": metrics.get("splits", {}).get("test", {}).get("accuracy"),
        "wall_s": timings.get("total_s") or timings.get("train_s"),
        # A run that cannot answer says so where people look: `latest` and the demo skip it.
        "state": state if unusable is None else f"no weights, {state}" if run.spec_file.is_file() else "not started",
    }


def _list_cells(summary: dict[str, Any]) -> dict[str, str]:
    """``summary`` written for the listing, one string per column of :data:`LIST_COLUMNS`."""
    return {
        "run": summary["run"], "arch": summary["arch"] or "-", "backend": summary["backend"] or "-",
        "data": summary["data"] or "?", "aug": ", ".join(summary["augmentations"]) or "-",
        "epochs": str(summary["epochs"]), "best val acc": percent(summary["best_val_accuracy"]),
        "test acc": percent(summary["test_accuracy"]), "wall": seconds(summary["wall_s"]), "state": summary["state"],
    }


def _column_widths(rows: list[dict[str, str]], columns: list[str], room: int) -> list[int] | None:
    """A width per column that fits ``room`` with no word cut (the name kept whole, on one line), or
    ``None``. Each column starts at its longest word (the name column at its longest name) and grows
    toward its longest text, those nearest to it first. Rich's own squeezing cuts any column,
    the name too, once the table is too wide, so the widths are set here."""
    shortest, longest = [], []
    for column in columns:
        texts = [column, *(row[column] for row in rows)]
        words = [word for text in texts for word in text.split()] if column != "run" else texts
        shortest.append(max(cell_len(word) for word in words))
        longest.append(max(cell_len(text) for text in texts))
    spare = room - sum(shortest)
    if spare < 0:
        return None
    widths = list(shortest)
    for index in sorted(range(len(columns)), key=lambda i: longest[i] - shortest[i]):
        grow = min(spare, longest[index] - shortest[index])
        widths[index] += grow
        spare -= grow
    return widths


def fitting_runs_table(rows: list[dict[str, str]], title: str, width: int) -> tuple[Table | None, list[str]]:
    """The runs table with as many columns as fit in ``width``, and the columns left out (see
    :data:`GIVE_WAY`); no table if not even the names fit."""
    columns = list(LIST_COLUMNS)
    hidden: list[str] = []
    for candidate in (None, *GIVE_WAY):
        if candidate is not None:
            columns.remove(candidate)
            hidden.append(candidate)
        gaps = 2 * (len(columns) - 1)  # one space of padding each side of a column, none at the edges
        widths = _column_widths(rows, columns, width - gaps)
        if widths is None:
            continue
        # No borders: on a narrow terminal they would cost the names and numbers room.
        table = Table(title=title, title_justify="left", box=None, pad_edge=False, header_style="bold underline")
        for column, column_width in zip(columns, widths):
            table.add_column(column, width=column_width, no_wrap=column == "run", overflow="fold",
                             justify="right" if column in NUMERIC_COLUMNS else "left")
        for row in rows:
            table.add_row(*(row[column] for column in columns))
        return table, hidden
    return None, hidden


@runs_app.callback()
def runs_command(ctx: typer.Context, runs: Optional[Path] = typer.Option(None, "--runs", help="Runs folder.")) -> None:
    """List runs: arch, backend, data, augmentations, epochs, best validation accuracy, test accuracy, wall time, state."""
    if ctx.invoked_subcommand:
        return
    root = runs_root(runs)
    found = list_runs(root)
    if not found:
        console.print(f"No runs in '{root}'. Train one: emokit train --arch small_cnn")
        return
    rows = [_list_cells(run_summary(run)) for run in found]
    table, hidden = fitting_runs_table(rows, f"Runs in {root}", console.width)
    if table is None:  # narrower than a name: the names alone, each whole
        for row in rows:
            console.print(row["run"], soft_wrap=True, highlight=False)
        return
    console.print(table)
    if hidden:
        console.print(f"Hidden to fit the terminal: {', '.join(hidden)}.", highlight=False)


@runs_app.command("compare", cls=FlagCommand)
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
        table.add_column(run.name, overflow="fold")  # a name folds onto a second line rather than losing its end
    configs = [run.config() for run in found]
    keys = sorted({k for c in configs for k in c})
    for key in keys:
        values = [str(c.get(key, "-")) for c in configs]
        style = "bold yellow" if len(set(values)) > 1 else None
        table.add_row(key, *values, style=style)
    table.add_section()
    summaries = [run_summary(run) for run in found]
    synthetic = [is_synthetic(s["data"]) for s in summaries]

    def accuracy(value: float | None, on_synthetic: bool) -> str:
        return f"{percent(value)} (synthetic)" if on_synthetic and value is not None else percent(value)

    table.add_row("trained on", *(s["data"] or "?" for s in summaries))
    table.add_row("epochs", *(str(s["epochs"]) for s in summaries))
    table.add_row("best val acc", *(accuracy(s["best_val_accuracy"], syn) for s, syn in zip(summaries, synthetic)))
    table.add_row("test acc", *(accuracy(s["test_accuracy"], syn) for s, syn in zip(summaries, synthetic)))
    table.add_row("wall time", *(seconds(s["wall_s"]) for s in summaries))
    for split in ("val", "test"):
        table.add_row(f"{split} macro-F1", *(fraction(r.metrics().get("splits", {}).get(split, {}).get("macro_f1")) for r in found))
    table.add_row("state", *(s["state"] for s in summaries))
    console.print(table)
    path = out or runs_root(runs) / "compare.png"
    plot_curves({run.name: run.history() for run in found}, path)
    console.print(f"Curves overlaid in {path}")
