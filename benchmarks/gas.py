"""Gas per operation of the sparse perceptron under Deposit-Refund-Take, on the embedded chain.

    python benchmarks/gas.py --json      one JSON object per line: op, gas, fork, model, ...

The sample is the 20-index one used by earlier work, on a 1000-feature model whose weights are all
non-zero. ``baseline_2019`` is what the 2019 contracts spent for the same operation on this chain.
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from dcai_lab import Chain, incentives, models

SAMPLE = [1, 2, 3, 14, 15, 26, 37, 48, 59, 110, 111, 112, 213, 314, 515, 616, 717, 818, 919, 920]
BASELINE_2019 = {"deploy": 30_258_733, "add_correct": 276_194, "add_incorrect": 311_159, "refund": 221_111,
                 "report": 181_159}


def measure(seed: int = 0) -> list[dict]:
    chain = Chain()
    rng = np.random.default_rng(seed)
    # Non-zero weights, positive enough on the sample that one update does not flip its prediction.
    weights = rng.integers(1_000, 5_000, 1000) * rng.choice([-1, 1], 1000)
    weights[SAMPLE] = np.abs(weights[SAMPLE])
    twin = models.SparsePerceptron(n_features=1000)
    twin._init_state(weights, 0)
    system = chain.deploy_system(twin, incentives.DepositRefundTake())
    gas = {"deploy": chain.gas.total("deploy")}
    alice, bob = chain.accounts[1:3]
    assert system.predict(SAMPLE) == 1

    def last_gas():
        return chain.gas.records[-1].gas_used

    good = system.add_data(SAMPLE, 1, sender=alice)
    gas["add_correct"] = last_gas()
    weights_before = system.twin().coef_.copy()
    bad = system.add_data(SAMPLE, 0, sender=bob)
    gas["add_incorrect"] = last_gas()
    assert (system.twin().coef_ != weights_before).sum() == len(SAMPLE), "the mistaken sample must write weights"
    chain.time_travel(days=1)
    system.refund(good)
    gas["refund"] = last_gas()
    system.report(bad, sender=alice)
    gas["report"] = last_gas()
    return [{"op": op, "gas": g, "fork": chain.fork, "model": "SparsePerceptron", "incentive": "DepositRefundTake",
             "n_features": 1000, "sample_features": len(SAMPLE), "baseline_2019": BASELINE_2019[op],
             "ratio_to_2019": round(g / BASELINE_2019[op], 3)} for op, g in gas.items()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="one JSON object per line (default: a table)")
    args = parser.parse_args(argv)
    rows = measure()
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        for row in rows:
            print(f"{row['op']:>14} {row['gas']:>12,} gas  ({row['ratio_to_2019']:.0%} of 2019)  [{row['fork']}]")


if __name__ == "__main__":
    main()
