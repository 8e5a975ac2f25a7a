"""The full IMDB experiment, timed, on the embedded chain, on anvil or with twins only.

    python benchmarks/run_imdb.py --json [--backend py-evm|anvil|twin] [--days 50] [--out results/run_imdb]

Sparse perceptron on the 1000-word vocabulary under Deposit-Refund-Take; the model is trained on 8%
(2,000) of the training reviews, the other 23,000 are contributed by three honest contributors and one
adversary; accuracy on all 25,000 test reviews is measured every simulated day (50 days: 50+ times),
each time checked against the contract's own evaluate on 50 reviews. Reports wall time, transactions
and transactions per second. Needs IMDB in the data directory.

``--backend twin`` runs the same experiment with no chain (gas estimated by a model fitted on a short chain
run, cached): it reports the first run, which includes that calibration and encoding the reviews, and a
second one with both cached. Chain runs encode the reviews once and reuse them from the cache after that.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

from dcai_lab import experiments


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--days", type=float, default=50.0, help="simulated days of contributions")
    parser.add_argument("--out", default=None, help="also write the results folder here")
    parser.add_argument("--backend", default="py-evm", choices=experiments.BACKENDS)
    args = parser.parse_args(argv)
    config = experiments.ExperimentConfig(name="run-imdb", dataset="imdb", model="perceptron",
                                          incentive="deposit-refund-take", initial_fraction=0.08,
                                          duration_days=args.days, eval_interval_hours=24.0, seed=0,
                                          backend=args.backend)
    extra = {}
    if args.backend == "twin":
        os.environ["DCAI_LAB_CACHE"] = tempfile.mkdtemp(prefix="dcai-lab-cache-")  # calibrate from scratch
        start = time.perf_counter()
        experiments.run(config, progress=not args.json)
        extra["seconds_with_calibration"] = round(time.perf_counter() - start, 1)
    start = time.perf_counter()
    result = experiments.run(config, out=args.out, progress=not args.json)
    seconds = time.perf_counter() - start
    gas = result.gas
    if args.backend == "twin":
        extra["gas_model_error"] = result.manifest["gas_model_error"]
    row = {"benchmark": "run_imdb", "backend": args.backend, "fork": result.manifest["fork"],
           "seconds": round(seconds, 1), "transactions": len(gas), "tx_per_s": round(len(gas) / seconds, 1),
           "contributions": int((result.contributions["outcome"] == "added").sum()),
           "evaluations": len(result.accuracy), "test_samples": 25_000,
           "final_accuracy": round(float(result.accuracy["accuracy"].iloc[-1]), 4),
           "reference_accuracy_all_data": round(result.manifest["reference_accuracy_all_data"], 4),
           "peak_memory_mb": result.manifest["peak_memory_mb"],  # this process's and the engine's (edr's Node)
           "cpus": os.cpu_count(), **extra}
    print(json.dumps(row) if args.json else row)


if __name__ == "__main__":
    main()
