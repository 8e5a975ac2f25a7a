"""Gas per operation of every model under Deposit-Refund-Take, on the embedded chain.

    python benchmarks/gas.py --json      one JSON object per line: op, gas, fork, model, ...
    python benchmarks/gas.py             a table
    python benchmarks/gas.py --json --backend edr --fork osaka     the same on osaka (the edr engine)

Sparse models: 1000 features, 2 classes, the 20-index sample used by earlier work, with non-zero
initial parameters (the sparse perceptron also with a decreasing step, ``step_decay = 1000``). Dense
models: 9 features, the binary sample [1,1,1,1,1,1,1,0,0] normalised to unit length (each 1 becomes
1/sqrt(7), 377,964 in fixed point). Operations: deploy (every transaction that sets the system up),
add_correct (the model agrees with the label), add_incorrect (it does not),
refund (the author's first validated contribution) and report. ``baseline_2019`` is what the 2019
contracts spent on this chain where that is known.

The prediction market (``--market``), for each model: gas per phase (initialise: model, market, binding
and saving the initial state; reveal_sample; contribute; end; reveal per piece; reward per batch
transaction; withdraw) with 3 contributors (one flipping labels) adding 12 samples like the ones above,
scored on a 40-sample test set in 4 pieces; then the provider's total (initialise, reveals and driving
every reward transaction) for SparsePerceptron over a grid of contributions and test-set sizes.
"""
from __future__ import annotations

import argparse
import json
from itertools import chain as chain_rows

import numpy as np

from dcai_lab import Chain, incentives, models

SAMPLE = [1, 2, 3, 14, 15, 26, 37, 48, 59, 110, 111, 112, 213, 314, 515, 616, 717, 818, 919, 920]
DENSE_SAMPLE = [377_964] * 7 + [0, 0]
BASELINE_2019 = {
    "SparsePerceptron": {"deploy": 30_258_733, "add_correct": 276_194, "add_incorrect": 311_159,
                         "refund": 221_111, "report": 181_159},
    "NaiveBayes": {"deploy": 56_812_814, "add_incorrect": 329_368, "refund": 302_712, "report": 262_756},
    "SparseNearestCentroid": {"deploy": 58_100_000, "add_incorrect": 352_000, "refund": 305_000, "report": 265_000},
}


def sparse_perceptron(rng):
    w = rng.integers(1_000, 5_000, 1000) * rng.choice([-1, 1], 1000)
    w[SAMPLE] = np.abs(w[SAMPLE])  # positive enough that one update does not flip the sample
    twin = models.SparsePerceptron(n_features=1000)
    twin.set_state(w, 0)
    return twin, SAMPLE


def decaying_sparse_perceptron(rng):
    """The sparse perceptron above with a decreasing step (step_decay = 1000), 10,000 samples already seen
    (IMDB's 2,000 initial reviews, 5 passes): its counter is written on every add."""
    twin, sample = sparse_perceptron(rng)
    decaying = models.SparsePerceptron(n_features=1000, step_decay=1000)
    decaying.set_state(twin.coef_, 0, seen=10_000)
    return decaying, sample


def class_counts(twin):
    """Per-feature counts for two classes, the sample's features typical of class 1; 1000 samples each."""
    def scenario(rng):
        counts = rng.integers(1, 500, (1000, 2))
        counts[SAMPLE, 1] = rng.integers(400, 500, len(SAMPLE))
        counts[SAMPLE, 0] = rng.integers(1, 50, len(SAMPLE))
        twin.set_state(counts, [1000, 1000])
        return twin, SAMPLE
    return scenario


def dense_perceptron(rng):
    twin = models.DensePerceptron(n_features=9)
    twin.set_state(rng.integers(1_000_000, 5_000_000, 9), -1)
    return twin, DENSE_SAMPLE


