"""The ``emokit`` command group, whose commands are the registry's command records (``emokit_commands``).

Listing the commands (``emokit --help``) reads only each record's name and summary; a command's
function is imported and turned into a Typer command only when that command runs, so the help
stays fast however many commands plugins add.
"""

from __future__ import annotations

import inspect
from typing import Any

import typer
import typer.main
from typer.core import TyperCommand

from emokit.cli.common import FlagCommand, FlagGroup, registry_for
from emokit.errors import PluginError
from emokit.records import LazyImport
from emokit.registry import EMOKIT_PACKAGE, Provided

#: The help panel of commands that plugins (not emokit) add.
PLUGIN_PANEL = "Commands from plugins"


class ListedCommand(TyperCommand):
    """A command as ``emokit --help`` lists it: name and summary, nothing imported yet."""

    def __init__(self, provided: Provided) -> None:
        record, plugin = provided.record, provided.plugin
        super().__init__(name=record.name, help=record.summary,
                         rich_help_panel=None if plugin.package == EMOKIT_PACKAGE else PLUGIN_PANEL)
        self.provided = provided

    def build(self) -> Any:
        """The real command: the record's function (imported now if it is a :class:`LazyImport`) as Typer builds it."""
        record, plugin = self.provided.record, self.provided.plugin
        try:
            function = record.function.resolve() if isinstance(record.function, LazyImport) else record.function
            if isinstance(function, typer.Typer):  # a group of sub-commands (emokit runs ...)
                command = typer.main.get_group(function)
            else:
                single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
                help_text = None if inspect.getdoc(function) else record.summary
                # A command that takes options it passes on (emokit sweep: emokit train's) says so in click's terms.
                single.command(record.name, cls=FlagCommand, help=help_text,
                               context_settings=getattr(function, "context_settings", None))(function)
                command = typer.main.get_command(single)
        except Exception as exc:  # a plugin's command that Typer cannot build fails alone, in one line
            reason = " ".join(f"{type(exc).__name__}: {exc}".split())
            raise PluginError(f"The command '{record.name}' of plugin '{plugin.name}' ({plugin.package}) "
                              f"cannot be built: {reason}") from None
        command.name = record.name
        return command


class CommandsGroup(FlagGroup):
    """The root ``emokit`` group: one :class:`ListedCommand` per command record, built when it is invoked."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listed = False

    def _list(self, ctx: typer.Context) -> None:
        if self._listed:
            return
        for name, provided in registry_for(ctx).entries["command"].items():
            self.commands.setdefault(name, ListedCommand(provided))
        self._listed = True

    def list_commands(self, ctx: typer.Context) -> list[str]:
        self._list(ctx)
        return super().list_commands(ctx)

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:
        self._list(ctx)
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: typer.Context, args: list[str]) -> tuple[str | None, Any, list[str]]:
        self._list(ctx)
        name, command, rest = super().resolve_command(ctx, args)
        if isinstance(command, ListedCommand):
            command = self.commands[command.name] = command.build()
        return name, command, rest
