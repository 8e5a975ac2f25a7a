"""The quickstart in a real browser: JupyterLab from this environment, driven in headless Chromium.

nbclient (tests/integration/test_notebooks.py) shows that the cells run; only a browser shows what a user
of the lab sees: the progress bars are ipywidgets (tqdm.auto), which nothing but a browser renders, and
the figures. Here JupyterLab serves a temporary copy of notebooks/01_quickstart.ipynb (the checkout's copy
gets no outputs), Playwright opens it in Debian's Chromium, clicks Run > Run All Cells and waits until the
kernel is idle with every code cell numbered. Then no cell may show a traceback, a progress-bar widget
must have rendered and finished, and every figure must be on the page. The full page is saved as a
screenshot in the test's tmp_path and in out/browser/quickstart.png (git-ignored).

Without Chromium the tests skip, naming the package (`apt install chromium`); `.ci/run` installs it.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "notebooks" / "01_quickstart.ipynb"
SCREENSHOT = ROOT / "out" / "browser" / "quickstart.png"
# Generous for 2 busy cores: the quickstart itself runs in seconds.
SERVER_TIMEOUT, KERNEL_TIMEOUT, RUN_TIMEOUT = 180, 180, 600


# --- what the page shows, read in the browser --------------------------------------------------------------

# True when Run All is over: the kernel idle, no cell running or queued ([*]), every output rendered (a
# widget's output stays empty until its view is made), every image decoded, and every code cell numbered
# or some cell showing an error (Run All stops there and leaves the cells after it unnumbered).
FINISHED = """() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return false;
  const status = panel.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status;
  const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(e => e.textContent.trim());
  const outputs = [...panel.querySelectorAll('.jp-OutputArea-output')];
  const rendered = outputs.every(o => o.childElementCount > 0 || o.textContent.trim() !== '');
  const images = [...panel.querySelectorAll('.jp-OutputArea-output img')].every(i => i.complete);
  const failed = [...panel.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
    .some(o => o.textContent.includes('Traceback'));
  return status === 'idle' && !prompts.some(p => p.includes('*')) && rendered && images
    && (prompts.every(p => /^\\[\\d+\\]:$/.test(p)) || failed);
}"""

# One entry per code cell: its prompt, stderr texts (tracebacks are rendered as stderr), the class of each
# progress bar of a rendered ipywidgets progress widget, decoded images and all output text.
CELLS = """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell')].map(cell => ({
  prompt: cell.querySelector('.jp-InputPrompt')?.textContent.trim() ?? '',
  stderr: [...cell.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
    .map(o => o.textContent),
  progress: [...cell.querySelectorAll('.jp-OutputArea-output .widget-hprogress .progress-bar')].map(b => b.className),
  images: [...cell.querySelectorAll('.jp-OutputArea-output img')].filter(i => i.complete && i.naturalWidth > 0).length,
  text: [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => o.textContent).join('\\n'),
}))"""


def problems(cells: list[dict], *, figures: int, progress_bars: bool = True) -> list[str]:
    """What is wrong with a run, from CELLS' reading of the page; empty when all is well."""
    found = []
    for i, cell in enumerate(cells, 1):
        if not re.fullmatch(r"\[\d+\]:", cell["prompt"]):
            found.append(f"code cell {i} did not run (prompt {cell['prompt']!r})")
        for text in cell["stderr"]:
            if "Traceback" in text:
                last = [line for line in text.strip().splitlines() if line.strip()][-1]
                found.append(f"code cell {i} raised: {last.strip()}")
        if "Error displaying widget" in cell["text"]:
            found.append(f"code cell {i}: a widget failed to display")
    bars = [bar for cell in cells for bar in cell["progress"]]
    if progress_bars and not bars:
        found.append("no progress-bar widget rendered (tqdm.auto shows one when ipywidgets and jupyterlab_widgets "
                     "are installed)")
    found += [f"a progress bar ended unfinished ({bar})" for bar in bars if "progress-bar-danger" in bar]
    if progress_bars and bars and not any("progress-bar-success" in bar for bar in bars):
        found.append(f"no progress bar finished: {bars}")
    images = sum(cell["images"] for cell in cells)
    if images < figures:
        found.append(f"{images} figures rendered, the notebook draws {figures}")
    return found


