"""Progress bars that suit where they are shown.

- In a Jupyter kernel: tqdm.auto's widget (tqdm's text bar when ipywidgets is missing).
- On a terminal: tqdm's usual bar, redrawn in place.
- Anywhere else (a log file, CI, a pipe): a plain line every :data:`LOG_INTERVAL` seconds and one at the
  end, ASCII, each ending in a newline: a log gets a few readable lines instead of a wall of carriage
  returns.

Every bar of the lab is made by :func:`bar`.
"""
from __future__ import annotations

import sys

#: Seconds between two lines of a bar written to something that is not a terminal.
LOG_INTERVAL = 30.0


def bar(progress: bool = True, **kwargs):
    """A tqdm bar (``kwargs`` as tqdm's: total, desc, unit, bar_format, initial...); ``progress=False``
    gives a disabled one, which costs nothing and accepts the same calls."""
    from tqdm.std import tqdm as text_bar

    if not progress:
        return text_bar(disable=True, **kwargs)
    if in_notebook():
        from tqdm.auto import tqdm as auto_bar

        return auto_bar(**kwargs)
    stream = sys.stderr
    if _is_terminal(stream):
        return text_bar(file=stream, **kwargs)
    return text_bar(file=LineWriter(stream), mininterval=LOG_INTERVAL, maxinterval=LOG_INTERVAL, ascii=True,
                    **kwargs)


def in_notebook() -> bool:
    """Whether tqdm.auto picked its notebook bar (a Jupyter kernel with ipywidgets)."""
    import tqdm.auto  # noqa: F401  (imports tqdm.autonotebook with its experimental warning silenced)
    from tqdm.autonotebook import tqdm as chosen
    from tqdm.std import tqdm as text_bar

    return chosen is not text_bar


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class LineWriter:
    """A file for tqdm that turns each in-place redraw into a line of its own: the text between carriage
    returns is written once, with a newline, and a line equal to the one before is dropped (tqdm redraws
    the final state when it closes)."""

    def __init__(self, stream):
        self.stream = stream
        self.last = None

    def write(self, text: str) -> None:
        for piece in text.replace("\r", "\n").split("\n"):
            line = piece.rstrip()
            if line and line != self.last:
                self.stream.write(line + "\n")
                self.last = line

    def flush(self) -> None:
        getattr(self.stream, "flush", lambda: None)()

    def isatty(self) -> bool:
        return False
