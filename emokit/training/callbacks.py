"""Keras callbacks for a run: live rich progress, epoch checkpoints, resumable early stopping.

Callback classes need Keras, which is imported only after the backend is chosen, so they are
made by :func:`make_callbacks` rather than defined at module level.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from emokit.runs import Run
from emokit.training.checkpoint import save_best_weights, save_checkpoint, write_history_csv


def _learning_rate(model: Any) -> float:
    return float(model.optimizer.learning_rate.numpy() if hasattr(model.optimizer.learning_rate, "numpy")
                 else model.optimizer.learning_rate)


def make_callbacks(keras: Any, run: Run, core: Any, *, epochs: int, steps: int, patience: int,
                   state: dict[str, Any], console: Console, schedule: str) -> list[Any]:
    """Progress, checkpoint, early stopping (and reduce-on-plateau) callbacks, restored from ``state`` on resume."""

    class RichProgress(keras.callbacks.Callback):
        """An epoch bar and a batch bar with loss, accuracy, validation accuracy, learning rate and ETA."""

        def on_train_begin(self, logs=None):
            self.progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                console=console, transient=False,
            )
            self.progress.start()
            self.epoch_task = self.progress.add_task("epochs", total=epochs, completed=state["epoch"], stats="")
            self.batch_task = self.progress.add_task("batches", total=steps, stats="")
            self.last_refresh = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self.progress.reset(self.batch_task, total=steps, description=f"epoch {epoch + 1}")

        def on_train_batch_end(self, batch, logs=None):
            # Reading the logs forces the backend to finish the step (JAX dispatches asynchronously),
            # so refresh the bar a few times a second, not every batch.
            now = time.perf_counter()
            if now - self.last_refresh < 0.25 and batch + 1 < steps:
                return
            self.last_refresh = now
            logs = logs or {}
            stats = f"loss {logs.get('loss', 0):.4f} acc {logs.get('accuracy', 0):.3f}"
            self.progress.update(self.batch_task, completed=batch + 1, stats=stats)

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            best = max(state["best_val_accuracy"], logs.get("val_accuracy", -1.0))  # Checkpoint updates state later
            stats = (f"val_acc {logs.get('val_accuracy', float('nan')):.3f} best {best:.3f} "
                     f"lr {_learning_rate(self.model):.2g}")
            self.progress.update(self.epoch_task, completed=epoch + 1, stats=stats)
            if not console.is_terminal:  # a log file gets one line per epoch instead of a live bar
                console.print(f"epoch {epoch + 1}/{epochs} loss {logs.get('loss', 0):.4f} acc {logs.get('accuracy', 0):.4f} "
                              f"val_loss {logs.get('val_loss', 0):.4f} {stats}", highlight=False)

        def on_train_end(self, logs=None):
            self.progress.stop()

    class Checkpoint(keras.callbacks.Callback):
        """Best weights, history and a resumable checkpoint after every epoch."""

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()
            self.learning_rate = _learning_rate(self.model)  # the rate this epoch trained with

        def on_epoch_end(self, epoch, logs=None):
            logs = dict(logs or {})
            logs["learning_rate"] = self.learning_rate
            logs["seconds"] = time.perf_counter() - self.started
            for key, value in logs.items():
                state["history"].setdefault(key, []).append(float(value))
            if logs.get("val_accuracy", -1.0) > state["best_val_accuracy"]:
                state["best_val_accuracy"] = float(logs["val_accuracy"])
                state["best_epoch"] = epoch + 1
                save_best_weights(run, core)
            state["epoch"] = epoch + 1
            write_history_csv(run.history_file, state["history"])
            save_checkpoint(run, core, self.model.optimizer, state)

    class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
        """Early stopping on validation accuracy whose patience counter survives a resume."""

        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            if state["epoch"]:
                self.best = state["best_val_accuracy"]
                self.wait = state["epoch"] - state["best_epoch"]

        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            state["stopped_early"] = bool(self.model.stop_training)

    callbacks = [RichProgress(), ResumableEarlyStopping(monitor="val_accuracy", mode="max", patience=patience)]
    if schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_accuracy", mode="max", factor=0.5,
                                                           patience=max(1, patience // 3), min_lr=1e-6))
    # Last, so the state it saves includes the early-stopping decision of this epoch.
    callbacks.append(Checkpoint())
    return callbacks
