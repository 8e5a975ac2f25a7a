"""A mechanism is one place: its spec's Python rules agree with its contract call for call (results and
named errors, in the contract's order), and a new mechanism defined only here runs in experiments on a
chain and without one, with nothing else changed."""
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcai_lab import Chain, ContractRevert, experiments, incentives, reverts
from dcai_lab.offchain import GasModel, OffchainSystem

from helpers import SAMPLE, perceptron, positive_on_sample

MECHANISMS = [incentives.DepositRefundTake(cost_weight=10**12, refund_wait=3600, owner_claim_wait=4 * 3600,
                                           any_address_claim_wait=6 * 3600),
              incentives.Points(refund_wait=3600)]
SAMPLES = [[1, 2, 3], [40, 41], [0, 7, 63]]  # the small twin predicts 1, 0, 1


def small_twin():
    """64 features, +3000 on the first half and -3000 on the second: one update flips no prediction,
    and it deploys in a few transactions."""
    return perceptron(64, [3000] * 32 + [-3000] * 32)


def outcome(action):
    """What an operation gave: its value, or the named error and its arguments (addresses and record keys
    left out: the chain's and the twin-only run's accounts differ)."""
    try:
        value = action()
    except ContractRevert as err:
        return ("revert", err.error, {k: v for k, v in err.args_.items() if k not in ("key", "claimant", "reporter")})
    return ("ok", int(value))


ACTIONS = st.lists(st.tuples(st.sampled_from(["add", "add_short", "wait", "refund", "report", "owner_report"]),
                             st.integers(0, 3), st.integers(0, 2), st.integers(0, 1), st.integers(0, 30)),
                   min_size=1, max_size=14)


@pytest.mark.slow
@pytest.mark.parametrize("mechanism", MECHANISMS, ids=lambda m: type(m).__name__)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS)
def test_python_rules_match_the_contract_call_for_call(mechanism, actions):
    chain = Chain()
    system = mechanism.deploy(chain, small_twin())
    # the twin-only deployment takes as many blocks as the chain's, its mechanism's at the same place
    gas_model = GasModel.fit(chain.gas.to_pandas(), [], mechanism)
    twin_chain = Chain.twin_only(start=chain.now - gas_model.deploy_transactions)
    offchain = OffchainSystem(twin_chain, small_twin(), mechanism, gas_model)
    assert twin_chain.now == chain.now
    made = []  # (on chain, twin-only) contribution pairs
    for kind, who, sample, label, minutes in actions:
        if kind == "wait":
            chain.time_travel(minutes=10 * minutes + 1)
            twin_chain.time_travel(minutes=10 * minutes + 1)
            continue
        if kind.startswith("add"):
            got, pair = [], []
            for side, ch in ((system, chain), (offchain, twin_chain)):
                value = max(0, side.deposit_required() - (1 if kind == "add_short" else 0))
                added = []
                got.append(outcome(lambda: added.append(side.add_data(SAMPLES[sample], label, value=value,
                                                                     sender=ch.accounts[1 + who])) or added[0].deposit))
                pair.append(added[0] if added else None)
            assert got[0] == got[1], (kind, got)
            if got[0][0] == "ok":
                made.append(tuple(pair))
            continue
        if not made:
            continue
        c_chain, c_twin = made[sample % len(made)]
        if kind == "refund":
            pair = (outcome(lambda: system.refund(c_chain)), outcome(lambda: offchain.refund(c_twin)))
        else:
            index = 0 if kind == "owner_report" else 1 + who
            pair = (outcome(lambda: system.report(c_chain, sender=chain.accounts[index])),
                    outcome(lambda: offchain.report(c_twin, sender=twin_chain.accounts[index])))
        assert pair[0] == pair[1], (kind, pair)
        assert system.claimable(c_chain) == offchain.claimable(c_twin)
    assert chain.now == twin_chain.now


def test_off_chain_add_checks_the_model_before_the_deposit():
    """The trainer updates the model first: a sample the model refuses reverts with the model's reason even
    when the deposit is short too, and a refused contribution changes nothing."""
    twin_chain = Chain.twin_only()
    offchain = OffchainSystem(twin_chain, positive_on_sample(), MECHANISMS[0], GasModel())
    before = offchain.twin().to_chain_params()
    with reverts("IndexOutOfRange"):
        offchain.add_data([5000], 1, sender=twin_chain.accounts[1], value=0)
    with reverts("DepositTooSmall"):
        offchain.add_data(SAMPLE, 0, sender=twin_chain.accounts[1], value=0)
    assert offchain.twin().to_chain_params() == before and not offchain.records


@dataclass(frozen=True)
class CautiousReporters(incentives.Mechanism):
    """A toy mechanism defined only here: Deposit-Refund-Take's contract and rules, but contributors report
    only once they have two validated contributions of their own, and never take the last wei."""

    refund_wait: int = 3600

    contract_name: ClassVar[str] = "DepositRefundTake"

    def constructor_args(self) -> tuple:
        return (10**12, self.refund_wait, 9 * 86_400, 10 * 86_400)

    def rules(self, *, owner, start):
        spec = incentives.DepositRefundTake(10**12, self.refund_wait, 9 * 86_400, 10 * 86_400)
        return incentives.DepositRefundTakeRules(spec, owner, start)

    def deposit_unit(self) -> int:
        return 60 * 10**12

    def worth_reporting(self, left, reporter_valid) -> bool:
        return left > 0 and reporter_valid() >= 2

    def settled(self, left) -> bool:
        return left == 0


def test_a_new_mechanism_is_a_contract_plus_a_spec(tmp_path, monkeypatch):
    monkeypatch.setenv("DCAI_LAB_CACHE", str(tmp_path))
    monkeypatch.setitem(incentives.MECHANISMS, "cautious", CautiousReporters)
    config = {"name": "toy", "dataset": "fitness_synthetic", "incentive": "cautious", "duration_days": 0.3,
              "eval_interval_hours": 1.0, "test_limit": 100, "seed": 1,
              "contributors": [{"kind": "honest", "count": 2}, {"kind": "adversarial", "count": 1, "interval": 900}]}
    on_chain = experiments.run(config, progress=False)
    twin = experiments.run({**config, "backend": "twin"}, progress=False)
    table = on_chain.gas_table()
    assert {"deploy", "add_data", "refund"} <= set(table.index)
    assert twin.accuracy["accuracy"].tolist() == on_chain.accuracy["accuracy"].tolist()
    assert twin.balances["balance_percent"].tolist() == on_chain.balances["balance_percent"].tolist()
    assert on_chain.config["incentive"] == "cautious"
    # the policy is the spec's: without reports the adversary keeps what the model does not refund
    reports = on_chain.gas[on_chain.gas["operation"] == "report"]
    plain = experiments.run({**config, "incentive": "deposit-refund-take",
                             "incentive_params": {"refund_wait": 3600}}, progress=False)
    assert len(reports) <= (plain.gas["operation"] == "report").sum()
    assert np.isfinite(on_chain.accuracy["accuracy"]).all()
