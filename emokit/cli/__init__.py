"""The ``emokit`` command line: thin commands that turn flags into calls into the core.

Its commands are the registry's command records (the ``emokit_commands`` hook): emokit's own come
from ``plugins/commands.py`` exactly as a third party's come from its plugin, and a built-in name
wins a clash. :func:`main` builds the registry once, warns about every plugin that could not be
loaded, and hands the registry to the commands through the Typer context.
Every user error (:class:`~emokit.errors.EmokitError`) is printed as one red line with exit code 2.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from emokit.cli.commands_group import CommandsGroup
from emokit.cli.common import console_err, new_registry_with_warnings
from emokit.errors import EmokitError

app = typer.Typer(
    name="emokit",
    help="Facial emotion recognition with CNNs: train, evaluate, compare, predict and demo.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=CommandsGroup,  # the commands come from the registry; flags (--help) shown without a value placeholder
)


@app.callback()
def _emokit() -> None:
    # A callback makes Typer build a group (the commands are added by CommandsGroup, not here).
    pass


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``emokit`` console script."""
    try:
        app(args=argv, standalone_mode=True, obj=new_registry_with_warnings())
    except EmokitError as exc:
        # Escaped: messages hold text like 'emokit[tensorflow]' that rich would take for markup.
        console_err.print(f"[bold red]Error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