def dense_centroid(rng):
    sums = rng.integers(-500_000_000, 500_000_000, (9, 2))
    sums[:, 1] = np.array(DENSE_SAMPLE) * 1000 + rng.integers(-1000, 1000, 9)  # class 1 centred on the sample
    twin = models.DenseNearestCentroid(n_features=9)
    twin.set_state(sums, [1000, 1000])
    return twin, DENSE_SAMPLE


#: Where the benchmark runs: the embedded chain by default; ``--backend edr`` and ``--fork osaka`` change it.
CHAIN = {"backend": "py-evm", "fork": "prague"}


def new_chain() -> Chain:
    if CHAIN["backend"] == "edr":
        return Chain.edr(hardfork=CHAIN["fork"])
    if CHAIN["fork"] != "prague":
        raise SystemExit(f"fork {CHAIN['fork']!r} needs --backend edr (py-evm runs prague)")
    return Chain()


SCENARIOS = {"SparsePerceptron": sparse_perceptron,
             "SparsePerceptron(step_decay=1000)": decaying_sparse_perceptron, "NaiveBayes": class_counts(models.NaiveBayes(n_features=1000)),
             "SparseNearestCentroid": class_counts(models.SparseNearestCentroid(n_features=1000)),
             "DensePerceptron": dense_perceptron,
             "DenseNearestCentroid": dense_centroid}


def measure(model: str, seed: int = 0) -> list[dict]:
    chain = new_chain()
    twin, sample = SCENARIOS[model](np.random.default_rng(seed))
    system = chain.deploy_system(twin, incentives.DepositRefundTake())
    gas = {"deploy": chain.gas.total("deploy")}
    alice, bob = chain.accounts[1:3]
    if system.predict(sample) != 1:
        raise AssertionError(f"{model}: the scenario must predict 1 on its sample")

    good = system.add_data(sample, 1, sender=alice)
    gas["add_correct"] = good.gas_used
    bad = system.add_data(sample, 0, sender=bob)
    gas["add_incorrect"] = bad.gas_used
    chain.time_travel(days=1)
    gas["refund"] = system.refund(good).gas_used
    gas["report"] = system.report(bad, sender=alice).gas_used
    chain.close()
    rows = []
    for op, g in gas.items():
        base = BASELINE_2019.get(model, {}).get(op)
        if base is None and op == "add_correct":
            base = BASELINE_2019.get(model, {}).get("add_incorrect")  # these models update either way
        rows.append({"op": op, "gas": g, "fork": chain.fork, "model": model, "incentive": "DepositRefundTake",
                     "n_features": twin.n_features, "sample_features": int(np.count_nonzero(sample)),
                     "baseline_2019": base, "ratio_to_2019": None if base is None else round(g / base, 3)})
    return rows


def _market_samples(model, sample, rng, n):
    if model.startswith("Dense"):
        return [list(np.clip(np.array(sample) + rng.integers(-300_000, 300_000, 9), -10**6, 10**6)) for _ in range(n)]
    return [sorted(rng.choice(1000, len(sample), replace=False).tolist()) for _ in range(n)]