def figures_drawn(path: Path) -> int:
    """The figures a notebook draws: one per plt.show() in its code."""
    nb = nbformat.read(path, as_version=4)
    return sum(cell.source.count("plt.show()") for cell in nb.cells if cell.cell_type == "code")


# --- JupyterLab and the browser ----------------------------------------------------------------------------

@dataclass
class Lab:
    url: str
    token: str
    root: Path  # the server's root_dir: notebooks are opened by their name in it
    log: Path

    def get(self, path: str, method: str = "GET", timeout: float = 5):
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"null")

    def wait_for_idle_kernel(self, name: str) -> None:
        """Until the kernel of notebook ``name`` (started by the page that opened it) has started and is idle."""
        deadline = time.monotonic() + KERNEL_TIMEOUT
        while not any(s["path"] == name and (s.get("kernel") or {}).get("execution_state") == "idle"
                      for s in self.get("/api/sessions")):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no idle kernel for {name} in {KERNEL_TIMEOUT} s: {self.get('/api/sessions')}")
            time.sleep(0.25)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_root() -> bool:
    return getattr(os, "geteuid", lambda: 1)() == 0


@pytest.fixture(scope="module")
def browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("Chromium not found: install it (Debian/Ubuntu: `apt install chromium`) for the browser check")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright missing: pip install -e '.[dev]'")
    with sync_api.sync_playwright() as playwright:
        args = ["--disable-dev-shm-usage"] + (["--no-sandbox"] if is_root() else [])  # containers; root
        browser = playwright.chromium.launch(executable_path=chromium, args=args)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def lab(browser, tmp_path_factory):
    """JupyterLab of this environment on a free local port, with a token, serving an empty temporary
    directory; settings, workspaces and runtime files are temporary too (nothing of the user's is read or
    written). Shut down through its API at the end, killed only if that fails."""
    pytest.importorskip("jupyterlab", reason="JupyterLab missing: pip install -e '.[notebook]'")
    base = tmp_path_factory.mktemp("jupyterlab")
    root, home = base / "notebooks", base / "jupyter"
    root.mkdir()
    # No news pop-up over the screenshot; no empty space after the last cell, so the page can fit the notebook.
    for name, settings in {"apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
                           "notebook-extension/tracker": {"scrollPastEnd": False}}.items():
        path = home / "settings" / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "DCAI_LAB_DATA_DIR": os.environ.get("DCAI_LAB_DATA_DIR", str(ROOT.parent / "shared" / "data")),
           "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    # As a user's JupyterLab: the kernel picks its inline backend only when MPLBACKEND is unset, and .ci/run
    # sets Agg, which would draw no figure.
    env.pop("MPLBACKEND", None)
    port, token = free_port(), secrets.token_hex(16)
    lab = Lab(f"http://127.0.0.1:{port}", token, root, base / "jupyterlab.log")
    jupyter = Path(sys.executable).with_name("jupyter")  # this environment's, as `make lab` runs it
    command = ([str(jupyter)] if jupyter.exists() else [sys.executable, "-m", "jupyter"]) + [
        "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"] + (["--allow-root"] if is_root() else [])
    with lab.log.open("w") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + SERVER_TIMEOUT
            while True:
                if server.poll() is not None:
                    pytest.fail(f"JupyterLab exited with {server.returncode}:\n{lab.log.read_text()[-3000:]}")
                try:
                    lab.get("/api/status")
                    break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    if time.monotonic() > deadline:
                        pytest.fail(f"JupyterLab not up in {SERVER_TIMEOUT} s:\n{lab.log.read_text()[-3000:]}")
                    time.sleep(0.25)
            yield lab
        finally:
            try:
                lab.get("/api/shutdown", method="POST")  # stops its kernels, then the server
                server.wait(timeout=60)
            except (urllib.error.URLError, ConnectionError, TimeoutError, subprocess.TimeoutExpired):
                server.terminate()
                try:
                    server.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()


