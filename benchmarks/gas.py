"""Gas per operation of every model under Deposit-Refund-Take and Points, on the embedded chain: each
operation's gas taken apart from an opcode trace, its floor and the overhead above it.

    python benchmarks/gas.py --json      one JSON object per line: op, gas, fork, model, ...
    python benchmarks/gas.py             a table
    python benchmarks/gas.py --json --backend edr --fork osaka     the same on osaka (the edr engine)

Sparse models: 1000 features, 2 classes, the 20-index sample used by earlier work, with non-zero
initial parameters (the sparse perceptron also with a decreasing step, ``step_decay = 1000``). Dense
models: 9 features, the binary sample [1,1,1,1,1,1,1,0,0] normalised to unit length (each 1 becomes
1/sqrt(7), 377,964 in fixed point). Operations: deploy (every transaction that sets the system up),
add_correct (the model agrees with the label), add_incorrect (it does not),
refund (the author's first validated contribution) and report. ``baseline_2019`` is what the 2019
contracts spent where that is known (Deposit-Refund-Take; see ``dcai_lab.experiments.overhead.GAS_2019``).
Each row also carries the anatomy of its gas (``part_<part>``: intrinsic, accounts, storage_read,
storage_write, refund, transfer, logs, code_deposit, rest; they add up to ``gas``; see ``dcai_lab.anatomy``),
its floor (``floor``, ``floor_<part>``: what the operation's semantics cannot avoid, ``dcai_lab.floors``; none
for a deployment) and ``overhead`` = gas - floor, ``overhead_pct`` its share of the gas in %. The scenario
runs under every mechanism of ``--incentives`` (default both).

Points (``--points-only`` for these alone, ``--no-points`` to skip them), for SparsePerceptron: refunds and
reports that award a badge and ones that do not (``POINTS_OPS``).

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

from dcai_lab import Chain, incentives
from dcai_lab.experiments.overhead import SCENARIOS
from dcai_lab.experiments.overhead import measure as measure_overhead

#: Where the benchmark runs: the embedded chain by default; ``--backend edr`` and ``--fork osaka`` change it.
CHAIN = {"backend": "py-evm", "fork": "prague"}


def new_chain() -> Chain:
    if CHAIN["backend"] == "edr":
        return Chain.edr(hardfork=CHAIN["fork"])
    if CHAIN["fork"] != "prague":
        raise SystemExit(f"fork {CHAIN['fork']!r} needs --backend edr (py-evm runs prague)")
    return Chain()


def measure(model: str, incentive: str = "deposit-refund-take", seed: int = 0) -> list[dict]:
    """The scenario's operations with their anatomy, floor and overhead (:func:`dcai_lab.experiments.overhead.
    measure`), on the benchmark's chain."""
    chain = new_chain()
    try:
        return measure_overhead(model, incentive, chain=chain, seed=seed)
    finally:
        chain.close()


#: Points' refunds and reports, by position: what each one awards (the defaults of ``incentives.Points``).
POINTS_OPS = {
    "refund_1": "the author's first validated contribution (badge: first validated)",
    "refund_plain": "a later refund that awards no badge (mean of refunds 2-4 and 6-9)",
    "refund_5": "the fifth refund in a row (badge: streak)",
    "refund_10": "the tenth validated contribution (badge: validated x10)",
    "report_1": "the reporter's first good report (badge: first report)",
    "report_plain": "a later report that awards no badge, its author without a streak",
    "report_resets_streak": "a report that awards no badge and ends its author's streak",
}


def measure_points(model: str = "SparsePerceptron", seed: int = 0) -> list[dict]:
    """Refund and report gas under Points, with and without a badge (see ``POINTS_OPS``): alice adds 10
    samples the model agrees with and claims them in turn; bob adds 3 it disagrees with and one it agrees with;
    carol reports bob's bad ones, the third after bob's good one is refunded (so that it ends his streak)."""
    chain = new_chain()
    twin, sample = SCENARIOS[model](np.random.default_rng(seed))
    system = chain.deploy_system(twin, incentives.Points())
    alice, bob, carol = chain.accounts[1:4]
    good = [system.add_data(sample, 1, sender=alice) for _ in range(10)]
    bad = [system.add_data(sample, 0, sender=bob) for _ in range(3)]
    bobs_good = system.add_data(sample, 1, sender=bob)
    if system.predict(sample) != 1:
        raise AssertionError(f"{model}: the Points scenario must still predict 1 on its sample")
    chain.time_travel(days=1)
    refunds = [system.refund(c).gas_used for c in good]
    reports = [system.report(c, sender=carol).gas_used for c in bad[:2]]
    system.refund(bobs_good)
    resets = system.report(bad[2], sender=carol).gas_used
    plain = refunds[1:4] + refunds[5:9]
    gas = {"refund_1": refunds[0], "refund_plain": round(sum(plain) / len(plain)), "refund_5": refunds[4],
           "refund_10": refunds[9], "report_1": reports[0], "report_plain": reports[1],
           "report_resets_streak": resets}
    chain.close()
    return [{"op": f"points:{op}", "gas": g, "what": POINTS_OPS[op], "fork": chain.fork, "model": model,
             "incentive": "Points"} for op, g in gas.items()]


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
    parser.add_argument("--incentives", default="deposit-refund-take,points",
                        help="mechanisms the scenario runs under, comma-separated (default both)")
    parser.add_argument("--no-market", action="store_true", help="skip the prediction market's phases and grid")
    parser.add_argument("--no-points", action="store_true",
                        help="skip Points' refunds and reports with and without a badge (SparsePerceptron)")
    parser.add_argument("--points-only", action="store_true", help="only Points' refunds and reports (5 s)")
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
    mechanisms = args.incentives.split(",")
    rows = iter(()) if args.points_only else (row for mechanism in mechanisms for model in models_
                                               for row in measure(model, mechanism))
    if not args.no_points:
        rows = chain_rows(rows, measure_points())
    if not args.no_market and not args.points_only:
        grid = ([int(v) for v in args.grid_contributions.split(",")], [int(v) for v in args.grid_test_sizes.split(",")])
        rows = chain_rows(rows, (row for model in models_ for row in market_rows(model)), provider_rows(*grid))
    for row in rows:
        if args.json:
            print(json.dumps(row), flush=True)
        elif row["op"].startswith("points:"):
            print(f"{row['model']:>22} {row['op']:>28} {row['gas']:>12,} gas  ({row['what']})")
        elif row["incentive"] == "PredictionMarket":
            where = f"{row['contributions']} contributions, test set {row['test_size']}"
            print(f"{row['model']:>22} {row['op']:>22} {row['gas']:>12,} gas  ({where})")
        else:
            ratio = "" if row["ratio_to_2019"] is None else f"  ({row['ratio_to_2019']:.0%} of 2019)"
            floor = "" if row["floor"] is None else (f"  floor {row['floor']:>9,}  overhead {row['overhead']:>7,} "
                                                     f"({row['overhead_pct']:.1f}%)")
            print(f"{row['model']:>34} {row['incentive']:>17} {row['op']:>14} {row['gas']:>12,} gas{floor}{ratio}")


if __name__ == "__main__":
    main()
