"""``emokit runs``: list runs; ``emokit runs compare``: configs, metrics and curves side by side."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import typer
from rich.cells import cell_len
from rich.table import Table

from emokit.cli.common import FlagCommand, FlagGroup, console
from emokit.cli.tables import fraction, mean_std, percent, seconds
from emokit.errors import EmokitError
from emokit.run_groups import find_group, groups_of, spread
from emokit.runs import Run, find_run, is_run, is_synthetic, list_runs, runs_root, trained_on, unusable_reason

runs_app = typer.Typer(help="List and compare runs.", invoke_without_command=True, no_args_is_help=False, cls=FlagGroup)

#: The columns of ``emokit runs``, in the order shown, and which are right-aligned (numbers). ``group``
#: (a run's seed group) is shown only when some run belongs to one.
LIST_COLUMNS = ("run", "group", "arch", "backend", "data", "aug", "epochs", "best val acc", "test acc", "wall", "state")
NUMERIC_COLUMNS = ("epochs", "best val acc", "test acc", "wall")
#: On a terminal too narrow for every column, these give way, first to last. The run's name, the
#: one thing a user must copy, never does; nor does the data, which must stand beside a test
#: accuracy measured on synthetic faces. The group gives way first: the groups table below names it.
GIVE_WAY = ("group", "aug", "wall", "backend", "epochs", "best val acc", "arch", "state", "test acc")


def run_summary(run: Run) -> dict[str, Any]:
    """The row ``emokit runs`` shows for one run, as values (``None`` where not known yet)."""
    config, metrics, metadata = run.config(), run.metrics(), run.metadata()
    history = run.history()
    timings = metadata.get("timings", {})
    unusable = unusable_reason(run)
    state = run.status().get("state")
    return {
        "run": run.name,
        "group": config.get("group"),
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
        "run": summary["run"], "group": summary["group"] or "-", "arch": summary["arch"] or "-", "backend": summary["backend"] or "-",
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


def fitting_runs_table(rows: list[dict[str, str]], title: str, width: int,
                       columns: Sequence[str] = LIST_COLUMNS) -> tuple[Table | None, list[str]]:
    """The runs table with as many of ``columns`` as fit in ``width``, and the columns left out (see
    :data:`GIVE_WAY`); no table if not even the names fit."""
    columns = list(columns)
    hidden: list[str] = []
    for candidate in (None, *(c for c in GIVE_WAY if c in columns)):
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
    summaries = [run_summary(run) for run in found]
    rows = [_list_cells(summary) for summary in summaries]
    groups = groups_of(found)
    columns = LIST_COLUMNS if groups else tuple(c for c in LIST_COLUMNS if c != "group")
    table, hidden = fitting_runs_table(rows, f"Runs in {root}", console.width, columns)
    if table is None:  # narrower than a name: the names alone, each whole
        for row in rows:
            console.print(row["run"], soft_wrap=True, highlight=False)
        return
    console.print(table)
    if hidden:
        console.print(f"Hidden to fit the terminal: {', '.join(hidden)}.", highlight=False)
    if groups:
        console.print(group_table(groups, "Seed groups (mean ± sample std over the group's runs)"))


def group_table(groups: dict[str, list[Run]], title: str) -> Table:
    """One row per seed group: its runs' seeds, and best validation and test accuracy as mean ± std.

    Narrow enough for 80 columns: the group's name holds its architecture, and its seeds its size."""
    table = Table(title=title, title_justify="left", box=None, pad_edge=False, header_style="bold underline")
    table.add_column("group", no_wrap=True)
    table.add_column("data", no_wrap=True)  # never cut: it says when the accuracies are synthetic faces'
    table.add_column("seeds", overflow="fold")
    for column in ("best val acc", "test acc"):
        table.add_column(column, justify="right", overflow="fold")  # folded on a narrow terminal, never cut
    for name, members in groups.items():
        summaries = [run_summary(run) for run in members]
        seeds = sorted(int(run.config().get("seed", 0)) for run in members)
        table.add_row(name, _distinct(s["data"] or "?" for s in summaries), _seed_range(seeds),
                      mean_std(spread(s["best_val_accuracy"] for s in summaries)),
                      mean_std(spread(s["test_accuracy"] for s in summaries)))
    return table


def _distinct(values: Any) -> str:
    """The values' distinct texts, in first-seen order, joined by commas (one text when all agree)."""
    seen: list[str] = []
    for value in values:
        text = "-" if value is None else str(value)
        if text not in seen:
            seen.append(text)
    return ", ".join(seen)


