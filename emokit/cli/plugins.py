"""``emokit plugins``: every plugin, built-in or third-party, in one table; ``--check`` runs the contract checks."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from emokit.cli.common import console, registry_with_warnings
from emokit.hookspecs import KINDS


def plugins_command(
    name: Optional[str] = typer.Argument(None, metavar="NAME", show_default=False,
                                         help="Only this plugin (the 'plugin' column) or this record (the 'name' column)."),
    check: bool = typer.Option(False, "--check", help="Run the plugin contract checks (emokit.testing) on every plugin, or on NAME; exit 1 unless every check ran and passed."),
    backends: Optional[list[str]] = typer.Option(None, "--backend", help="With --check: only this backend (repeatable). Default: every installed backend."),
) -> None:
    """List every plugin (or only NAME): kind, name, summary, and the package that provides it."""
    registry = registry_with_warnings()
    selection = registry.selection(name)  # an unknown NAME fails now, listing the names
    table = Table(title="emokit plugins")
    for column in ("kind", "name", "summary", "plugin", "package"):
        table.add_column(column)
    for kind in KINDS:
        for record_name in registry.names(kind):
            if registry.selects(selection, kind, record_name):
                info = registry.provider(kind, record_name)
                table.add_row(kind.replace("_", " "), record_name, registry.get(kind, record_name).summary, info.name, info.package)
    console.print(table)
    if registry.blocked:
        console.print(f"Blocked: {', '.join(registry.blocked)}")
    if check:
        from emokit.testing import check_registry, print_check_report  # noqa: PLC0415 - keeps the listing fast

        for backend in backends or ():
            registry.get("backend", backend)  # an unknown name fails now, with the list, not after minutes of checks
        with console.status("Checking plugins (each backend runs in its own process)..."):
            results = check_registry(registry, backends or None, only=name)
        ok = print_check_report(results, console)
        raise typer.Exit(0 if ok else 1)
