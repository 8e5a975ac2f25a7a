"""A local anvil node (Foundry's Ethereum node; on Linux x64 from the npm package
``@foundry-rs/anvil-linux-amd64``), started and stopped by the lab. Use it through :meth:`dcai_lab.Chain.anvil`."""
from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from . import settings

INSTALL_HINT = ("anvil was not found. In a checkout on Linux x64, `npm ci` (run by `make test`) installs it from "
                "the npm package @foundry-rs/anvil-linux-amd64 into node_modules/.bin; on other systems install "
                "Foundry (https://getfoundry.sh) and put anvil on PATH, or set DCAI_LAB_ANVIL to the binary")


PRUNE_HISTORY = 64  # states a node keeps: enough to replay a reverted transaction on the block before it


def find_anvil() -> str:
    """The anvil binary: ``$DCAI_LAB_ANVIL``, the checkout's node_modules, or PATH."""
    candidates = [settings.anvil_binary(),
                  str(Path(__file__).resolve().parents[1] / "node_modules" / ".bin" / "anvil"),
                  shutil.which("anvil")]
    for path in candidates:
        if path and Path(path).is_file() and os.access(path, os.X_OK):
            return path
    raise FileNotFoundError(INSTALL_HINT)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AnvilNode:
    """One anvil process on 127.0.0.1 and a free port; ``stop()`` (also at exit) ends it."""

    def __init__(self, *, num_accounts: int = 10, block_gas_limit: int = 30_000_000, hardfork: str = "prague",
                 balance_ether: int = 1_000_000, genesis_time: int | None = None, startup_timeout: float = 20.0,
                 tracing: bool = False):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [find_anvil(), "--host", "127.0.0.1", "--port", str(self.port), "--hardfork", hardfork,
                   "--gas-limit", str(block_gas_limit), "--accounts", str(num_accounts),
                   "--balance", str(balance_ether), "--silent",
                   # Keep the last 64 states in memory, none on disk: anvil 1.7 copies and writes out its
                   # whole state as it keeps history, which makes every block slower as a long run grows.
                   "--prune-history", str(PRUNE_HISTORY)]
        if genesis_time is not None:
            command += ["--timestamp", str(genesis_time)]
        if tracing:  # record every step, so that debug_traceTransaction returns geth's structLogs
            command += ["--steps-tracing"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        atexit.register(self.stop)
        deadline = time.monotonic() + startup_timeout
        while True:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode(errors="replace").strip()
                raise RuntimeError(f"anvil exited at start-up (code {self.process.returncode}): {error}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise TimeoutError(f"anvil did not answer on port {self.port} within {startup_timeout} s")
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
