"""Print contract-check results as a pass/fail table per plugin, then every failure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from emokit.testing.results import CheckResult


def print_check_report(results: Iterable[CheckResult], console: Console) -> bool:
    """One row per plugin (checks passed, failed, skipped, PASS/FAIL), then each failure. True if none failed."""
    by_plugin: dict[str, list[CheckResult]] = defaultdict(list)
    for r in results:
        by_plugin[r.plugin].append(r)
    table = Table(title="emokit plugin checks")
    for column in ("plugin", "passed", "failed", "skipped", "result"):
        table.add_column(column)
    for plugin, rows in sorted(by_plugin.items()):
        counts = {status: sum(r.status == status for r in rows) for status in ("pass", "fail", "skip")}
        verdict = "[bold red]FAIL[/]" if counts["fail"] else "[bold green]PASS[/]"
        table.add_row(escape(plugin), str(counts["pass"]), str(counts["fail"]), str(counts["skip"]), verdict)
    console.print(table)
    failed = [r for r in (r for rows in by_plugin.values() for r in rows) if r.status == "fail"]
    for r in sorted(failed, key=lambda r: r.plugin):
        console.print(f"[red]FAIL[/] {escape(r.plugin)}: {escape(str(r).removeprefix('[FAIL] '))}", highlight=False, soft_wrap=True)
    skipped = [r for rows in by_plugin.values() for r in rows if r.status == "skip"]
    for r in skipped:
        console.print(f"[yellow]skip[/] {escape(r.plugin)}: {escape(str(r).removeprefix('[SKIP] '))}", highlight=False, soft_wrap=True)
    console.print(f"{len(failed)} failed, {len(skipped)} skipped, {len(by_plugin)} plugin(s)." if failed
                  else f"All {len(by_plugin)} plugin(s) passed ({len(skipped)} check(s) skipped).")
    return not failed
