"""The Ctrl-C/SIGTERM handling of a training is installed only while the training runs (issue #19):
a library call or a command gives the process its previous handlers back when it ends."""

from __future__ import annotations

import signal

import pytest

from emokit.training.interrupts import SIGNALS, stop_signals


def _current() -> dict[int, object]:
    return {sig: signal.getsignal(sig) for sig in SIGNALS}


@pytest.mark.parametrize("process_ends", [False, True])
def test_handlers_are_installed_for_the_block_and_restored_after(process_ends):
    before = _current()
    with stop_signals(process_ends=process_ends) as stops:
        assert all(handler == stops.handle for handler in _current().values())
    assert _current() == before
    assert signal.set_wakeup_fd(-1) == -1  # the wake-up pipe is given back too


def test_handlers_are_restored_when_the_block_raises():
    before = _current()
    with pytest.raises(RuntimeError), stop_signals():
        raise RuntimeError("a training failed")
    assert _current() == before


def test_the_first_signal_interrupts_the_block_and_the_handlers_are_restored():
    before = _current()
    with pytest.raises(KeyboardInterrupt), stop_signals():
        signal.raise_signal(signal.SIGTERM)
    assert _current() == before
