"""The ``emokit`` command line: thin commands that turn flags into calls into the core.

Every user error (:class:`~emokit.errors.EmokitError`) is printed as one red line with exit code 2.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from emokit.cli import demo, describe, evaluate, export, plugins, predict, runs, train
from emokit.cli.common import FlagGroup, console_err
from emokit.errors import EmokitError

app = typer.Typer(
    name="emokit",
    help="Facial emotion recognition with CNNs: train, evaluate, compare, predict and demo.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=FlagGroup,  # flags (--help) shown without a value placeholder
)
for module in (plugins, describe, train, evaluate, predict, export, runs, demo):
    module.register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``emokit`` console script."""
    try:
        app(args=argv, standalone_mode=True)
    except EmokitError as exc:
        # Escaped: messages hold text like 'emokit[tensorflow]' that rich would take for markup.
        console_err.print(f"[bold red]Error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
