"""Transactions per second of the streaming path, on the embedded py-evm chain, anvil or the edr engine.

    python benchmarks/speed.py --json [--transactions 300] [--backend py-evm|anvil|edr|all] [--via-web3]

Sends add_data transactions (random 20-feature samples, random labels, so some write weights) to a
1000-feature sparse perceptron under Deposit-Refund-Take, ten simulated minutes apart, and reports the
wall time per transaction as the lab's API sends it (explicit gas, deposit read, receipt, block time, gas
ledger, event decoding): straight to py-evm, as bare JSON-RPC to anvil or over a pipe to the edr engine, or
with ``--via-web3`` through web3.py's request path.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

from dcai_lab import Chain, incentives, models


BACKENDS = {"py-evm": Chain, "anvil": Chain.anvil, "edr": Chain.edr}


def measure(n: int, seed: int = 0, backend: str = "py-evm", via_web3: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    chain = BACKENDS[backend](via_web3=via_web3)
    twin = models.SparsePerceptron(n_features=1000)
    twin.set_state(rng.integers(-5_000, 5_000, 1000), 0)
    system = chain.deploy_system(twin, incentives.DepositRefundTake())
    samples = [np.sort(rng.choice(1000, 20, replace=False)) for _ in range(n)]
    labels = rng.integers(0, 2, n)
    sender = chain.accounts[1]
    start = time.perf_counter()
    for x, y in zip(samples, labels):
        chain.time_travel(minutes=10)
        system.add_data(x, int(y), sender=sender)
    seconds = time.perf_counter() - start
    chain.close()
    return {"benchmark": "add_data", "backend": backend, "path": "web3.py" if via_web3 else "direct", "transactions": n,
            "seconds": round(seconds, 2), "tx_per_s": round(n / seconds, 1), "fork": chain.fork,
            "eth_hash_backend": os.environ.get("ETH_HASH_BACKEND", "auto"), "python": platform.python_version(),
            "cpus": os.cpu_count()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="py-evm")
    parser.add_argument("--via-web3", action="store_true", help="send through web3.py's request path")
    args = parser.parse_args(argv)
    for backend in BACKENDS if args.backend == "all" else [args.backend]:
        row = measure(args.transactions, backend=backend, via_web3=args.via_web3)
        print(json.dumps(row) if args.json else f"{backend} ({row['path']}): {row['tx_per_s']} tx/s "
                                                f"({row['transactions']} add_data in {row['seconds']} s)")


if __name__ == "__main__":
    main()
