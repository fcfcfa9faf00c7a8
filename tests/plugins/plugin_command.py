"""A plugin that adds one command, ``emokit hello-test``, and a sub-group, ``emokit tools-test count``."""

from __future__ import annotations

import typer

from emokit import hookimpl
from emokit.records import CommandRecord
from emokit.registry import Registry

tools = typer.Typer(help="Test tools.")


def hello_test(ctx: typer.Context, name: str = typer.Argument("world", help="Who to greet.")) -> None:
    """Greet NAME and say how many architectures the registry emokit passed in holds."""
    registry = ctx.find_object(Registry)
    print(f"Hello, {name}! {len(registry.names('architecture'))} architectures")


@tools.command("count")
def count(number: int = typer.Option(3, "--to", help="Count up to this.")) -> None:
    """Count up to --to."""
    print(" ".join(str(i) for i in range(1, number + 1)))


@hookimpl
def emokit_commands() -> list[CommandRecord]:
    return [CommandRecord("hello-test", "Greet someone (test plugin)", hello_test),
            CommandRecord("tools-test", "Test tools (test plugin)", tools)]