def run_all(browser, lab: Lab, name: str, screenshot: Path | None = None) -> list[dict]:
    """Open notebook ``name`` of the lab's root, Run All Cells from the Run menu, wait until done and
    return CELLS' reading of the page; with ``screenshot``, the whole notebook is saved there."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(KERNEL_TIMEOUT * 1000)
    try:
        page.goto(f"{lab.url}/lab/tree/{name}?reset&token={lab.token}")  # reset: no saved workspace
        lab.wait_for_idle_kernel(name)  # the page shows "idle" for a moment before its kernel starts
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']")
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel",
                     has_text=re.compile(r"^Run All Cells$")).click()
        try:
            page.wait_for_function(FINISHED, polling=250, timeout=RUN_TIMEOUT * 1000)
            return page.evaluate(CELLS)
        finally:  # also when the run does not finish: the picture shows how far it got
            if screenshot is not None:
                whole_notebook(page)
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True)
    finally:
        page.close()


def whole_notebook(page) -> None:
    """Make the window tall enough for every cell (JupyterLab scrolls inside a fixed-size page, so a
    full-page screenshot is the window) and hide the file browser."""
    page.keyboard.press("Escape")
    page.keyboard.press("Control+b")  # toggle the left sidebar
    page.wait_for_function("() => !document.querySelector('#jp-left-stack:not(.lm-mod-hidden)')", timeout=10_000)
    scroller = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer"
    hidden = f"() => {{ const s = document.querySelector('{scroller}'); s.scrollTop = 0; " \
             f"return s.scrollHeight - s.clientHeight; }}"
    height = 900
    for _ in range(5):  # cells off screen have an estimated height until shown
        extra = page.evaluate(hidden)
        if extra <= 1 or height >= 16_000:
            break
        height = min(height + extra, 16_000)
        page.set_viewport_size({"width": 1280, "height": height})
        page.wait_for_timeout(500)  # the layout follows the window on the next frames


# --- the checks ---------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_the_quickstart_renders_in_jupyterlab(browser, lab, tmp_path):
    shutil.copy(QUICKSTART, lab.root / QUICKSTART.name)
    shot = tmp_path / "quickstart.png"
    try:
        cells = run_all(browser, lab, QUICKSTART.name, screenshot=shot)
    finally:
        if shot.exists():
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, SCREENSHOT)
    figures = figures_drawn(QUICKSTART)
    assert figures >= 1 and len(cells) == sum(c.cell_type == "code" for c in nbformat.read(QUICKSTART, 4).cells)
    found = problems(cells, figures=figures)
    assert not found, "\n".join(found + [f"screenshot: {SCREENSHOT}"])


@pytest.mark.slow
def test_a_cell_that_raises_fails_the_check(browser, lab):
    """The check can fail: Run All stops at the error, which the page shows as a traceback."""
    nb = nbformat.v4.new_notebook(metadata=nbformat.read(QUICKSTART, 4).metadata)
    nb.cells = [nbformat.v4.new_code_cell(source) for source in
                ("print('before')", "raise RuntimeError('injected failure')", "print('after')")]
    nbformat.write(nb, lab.root / "raises.ipynb")
    found = problems(run_all(browser, lab, "raises.ipynb"), figures=0, progress_bars=False)
    assert "code cell 2 raised: RuntimeError: injected failure" in found
    assert "code cell 3 did not run (prompt '[ ]:')" in found
    assert len(found) == 2, found


def test_problems_names_what_is_missing():
    ran = {"prompt": "[1]:", "stderr": [], "progress": [], "images": 0, "text": ""}
    assert problems([ran], figures=1) == [
        "no progress-bar widget rendered (tqdm.auto shows one when ipywidgets and jupyterlab_widgets are installed)",
        "0 figures rendered, the notebook draws 1"]
    good = {**ran, "progress": ["progress-bar progress-bar-success"], "images": 1}
    assert problems([good], figures=1) == []
    assert problems([{**good, "progress": ["progress-bar progress-bar-danger"]}], figures=1) == [
        "a progress bar ended unfinished (progress-bar progress-bar-danger)",
        "no progress bar finished: ['progress-bar progress-bar-danger']"]