def run_market(model: str, contributions: int = 12, test_size: int = 40, seed: int = 0):
    """A whole market on a fresh chain; returns the chain (its gas ledger holds every phase)."""
    from dcai_lab.incentives import PredictionMarket

    rng = np.random.default_rng(seed)
    chain = new_chain()
    twin, sample = SCENARIOS[model](rng)
    X_test = _market_samples(model, sample, rng, test_size)
    y_test = twin.predict(X_test)
    y_test[: test_size // 4] = 1 - y_test[: test_size // 4]  # room to improve
    spec = PredictionMarket(bounty=10**18, min_stake=10**16, pieces=4, test_size=test_size,
                            min_contributions=contributions)
    market = chain.deploy_market(twin, X_test, y_test, spec)
    X = _market_samples(model, sample, rng, contributions)
    truth = [1 - int(v) for v in twin.predict(X)]
    for i, x in enumerate(X):
        who = 1 + i % 3
        market.add_data(x, truth[i] if who != 3 else 1 - truth[i], sender=chain.accounts[who])
    market.settle(progress=False)
    for account in market.balances()["account"]:
        if market.claimable(account):
            market.withdraw(account)
    chain.close()  # the ledger stays readable
    return chain


def market_rows(model: str) -> list[dict]:
    chain = run_market(model)
    gas = chain.gas.to_pandas()
    steps = {"initialise": ("deploy", None), "reveal_sample": ("market", "reveal sample"), "contribute": ("", "add_data"),
             "end": ("market", "end"), "reveal_piece": ("market", "reveal"), "reward_batch": ("market", "reward"),
             "withdraw": ("", "withdraw")}
    rows = []
    for step, (phase, name) in steps.items():
        g = gas[(gas.phase == phase) & ((gas.name == name) if name else True)]
        gas_value = int(g.gas_used.sum()) if step == "initialise" else int(round(g.gas_used.mean()))
        rows.append({"op": f"market:{step}", "gas": gas_value, "max": int(g.gas_used.max()),
                     "transactions": len(g), "fork": chain.fork, "model": model, "incentive": "PredictionMarket",
                     "contributions": 12, "test_size": 40})
    return rows


def provider_rows(contributions=(8, 16, 32), test_sizes=(16, 32, 64)):
    for n in contributions:
        for m in test_sizes:
            chain = run_market("SparsePerceptron", contributions=n, test_size=m)
            gas = chain.gas.to_pandas()
            # the provider's own transactions: set-up and every market step but ending participation
            provider = gas[(gas.phase == "deploy") | ((gas.phase == "market") & (gas.name != "end"))]
            yield {"op": "market:provider_total", "gas": int(provider.gas_used.sum()),
                   "reward_transactions": int(((gas.phase == "market") & (gas.name == "reward")).sum()),
                   "fork": chain.fork, "model": "SparsePerceptron", "incentive": "PredictionMarket",
                   "contributions": n, "test_size": m}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="one JSON object per line (default: a table)")
    parser.add_argument("--models", default=",".join(SCENARIOS), help="comma-separated, default all")
    parser.add_argument("--no-market", action="store_true", help="skip the prediction market's phases and grid")
    parser.add_argument("--grid-contributions", default="8,16,32", help="provider-cost grid: contributions")
    parser.add_argument("--grid-test-sizes", default="16,32,64", help="provider-cost grid: test-set sizes")
    parser.add_argument("--backend", choices=["py-evm", "edr"], default="py-evm", help="the chain (default py-evm)")
    parser.add_argument("--fork", choices=["prague", "osaka"], default="prague",
                        help="the hardfork (osaka, with its 2^24 gas cap per transaction, needs --backend edr)")
    args = parser.parse_args(argv)
    CHAIN.update(backend=args.backend, fork=args.fork)
    models_ = args.models.split(",")
    for model in models_:
        if model not in SCENARIOS:
            parser.error(f"unknown model {model!r}; choose from {', '.join(SCENARIOS)}")
    rows = (row for model in models_ for row in measure(model))
    if not args.no_market:
        grid = ([int(v) for v in args.grid_contributions.split(",")], [int(v) for v in args.grid_test_sizes.split(",")])
        rows = chain_rows(rows, (row for model in models_ for row in market_rows(model)), provider_rows(*grid))
    for row in rows:
        if args.json:
            print(json.dumps(row), flush=True)
        elif row["incentive"] == "PredictionMarket":
            where = f"{row['contributions']} contributions, test set {row['test_size']}"
            print(f"{row['model']:>22} {row['op']:>22} {row['gas']:>12,} gas  ({where})")
        else:
            ratio = "" if row["ratio_to_2019"] is None else f"({row['ratio_to_2019']:.0%} of 2019)"
            print(f"{row['model']:>22} {row['op']:>22} {row['gas']:>12,} gas  {ratio}")


if __name__ == "__main__":
    main()
