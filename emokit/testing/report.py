"""Print contract-check results as a pass/fail table per plugin, then every failure and every check that could not run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from emokit.testing.results import CheckResult


def print_check_report(results: Iterable[CheckResult], console: Console) -> bool:
    """One row per plugin (checks passed, failed, skipped, PASS/FAIL/INCOMPLETE), then each failure and
    each skipped check with its reason. True only if every check ran and passed: a skipped check is no pass."""
    by_plugin: dict[str, list[CheckResult]] = defaultdict(list)
    for r in results:
        by_plugin[r.plugin].append(r)
    table = Table(title="emokit plugin checks")
    for column in ("plugin", "passed", "failed", "skipped", "result"):
        table.add_column(column)
    for plugin, rows in sorted(by_plugin.items()):
        counts = {status: sum(r.status == status for r in rows) for status in ("pass", "fail", "skip")}
        verdict = ("[bold red]FAIL[/]" if counts["fail"] else "[bold yellow]INCOMPLETE[/]" if counts["skip"]
                   else "[bold green]PASS[/]")
        table.add_row(escape(plugin), str(counts["pass"]), str(counts["fail"]), str(counts["skip"]), verdict)
    console.print(table)
    every = sorted((r for rows in by_plugin.values() for r in rows), key=lambda r: r.plugin)
    failed = [r for r in every if r.failed]
    skipped = [r for r in every if r.status == "skip"]
    for r in failed:
        console.print(f"[red]FAIL[/] {escape(r.plugin)}: {escape(str(r).removeprefix('[FAIL] '))}", highlight=False, soft_wrap=True)
    for r in skipped:
        console.print(f"[yellow]not run[/] {escape(r.plugin)}: {escape(str(r).removeprefix('[SKIP] '))}", highlight=False, soft_wrap=True)
    if failed or skipped:
        console.print(f"{len(failed)} check(s) failed, {len(skipped)} could not run, {len(by_plugin)} plugin(s).")
    else:
        console.print(f"All {len(by_plugin)} plugin(s) passed every check.")
    return not failed and not skipped
