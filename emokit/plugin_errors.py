"""One-line errors about plugin code: which record, from which plugin and package, and what it raised.

Plugin code can fail anywhere (an architecture's ``build``, an augmentation's layers, a training
step); the user must learn the plugin at fault in one line, not from a traceback.
"""

from __future__ import annotations

import re

from emokit.registry import Registry

#: Keras re-raises a layer's exception as "Exception encountered when calling X.call().", then the
#: original message in bold (ANSI codes), then the arguments: the original message is what matters.
_KERAS_CONTEXT = re.compile(r"^Exception encountered when calling (\S+?)\.?$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def plugin_label(registry: Registry, kind: str, name: str) -> str:
    """``Augmentation 'flip' from plugin 'augmentations' (package emokit)``: how every plugin error starts."""
    info = registry.provider(kind, name)
    return f"{kind.replace('_', ' ').capitalize()} '{name}' from plugin '{info.name}' (package {info.package})"


def one_line(exc: BaseException) -> str:
    """``TypeError: first line of the message``: an exception as one line, whatever its message holds."""
    lines = [line.strip() for line in _ANSI.sub("", str(exc)).splitlines() if line.strip()]
    if len(lines) > 1 and (context := _KERAS_CONTEXT.match(lines[0])):
        lines = [f"{lines[1]} (in {context.group(1)})"]
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
