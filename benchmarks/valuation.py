"""Time to value data on IMDB: exact contributor Shapley values, and leave-one-out and TMC-Shapley per
contribution.

    python benchmarks/valuation.py --json [--contributors 4,8,12] [--models nb,perceptron]

The 1000-word vocabulary over IMDB's reviews (from the data directory, as runs encode them); each model
trained on 2,000 training reviews (8%, a run's initial state), then ``--contributions`` further reviews
contributed in turn by ``n`` contributors (every fourth contributor flips its labels), scored on
``--test`` test reviews (a stratified draw). Rows:

- ``contributor_shapley``: exact Shapley values over all 2**n coalitions, for each n;
- ``sample_values``: ``--samples`` contributions from 4 contributors, leave-one-out (every one) and
  TMC-Shapley with ``--permutations`` permutations (each one model per contribution).

One JSON object per line with the seconds and the sizes. Needs IMDB in the data directory.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from dcai_lab import subsets
from dcai_lab.encoded import encoded_splits
from dcai_lab.experiments.plan import TEST_STREAM
from dcai_lab.models import registry
from dcai_lab.valuation import Run, contributor_values, sample_values

INITIAL = 2_000


def imdb_run(model: str, contributors: int, contributions: int, test: int, seed: int = 0) -> Run:
    encoder, X, y, X_test, y_test = encoded_splits("imdb", seed, model=model)
    order = np.random.default_rng(seed).permutation(len(y))
    initial, pool = order[:INITIAL], order[INITIAL:INITIAL + contributions]
    twin = registry.make(model, n_features=encoder.n_features, seed=seed).fit([X[i] for i in initial], y[initial])
    names = np.array([f"c{i % contributors + 1}" for i in range(len(pool))])
    flips = np.array([(i % contributors) % 4 == 3 for i in range(len(pool))])
    X_test, y_test = subsets.take(X_test, y_test, np.sort(subsets.draw(y_test, test, [seed, TEST_STREAM])))
    return Run(twin, [X[i] for i in pool], np.where(flips, 1 - y[pool], y[pool]), names, X_test, y_test,
               name=f"imdb-{model}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--models", default="nb,perceptron")
    parser.add_argument("--contributors", default="4,8,12", help="contributor counts for exact Shapley values")
    parser.add_argument("--contributions", type=int, default=1_200, help="contributions shared by the contributors")
    parser.add_argument("--samples", type=int, default=2_000, help="contributions valued one by one")
    parser.add_argument("--permutations", type=int, default=5, help="TMC-Shapley permutations")
    parser.add_argument("--test", type=int, default=5_000, help="test reviews")
    args = parser.parse_args(argv)
    common = {"test_samples": args.test, "initial_samples": INITIAL, "cpus": os.cpu_count()}
    for model in args.models.split(","):
        for n in [int(v) for v in args.contributors.split(",")]:
            run = imdb_run(model, n, args.contributions, args.test)
            start = time.perf_counter()
            table = contributor_values(run, exact_limit=n)
            seconds = time.perf_counter() - start
            row = {"benchmark": "contributor_shapley", "model": model, "contributors": n, "coalitions": 2**n,
                   "contributions": args.contributions, "seconds": round(seconds, 2),
                   "ms_per_coalition": round(1000 * seconds / 2**n, 2),
                   "values_sum": round(float(table["value"].sum()), 6), **common}
            print(json.dumps(row) if args.json else row, flush=True)
        run = imdb_run(model, 4, args.samples, args.test)
        start = time.perf_counter()
        sample_values(run, permutations=0)
        loo = time.perf_counter() - start
        start = time.perf_counter()
        table = sample_values(run, permutations=args.permutations)
        both = time.perf_counter() - start
        se = float(table["shapley_se"].median())
        row = {"benchmark": "sample_values", "model": model, "contributions": args.samples,
               "loo_seconds": round(loo, 2), "tmc_permutations": args.permutations,
               "loo_and_tmc_seconds": round(both, 2),
               # the second call repeats leave-one-out: the difference is TMC's
               "tmc_seconds_per_permutation": round((both - loo) / args.permutations, 2),
               "median_shapley_se": None if np.isnan(se) else se, **common}
        print(json.dumps(row) if args.json else row, flush=True)


if __name__ == "__main__":
    main()
