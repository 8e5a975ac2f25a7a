"""Ctrl-C that stops a long job between transactions, never inside one.

A ``KeyboardInterrupt`` raised while a transaction is being mined, or just after, would leave the records
one step behind the chain. Inside :func:`between_steps` the first Ctrl-C only asks the job to stop: the job
checks ``stop.requested`` where its records equal the chain, stops there and says what it kept. A second
Ctrl-C interrupts at once, as usual.
"""
from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager


class StopRequest:
    """Whether Ctrl-C was pressed inside :func:`between_steps`."""

    def __init__(self):
        self.requested = False


class RunInterrupted(KeyboardInterrupt):
    """A job stopped at Ctrl-C between two steps. ``result`` holds what it measured up to there (marked
    partial), ``folder`` where that was saved, if anywhere."""

    def __init__(self, message: str, result=None, folder=None):
        super().__init__(message)
        self.result, self.folder = result, folder


@contextmanager
def between_steps(what: str = "the run"):
    """Defer Ctrl-C to the job's next safe point; yields a :class:`StopRequest`. Outside the main thread
    (where Python delivers no signals) the job is simply never asked to stop."""
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum, frame):
        if stop.requested:  # the second Ctrl-C: the user wants out now
            raise KeyboardInterrupt
        stop.requested = True
        print(f"\nCtrl-C: stopping {what} after the current step (press Ctrl-C again to abort at once)",
              file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)
