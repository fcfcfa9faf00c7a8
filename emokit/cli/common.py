"""Pieces every command shares: consoles, the registry, option types."""

from __future__ import annotations

from rich.console import Console

from emokit.registry import Registry, build_registry

#: Tables and progress go to stdout; errors to stderr so ``--json`` output stays clean.
console = Console()
console_err = Console(stderr=True)


def registry_with_warnings() -> Registry:
    """Build the registry and warn (without failing) about plugins that could not be loaded."""
    registry = build_registry()
    for name, reason in registry.failures:
        console_err.print(f"[yellow]Warning:[/] plugin '{name}' could not be loaded and is skipped: {reason}", highlight=False)
    return registry
