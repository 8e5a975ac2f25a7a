"""Progress bars: readable lines in a log, the usual bar on a terminal, nothing when switched off."""
import io
import time

import pytest

from dcai_lab import progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def stderr(monkeypatch):
    def use(stream):
        monkeypatch.setattr("sys.stderr", stream)
        return stream

    return use


def test_a_log_gets_a_few_plain_lines_not_carriage_returns(stderr):
    log = stderr(io.StringIO())  # not a terminal: a file, a pipe, CI
    bar = progress.bar(total=10_000, desc="contributions")
    for _ in range(10_000):
        bar.update()
    bar.set_postfix(stage="replay", refresh=False)
    bar.close()
    text = log.getvalue()
    lines = text.splitlines()
    assert "\r" not in text
    assert text.endswith("\n")
    assert 1 <= len(lines) <= 3, lines  # the first draw, the last (and at most one interval between)
    assert "10000/10000" in lines[-1] and lines[-1].isascii()


def test_a_long_run_writes_a_line_per_interval(stderr, monkeypatch):
    monkeypatch.setattr(progress, "LOG_INTERVAL", 0.05)
    log = stderr(io.StringIO())
    bar = progress.bar(total=6, desc="sweep", unit="run")
    for _ in range(6):
        time.sleep(0.06)
        bar.update()
    bar.close()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert 4 <= len(lines) <= 8, lines  # one a step or so, each whole
    assert [line.split("|")[0].strip() for line in lines][-1] == "sweep: 100%"
    assert len(set(lines)) == len(lines)  # the final redraw on close is not repeated


def test_a_terminal_gets_the_bar_drawn_in_place(stderr):
    tty = stderr(Terminal())
    bar = progress.bar(total=3, desc="contributions")
    for _ in range(3):
        bar.update()
    bar.close()
    assert "\r" in tty.getvalue() and "3/3" in tty.getvalue()


def test_switched_off_writes_nothing(stderr):
    log = stderr(io.StringIO())
    bar = progress.bar(False, total=5, desc="quiet")
    bar.update(5)
    bar.set_postfix(stage="x")
    bar.close()
    assert log.getvalue() == ""


def test_in_a_notebook_the_widget_bar_is_kept(monkeypatch, stderr):
    from tqdm import auto

    stderr(io.StringIO())
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    made = progress.bar(total=1, disable=True)  # disabled: no widget is displayed here
    assert type(made) is auto.tqdm  # tqdm.auto's class, which in a kernel is the widget


def test_outside_a_kernel_tqdm_auto_is_the_text_bar():
    assert progress.in_notebook() is False


def test_a_jupyter_kernel_gets_the_widget():
    """In a real kernel the bar is tqdm's notebook widget (what notebooks show), not text lines."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        "from dcai_lab import progress\nb = progress.bar(total=3, desc='x')\nb.update(3)\nb.close()\n"
        "print(progress.in_notebook(), type(b).__mro__[1].__module__)")]
    nbclient.NotebookClient(notebook, kernel_name="python3", timeout=120).execute()
    outputs = notebook.cells[0].outputs
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs), outputs
    assert [o["text"].strip() for o in outputs if o.get("name") == "stdout"] == ["True tqdm.notebook"]
