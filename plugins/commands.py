"""emokit's own commands, added through the ``emokit_commands`` hook exactly as a third party's are.

Each command is named by :class:`~emokit.records.LazyImport`, so ``emokit --help`` imports none of
the modules in ``emokit/cli/``; a command's module is imported when that command runs (or shows
its own ``--help``).
"""

from __future__ import annotations

from emokit import hookimpl
from emokit.records import CommandRecord, LazyImport


def _command(name: str, summary: str, target: str) -> CommandRecord:
    return CommandRecord(name, summary, LazyImport(target))


@hookimpl
def emokit_commands() -> list[CommandRecord]:
    """The built-in commands; their names win over a plugin's command of the same name."""
    return [
        _command("train", "Train a CNN and write a run: config, spec, weights, history, metrics, plots.",
                 "emokit.cli.train:train_command"),
        _command("evaluate", "Evaluate a trained run: accuracy, loss, per-class precision/recall/F1, confusion matrix PNG.",
                 "emokit.cli.evaluate:evaluate_command"),
        _command("predict", "Find the faces in each image and predict each one's emotion.",
                 "emokit.cli.predict:predict_command"),
        _command("export", "Export a run's model to a file another runtime runs (emokit export RUN --format NAME).",
                 "emokit.cli.export:export_command"),
        _command("demo", "Open the web demo: photos, live webcam and run metrics (Ctrl+C to stop).",
                 "emokit.cli.demo:demo_command"),
        _command("runs", "List and compare runs.", "emokit.cli.runs:runs_app"),
        _command("sweep", "Search emokit train's settings with Optuna (each trial a run); `emokit sweep show` shows the results.",
                 "emokit.cli.sweep:sweep_command"),
        _command("describe", "Show output shape, parameters and FLOPs per layer, without building on a backend.",
                 "emokit.cli.describe:describe_command"),
        _command("plugins", "List every plugin and what it provides; --check runs the contract checks.",
                 "emokit.cli.plugins:plugins_command"),
    ]
