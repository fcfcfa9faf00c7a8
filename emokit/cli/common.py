"""Pieces every command shares: consoles, the registry, the run a command works on, flag-aware help."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

try:  # Typer >= 0.23 carries its own copy of Click; this is Click's public get_current_context there
    from typer._click.globals import get_current_context
except ImportError:  # pragma: no cover - older Typer on the click package
    from click import get_current_context

from emokit.registry import Registry, build_registry
from emokit.runs import Run, describe_skipped, find_run, require_usable, runs_root, skipped_newer_runs

#: Tables and progress go to stdout; errors to stderr so ``--json`` output stays clean.
console = Console()
console_err = Console(stderr=True)


def new_registry_with_warnings() -> Registry:
    """Build the registry and warn (without failing) about plugins that could not be loaded."""
    registry = build_registry()
    for name, reason in registry.failures:
        # Escaped: reasons quote plugin text ('[...]') that rich would take for markup; one line, never folded.
        console_err.print(f"[yellow]Warning:[/] plugin '{escape(name)}' is skipped: {escape(reason)}", highlight=False, soft_wrap=True)
    return registry


def registry_for(ctx: typer.Context) -> Registry:
    """The registry of this ``emokit`` invocation: the context's object (``main`` builds it, once, to
    list the commands), or one built now and kept on the root context, so its warnings print once."""
    registry = ctx.find_object(Registry)
    if registry is None:
        registry = new_registry_with_warnings()
        ctx.find_root().obj = registry
    return registry


def registry_with_warnings() -> Registry:
    """The registry a command works with: the one of the running ``emokit`` invocation (see
    :func:`registry_for`), or, called outside the CLI, a new one (warning about plugins that could not load)."""
    ctx = get_current_context(silent=True)
    return registry_for(ctx) if ctx is not None else new_registry_with_warnings()


def usable_run(ref: str, root: Path | None) -> Run:
    """The run ``ref`` names, checked to have trained weights before anything heavy loads.

    For ``latest``, the newer runs it passed over (still training, stopped before a first
    checkpoint) are named on stderr, so nobody wonders why their newest run was not used.
    """
    run = require_usable(find_run(ref, root))
    if ref == "latest":
        note = describe_skipped(run, skipped_newer_runs(runs_root(root), run))
        if note:
            console_err.print(f"[yellow]Note:[/] {escape(note)}", highlight=False, soft_wrap=True)
    return run


class _FlagsTakeNoValue:
    """Help that shows a flag (``--json``) without a value placeholder.

    Typer's rich help prints each option's type (``<bool>``) even for flags, which take no value,
    whereas its plain help leaves flags bare. An empty metavar is what the rich help prints
    instead of the type, so flags (``--help`` included) get one.
    """

    def get_params(self, ctx: typer.Context) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class FlagCommand(_FlagsTakeNoValue, TyperCommand):
    """The command class for every emokit command: ``app.command(NAME, cls=FlagCommand)``."""


class FlagGroup(_FlagsTakeNoValue, TyperGroup):
    """The group class for ``emokit`` and its command groups: ``typer.Typer(cls=FlagGroup)``."""
