"""The fast engine: Hardhat's Rust EVM (``@nomicfoundation/edr``, npm, MIT) in a Node process the lab starts,
spoken to over stdin and stdout, one JSON-RPC request (or batch) per line. Use it through
:meth:`dcai_lab.Chain.edr` or ``backend = "edr"``.

It is set up as the embedded py-evm chain is (the same keys, balances, chain id, genesis time, block gas
limit and initial base fee), and every block's time is set by the lab, so the same seeded run gives the
same transactions, gas, blocks and balances on both.
"""
from __future__ import annotations

import atexit
import itertools
import json
import shutil
import subprocess
from pathlib import Path

from . import settings

BRIDGE = Path(__file__).resolve().parent / "edr_bridge.js"
#: eth-tester's chain id, which py-evm runs use: signatures and so calldata-independent fields match.
CHAIN_ID = 131277322940537
INITIAL_BALANCE = 10**24
INITIAL_BASE_FEE = 10**9
#: States EDR keeps whole, for the latest blocks (its __EDR_MAX_CACHED_STATES; 100,000 by default): each costs
#: memory in proportion to the transaction's execution, and older states are rebuilt from the chain's state
#: diffs when asked for. The lab reads the latest state, and a revert's reason at its own, recent, block.
CACHED_STATES = 64
INSTALL_HINT = ("the edr backend needs Node (20 or newer; DCAI_LAB_NODE names another binary) and the npm package "
                "@nomicfoundation/edr with the build for this machine: in a checkout `make setup` installs them into "
                "node_modules; elsewhere run `npm install @nomicfoundation/edr` in a folder (on Node 20 name the build "
                "too, e.g. @nomicfoundation/edr-linux-x64-gnu) and set DCAI_LAB_EDR_MODULES to its node_modules. "
                "Without Node, use backend \"py-evm\" (nothing to install)")


def node_modules() -> Path | None:
    """Where @nomicfoundation/edr is installed: ``$DCAI_LAB_EDR_MODULES`` or the checkout's node_modules."""
    for folder in (settings.edr_modules(), Path(__file__).resolve().parents[1] / "node_modules"):
        if folder and (Path(folder) / "@nomicfoundation" / "edr").is_dir():
            return Path(folder)
    return None


def available() -> bool:
    """Whether this machine can start the edr backend (Node and the npm package are there)."""
    return shutil.which(settings.node_binary()) is not None and node_modules() is not None


class EdrNode:
    """One Node process running EDR; :meth:`request` sends a request (or a list: a batch, answered in
    order) and returns the answer; :meth:`stop` (also at exit) ends it."""

    def __init__(self, *, keys: list[str], accounts: list[str], block_gas_limit: int, hardfork: str,
                 genesis_time: int, transaction_gas_cap: int | None = None):
        node, modules = shutil.which(settings.node_binary()), node_modules()
        if node is None or modules is None:
            raise FileNotFoundError(INSTALL_HINT)
        config = {"hardfork": hardfork, "chainId": CHAIN_ID, "keys": keys, "blockGasLimit": block_gas_limit,
                  "genesisTime": genesis_time, "initialBaseFee": INITIAL_BASE_FEE, "transactionGasCap": transaction_gas_cap,
                  "accounts": [{"address": a, "balance": str(INITIAL_BALANCE)} for a in accounts]}
        env = settings.environment_with(NODE_PATH=str(modules), NODE_NO_WARNINGS="1",
                                        __EDR_MAX_CACHED_STATES=str(CACHED_STATES))
        self.process = subprocess.Popen([node, str(BRIDGE), json.dumps(config)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1, env=env)
        atexit.register(self.stop)
        first = self.process.stdout.readline()
        if not first.startswith('{"ready"'):
            error = self.process.stderr.read().strip() if self.process.poll() is not None else first
            self.stop()
            raise RuntimeError(f"the edr engine did not start: {error or 'no answer'}\n{INSTALL_HINT}")
        self._ids = itertools.count(1)
        self._deferred: list[dict] = []

    def defer(self, method: str, params: list) -> None:
        """Queue a request whose answer no one waits for (an empty block mined by time travel): it travels
        with the next request, in the same round trip, and is handled first. Its error, if any, is raised
        then."""
        self._deferred.append(self._message(method, params))

    def request(self, payload):
        """Send one request or a batch (a list of ``(method, params)``); return the JSON answer(s)."""
        batch = isinstance(payload, list)
        message = [self._message(m, p) for m, p in payload] if batch else payload
        deferred, self._deferred = self._deferred, []
        if deferred:
            message = deferred + (message if batch else [message])
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the edr engine stopped: {self.process.stderr.read().strip()}")
        answer = json.loads(line)
        if deferred:
            for sent, got in zip(deferred, answer):
                if "error" in got:
                    raise RuntimeError(f"the edr engine refused {sent['method']}{sent['params']}: {got['error']}")
            answer = answer[len(deferred):] if batch else answer[len(deferred)]
        return answer

    def memory(self) -> dict:
        """The Node process's resident memory now and at its peak, in bytes (``rss``, ``peakRss``)."""
        return self.request(self._message("lab_memory", []))["result"]

    def _message(self, method: str, params: list) -> dict:
        return {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
