"""Keras callbacks for a run: live rich progress, epoch checkpoints, per-epoch seeds, resumable schedules.

Callback classes need Keras, which is imported only after the backend is chosen, so they are
made by :func:`make_callbacks` rather than defined at module level.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from emokit.backend import set_random_seed
from emokit.errors import EmokitError
from emokit.runs import Run
from emokit.training.checkpoint import save_best_weights, save_checkpoint, write_history_csv

#: Seconds between two looks at the batch loss (a look makes JAX finish the step it dispatched).
LOOK_EVERY_S = 0.25


class TrainingDiverged(EmokitError):
    """The loss became NaN or infinite: the weights are ruined, so the run stops as failed."""


def _learning_rate(model: Any) -> float:
    return float(model.optimizer.learning_rate.numpy() if hasattr(model.optimizer.learning_rate, "numpy")
                 else model.optimizer.learning_rate)


def progress_display(console: Console) -> Progress:
    """The epoch and batch bars; use it as a context manager so that any exit (Ctrl-C, a crash) ends its line."""
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=console, transient=False,
    )


def epoch_seed(seed: int, epoch: int, stream: int = 0) -> int:
    """A seed that depends only on the run's seed, the epoch and which random stream it is for."""
    return int(np.random.SeedSequence([seed, epoch, stream]).generate_state(1)[0] % 2**31)


#: Called after each epoch with (epochs done, that epoch's logs); returns why training should stop now, or None.
EpochListener = Callable[[int, dict[str, float]], "str | None"]


def make_callbacks(keras: Any, run: Run, core: Any, *, epochs: int, steps: int, patience: int, seed: int,
                   state: dict[str, Any], console: Console, progress: Progress, schedule: str,
                   listeners: Sequence[EpochListener] = ()) -> list[Any]:
    """Seeds, progress, divergence, checkpoint, early stopping (and reduce-on-plateau) callbacks, restored from
    ``state``; and ``listeners``, each told of every epoch, which may stop the training (a sweep's pruner)."""

    class SeedPerEpoch(keras.callbacks.Callback):
        """Make each epoch's randomness a function of (seed, epoch), so a resumed run repeats the uninterrupted one.

        The data order comes from the global generators (torch's sampler, numpy's permutation), which
        ``set_random_seed`` seeds; dropout and augmentation layers draw from their own seed generators,
        whose state Keras does not save with the weights, so it is set here as well.
        """

        def on_epoch_begin(self, epoch, logs=None):
            set_random_seed(keras, epoch_seed(seed, epoch))
            states = [v for v in self.model.variables if v.path.endswith("seed_generator_state")]
            for stream, variable in enumerate(states, start=1):
                variable.assign(np.array([epoch_seed(seed, epoch, stream), 0], dtype=variable.dtype))

    class RichProgress(keras.callbacks.Callback):
        """An epoch bar and a batch bar with loss, accuracy, validation accuracy, learning rate and ETA."""

        def on_train_begin(self, logs=None):
            self.epoch_task = progress.add_task("epochs", total=epochs, completed=state["epoch"], stats="")
            self.batch_task = progress.add_task("batches", total=steps, stats="")
            self.last_refresh = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            progress.reset(self.batch_task, total=steps, description=f"epoch {epoch + 1}")

        def on_train_batch_end(self, batch, logs=None):
            # Reading the logs forces the backend to finish the step (JAX dispatches asynchronously),
            # so refresh the bar a few times a second, not every batch.
            now = time.perf_counter()
            if now - self.last_refresh < LOOK_EVERY_S and batch + 1 < steps:
                return
            self.last_refresh = now
            logs = logs or {}
            stats = f"loss {logs.get('loss', 0):.4f} acc {logs.get('accuracy', 0):.3f}"
            progress.update(self.batch_task, completed=batch + 1, stats=stats)

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            best = max(state["best_val_accuracy"], logs.get("val_accuracy", -1.0))  # Checkpoint updates state later
            stats = (f"val_acc {logs.get('val_accuracy', float('nan')):.3f} best {best:.3f} "
                     f"lr {_learning_rate(self.model):.2g}")
            progress.update(self.epoch_task, completed=epoch + 1, stats=stats)
            if not console.is_terminal:  # a log file gets one line per epoch instead of a live bar
                console.print(f"epoch {epoch + 1}/{epochs} loss {logs.get('loss', 0):.4f} acc {logs.get('accuracy', 0):.4f} "
                              f"val_loss {logs.get('val_loss', 0):.4f} {stats}", highlight=False)

    class StopOnNonFiniteLoss(keras.callbacks.TerminateOnNaN):
        """Keras's TerminateOnNaN, but raising: its graceful stop would still checkpoint the ruined weights.

        The loss is read a few times a second (as the progress bar does) and always at the end of an
        epoch, before the checkpoint is written.
        """

        def on_train_begin(self, logs=None):
            self.last_look = 0.0

        def on_train_batch_end(self, batch, logs=None):
            now = time.perf_counter()
            if now - self.last_look >= LOOK_EVERY_S:
                self.last_look = now
                self._check(logs, f"batch {batch + 1} of epoch {state['epoch'] + 1}")

        def on_epoch_end(self, epoch, logs=None):
            self._check(logs, f"epoch {epoch + 1}")

        def _check(self, logs, where: str) -> None:
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                kept = f"the checkpoint of epoch {state['epoch']} is kept" if state["epoch"] else "no checkpoint was written"
                raise TrainingDiverged(
                    f"The training loss became {float(loss)} at {where}: training diverged, so the run stops as failed "
                    f"({kept}). Lower --lr, or check the augmentations' options.")

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

    class ResumableReduceLROnPlateau(keras.callbacks.ReduceLROnPlateau):
        """Reduce-on-plateau whose counters (wait, best, cooldown) survive a resume, so the rate drops when it would have."""

        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            saved = state.get("plateau")
            if saved:
                self.wait, self.best, self.cooldown_counter = saved["wait"], saved["best"], saved["cooldown_counter"]

        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            state["plateau"] = {"wait": int(self.wait), "best": float(self.best), "cooldown_counter": int(self.cooldown_counter)}

    class EpochListeners(keras.callbacks.Callback):
        """Tells each listener of the epoch just done; the first that gives a reason stops the training there
        (recorded as ``stopped_by`` in the checkpoint's state, so a resume does not train on)."""

        def on_epoch_end(self, epoch, logs=None):
            for listener in listeners:
                reason = listener(epoch + 1, {key: float(value) for key, value in (logs or {}).items()})
                if reason:
                    state["stopped_by"] = reason
                    self.model.stop_training = True
                    return

    callbacks = [SeedPerEpoch(), StopOnNonFiniteLoss(), RichProgress(),
                 ResumableEarlyStopping(monitor="val_accuracy", mode="max", patience=patience)]
    if schedule == "plateau":
        callbacks.append(ResumableReduceLROnPlateau(monitor="val_accuracy", mode="max", factor=0.5,
                                                    patience=max(1, patience // 3), min_lr=1e-6))
    if listeners:
        callbacks.append(EpochListeners())
    # Last, so the state it saves includes the early-stopping and plateau decisions of this epoch.
    callbacks.append(Checkpoint())
    return callbacks