def _seed_range(seeds: list[int]) -> str:
    """``[0, 1, 2]`` -> ``0-2``; seeds with gaps are listed."""
    if len(seeds) > 1 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(map(str, seeds))


@dataclass(frozen=True)
class Compared:
    """One column of ``emokit runs compare``: a run, or a seed group of runs (named by the group's name)."""

    name: str
    runs: tuple[Run, ...]
    group: bool


def compared(ref: str, root: Path | None) -> Compared:
    """A run (path, name or ``latest``) or, failing that, a seed group by name; neither is the run's one-line error."""
    named_run = is_run(Path(ref)) or is_run(runs_root(root) / ref) or ref == "latest"
    members = [] if named_run else find_group(ref, root)
    if members:
        return Compared(ref, tuple(members), True)
    run = find_run(ref, root)
    return Compared(run.name, (run,), False)


@runs_app.command("compare", cls=FlagCommand)
def compare_command(
    refs: list[str] = typer.Argument(..., help="Two or more runs (paths or names) or seed groups (their names, from `emokit runs`)."),
    runs: Optional[Path] = typer.Option(None, "--runs", help="Runs folder."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where to write the overlaid curves PNG."),
) -> None:
    """Configs and metrics side by side (a seed group as mean ± std), McNemar's test on the test faces of
    each run against the first, and every run's curves overlaid in one PNG."""
    from emokit.plots import plot_curves  # noqa: PLC0415

    columns = [compared(ref, runs) for ref in refs]
    table = Table(title="Runs compared", title_justify="left")
    table.add_column("")
    for column in columns:
        # A name folds onto a second line rather than losing its end.
        table.add_column(f"{column.name} ({len(column.runs)} runs)" if column.group else column.name, overflow="fold")
    configs = [[run.config() for run in column.runs] for column in columns]
    keys = sorted({k for group in configs for c in group for k in c})
    for key in keys:
        values = [_distinct(c.get(key, "-") for c in group) for group in configs]
        style = "bold yellow" if len(set(values)) > 1 else None
        table.add_row(key, *values, style=style)
    table.add_section()
    summaries = [[run_summary(run) for run in column.runs] for column in columns]
    synthetic = [any(is_synthetic(s["data"]) for s in group) for group in summaries]

    def accuracy(group: list[dict[str, Any]], key: str, on_synthetic: bool) -> str:
        value = spread(s[key] for s in group)
        text = mean_std(value) if len(group) > 1 else percent(value.mean if value else None)
        return f"{text} (synthetic)" if on_synthetic and value is not None else text

    def macro_f1(column: Compared, split: str) -> str:
        values = [run.metrics().get("splits", {}).get(split, {}).get("macro_f1") for run in column.runs]
        value = spread(values)
        if len(column.runs) == 1 or value is None or value.std is None:
            return fraction(value.mean if value else None)
        return f"{value.mean:.3f} ± {value.std:.3f}"

    table.add_row("trained on", *(_distinct(s["data"] or "?" for s in group) for group in summaries))
    table.add_row("epochs", *(_distinct(s["epochs"] for s in group) for group in summaries))
    table.add_row("best val acc", *(accuracy(g, "best_val_accuracy", syn) for g, syn in zip(summaries, synthetic)))
    table.add_row("test acc", *(accuracy(g, "test_accuracy", syn) for g, syn in zip(summaries, synthetic)))
    table.add_row("wall time", *(_wall(group) for group in summaries))
    for split in ("val", "test"):
        table.add_row(f"{split} macro-F1", *(macro_f1(column, split) for column in columns))
    table.add_row("state", *(_distinct(s["state"] for s in group) for group in summaries))
    console.print(table)
    _print_significance(columns)
    path = out or runs_root(runs) / "compare.png"
    plot_curves({run.name: run.history() for column in columns for run in column.runs}, path)
    console.print(f"Curves overlaid in {path}")


def _wall(summaries: list[dict[str, Any]]) -> str:
    """One run's wall time; a group's mean per run."""
    value = spread(s["wall_s"] for s in summaries)
    if value is None:
        return "-"
    return seconds(value.mean) if len(summaries) == 1 else f"{seconds(value.mean)} each"


#: The split McNemar's test is run on: the one no choice was made on.
SIGNIFICANCE_SPLIT = "test"
#: How the significance table names each method of :func:`emokit.significance.mcnemar` (explained under it).
SHORT_METHODS = {"exact binomial": "exact", "chi-squared, continuity-corrected": "chi-squared cc"}


def _print_significance(columns: list[Compared]) -> None:
    """McNemar's test and a bootstrap interval of each run against the first, on their per-face test predictions;
    a line saying why for each run that cannot be tested."""
    from emokit.significance import bootstrap_difference, mcnemar  # noqa: PLC0415 - NumPy: only when comparing

    reference, others = columns[0], columns[1:]
    if reference.group or any(column.group for column in others):
        console.print("No McNemar test for seed groups: a group shows its spread (± std). To test two runs face by face, "
                      "name the runs (`emokit runs` lists each group's runs).", highlight=False, soft_wrap=True)
        if reference.group:
            return
    base, why = _test_predictions(reference.runs[0])
    if base is None:
        console.print(f"No significance test: {why}", highlight=False, soft_wrap=True)
        return
    tested: list[tuple[Run, Any, Any, Any]] = []  # run, predictions, McNemar, interval
    notes: list[str] = []
    for column in others:
        if column.group:
            continue
        run = column.runs[0]
        other, why = _test_predictions(run)
        if other is not None and other.faces_id != base.faces_id:
            other, why = None, (f"{run.name}'s {SIGNIFICANCE_SPLIT} predictions are not on the same faces as "
                                f"{reference.name}'s (another dataset, data seed or split); McNemar's test needs the same faces.")
        if other is None:
            notes.append(f"No significance test for {run.name}: {why}")
            continue
        if other.pixels_digest != base.pixels_digest:
            notes.append(f"{run.name}: the same faces as {reference.name}, preprocessed differently (input size or channels).")
        if other.evaluator != base.evaluator:
            notes.append(f"{run.name} was evaluated by {other.evaluator}, {reference.name} by {base.evaluator}.")
        tested.append((run, other, mcnemar(base.correct, other.correct), bootstrap_difference(base.correct, other.correct)))
    if tested:
        # Runs as columns, as in the table above: a row per figure fits a narrow terminal.
        table = Table(title=f"Significance on the {SIGNIFICANCE_SPLIT} split, against {reference.name} "
                            f"({base.accuracy:.2%} on {len(base.labels):,} faces, by {base.evaluator})", title_justify="left")
        table.add_column("")
        for run, *_ in tested:
            table.add_column(run.name, overflow="fold")
        table.add_row("evaluated by", *(p.evaluator for _, p, _, _ in tested))
        table.add_row("accuracy", *(percent(p.accuracy) for _, p, _, _ in tested))
        table.add_row("difference [95% CI]", *(f"{i.difference * 100:+.2f} [{i.low * 100:+.2f}, {i.high * 100:+.2f}]"
                                               for *_, i in tested))
        table.add_row("right only: first / this", *(f"{t.only_first} / {t.only_second}" for _, _, t, _ in tested))
        table.add_row("McNemar p", *(_p_value(t.p_value) for _, _, t, _ in tested))
        table.add_row("McNemar test", *(SHORT_METHODS[t.method] for _, _, t, _ in tested))
        console.print(table)
        console.print("difference: this run's accuracy minus the first's, in points; 95% CI: paired bootstrap, 2000 "
                      "resamples of the faces, seed 0. McNemar's test: exact binomial below 25 faces right for only one "
                      "of the two, else chi-squared with continuity correction (cc).", highlight=False, soft_wrap=True)
    for note in notes:
        console.print(note, highlight=False, soft_wrap=True)


def _test_predictions(run: Run) -> tuple[Any, str]:
    """The run's per-face test predictions, or ``None`` and why there are none (with the command that makes them)."""
    from emokit.split_predictions import predictions_file, read_predictions  # noqa: PLC0415

    path = predictions_file(run.predictions_dir, SIGNIFICANCE_SPLIT)
    try:
        found = read_predictions(path)
    except EmokitError as exc:
        return None, str(exc)
    if found is None:
        return None, (f"{run.name} has no per-face {SIGNIFICANCE_SPLIT} predictions (trained before they were kept, "
                      f"or not finished); make them with: emokit evaluate {shlex.quote(str(run.path))}")
    return found, ""


def _p_value(p: float) -> str:
    """``1.000``, ``0.032``, ``4.1e-12``: three decimals, or two significant digits below 0.001."""
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"
