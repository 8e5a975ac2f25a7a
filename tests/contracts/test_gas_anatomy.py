"""Gas anatomy: every transaction's parts, from an opcode trace under the fork's rules, add up to its receipt's
gas; the edr engine's and anvil's traces give the breakdown py-evm's replay gives; floors sit below the gas and
agree with the trace where the operation's semantics fix a part exactly."""
import numpy as np
import pytest

from dcai_lab import Chain, ContractRevert, anatomy, floors, incentives
from dcai_lab.anatomy import TracingUnsupported
from dcai_lab.experiments import overhead
from dcai_lab.transports import Tx

MODELS = ["NaiveBayes", "SparseNearestCentroid", "SparsePerceptron", "DensePerceptron", "DenseNearestCentroid"]
MECHANISMS = ["deposit-refund-take", "points"]


def _explained(chain) -> dict:
    """Every transaction of the chain's ledger explained: {position: breakdown}, each checked to add up."""
    out = {}
    for i, record in enumerate(chain.gas.records):
        parts = chain.gas.explain(record)
        assert int(parts["gas"].sum()) == record.gas_used, record.label
        assert (parts.drop(index="refund", level="part", errors="ignore")["gas"] >= 0).all(), record.label
        rest = parts.xs("rest", level="part")["gas"].sum() if "rest" in parts.index.get_level_values("part") else 0
        assert sum(parts.attrs["rest_by_code"].values()) == rest, record.label
        out[i] = parts
    return out


@pytest.mark.parametrize("mechanism", MECHANISMS)
@pytest.mark.parametrize("model", MODELS)
def test_every_operation_adds_up_and_sits_above_its_floor(model, mechanism):
    """Deployment, both adds, the refund and the report, on py-evm: the parts add up to the receipt; the floor
    is below the gas; intrinsic gas and logs, which the operation's calldata and events fix, equal the floor's;
    accounts, storage and transfers are at least the floor's."""
    chain = Chain()
    rows = overhead.measure(model, mechanism, chain=chain)
    explained = _explained(chain)
    assert len(explained) == len(chain.gas.records) >= 9  # 4+ deployment transactions and the four operations
    for row in rows:
        parts = {p: row[f"part_{p.replace(' ', '_')}"] for p in anatomy.PARTS}
        assert sum(parts.values()) == row["gas"], row["op"]
        if row["op"] == "deploy":
            assert parts["code deposit"] > 0 and row["floor"] is None
            continue
        floor = {p: row[f"floor_{p.replace(' ', '_')}"] for p in anatomy.PARTS}
        assert row["floor"] == sum(floor.values()) <= row["gas"], row["op"]
        assert parts["intrinsic"] == floor["intrinsic"], row["op"]
        assert parts["logs"] == floor["logs"], row["op"]
        assert parts["transfer"] == floor["transfer"], row["op"]
        assert parts["accounts"] >= floor["accounts"], row["op"]
        storage = parts["storage read"] + parts["storage write"] + parts["refund"]
        assert storage >= floor["storage read"] + floor["storage write"], row["op"]
        assert row["overhead"] == row["gas"] - row["floor"] == parts["rest"] + sum(parts[p] - floor[p] for p in (
            "accounts", "storage read", "storage write", "refund"))
        by_contract = [row[f"rest_{c}"] for c in ("trainer", "model", "data_handler", "mechanism")]
        assert sum(by_contract) == parts["rest"] and min(by_contract) > 0, row["op"]  # each one's code ran


@pytest.mark.parametrize("mechanism", MECHANISMS)
@pytest.mark.parametrize("model", [pytest.param(m, marks=[] if m in ("NaiveBayes", "DensePerceptron")
                                                else pytest.mark.slow) for m in MODELS])
def test_the_edr_engine_traces_the_same_breakdown(model, mechanism):
    """The same transactions on py-evm (replayed with every opcode recorded) and on the edr engine
    (debug_traceTransaction): item by item, count by count, the same breakdown. (Two models in the fast
    suite, all five in the whole one.)"""
    embedded, fast = Chain(), Chain.edr()
    try:
        overhead.measure(model, mechanism, chain=embedded, anatomy_of_deploy=False)
        overhead.measure(model, mechanism, chain=fast, anatomy_of_deploy=False)
        assert [r.gas_used for r in embedded.gas] == [r.gas_used for r in fast.gas]
        for record, other in zip(embedded.gas, fast.gas):
            a, b = embedded.gas.explain(record), fast.gas.explain(other)
            assert a.equals(b), (model, record.label, a.compare(b))
            assert a.attrs == b.attrs, record.label
    finally:
        fast.close()


def test_anvil_traces_with_steps_tracing_and_says_how_without():
    reference = Chain()
    traced, plain = Chain.anvil(tracing=True), Chain.anvil()
    try:
        for chain in (reference, traced, plain):
            system = chain.deploy_system(overhead.SCENARIOS["DensePerceptron"](np.random.default_rng(0))[0],
                                         incentives.DepositRefundTake())
            system.add_data(overhead.DENSE_SAMPLE, 0, sender=chain.accounts[1])
        assert reference.gas.explain(-1).equals(traced.gas.explain(-1))
        with pytest.raises(TracingUnsupported, match="steps-tracing"):
            plain.gas.explain(-1)
    finally:
        traced.close()
        plain.close()


def test_market_phases_add_up_refunds_included():
    """A whole prediction market (initialisation, contributions, reveals, reward rounds, withdrawals): every
    transaction adds up, and the ones that clear storage show their refund."""
    chain = Chain()
    twin, sample = overhead.SCENARIOS["DensePerceptron"](np.random.default_rng(0))
    rng = np.random.default_rng(1)
    X = np.clip(np.array(sample) + rng.integers(-300_000, 300_000, (14, 9)), -10**6, 10**6)
    X_test, X_add = X[:8], X[8:]
    y_test = twin.predict(X_test)
    y_test[:2] = 1 - y_test[:2]
    market = chain.deploy_market(twin, X_test, y_test, incentives.PredictionMarket(
        bounty=10**18, min_stake=10**16, pieces=2, test_size=8, min_contributions=len(X_add)))
    for i, x in enumerate(X_add):
        market.add_data(list(x), int(1 - twin.predict([x])[0]), sender=chain.accounts[1 + i % 2])
    market.settle(progress=False)
    for account in market.balances()["account"]:
        if market.claimable(account):
            market.withdraw(account)
    explained = _explained(chain)
    names = {r.name for r in chain.gas}
    assert {"reveal", "reward", "withdraw", "add_data"} <= names
    assert any((parts.index.get_level_values("part") == "refund").any() for parts in explained.values())


def test_reverted_and_out_of_gas_transactions_add_up():
    """A revert (DepositTooSmall: REVERT, refunds dropped) and a transaction whose model call runs out of gas
    (an exceptional halt: the callee burns all it was given, then the trainer reverts with the 1/64 it kept)
    still add up, on py-evm and on the edr engine, with the same breakdown."""
    results = []
    for chain in (Chain(), Chain.edr()):
        twin, sample = overhead.SCENARIOS["SparsePerceptron"](np.random.default_rng(0))
        system = chain.deploy_system(twin, incentives.DepositRefundTake())
        with pytest.raises(ContractRevert, match="DepositTooSmall"):
            system.add_data(sample, 0, sender=chain.accounts[1], value=0)
        with pytest.raises(ContractRevert):
            chain.transact(system.trainer.functions.addData(sample, 0), sender=chain.accounts[1],
                           value=system.deposit_required(), gas=60_000, operation="add_data")
        assert [r.status for r in chain.gas.records[-2:]] == [0, 0]
        results.append([chain.gas.explain(r) for r in chain.gas.records[-2:]])
        burnt = results[-1][1].xs("rest", level="part")
        assert "exceptional halt (all gas left in the frame)" in burnt.index
        assert int(results[-1][1]["gas"].sum()) == chain.gas.records[-1].gas_used
        chain.close()
    assert all(a.equals(b) for a, b in zip(*results))


def test_calldata_floor_and_a_plain_transfer():
    """EIP-7623: 100 non-zero bytes to an account without code cost 21,000 + 1,600 by the standard rule but
    21,000 + 4,000 by the floor, so the breakdown tops up 2,400. A plain transfer is its 21,000 alone."""
    chain = Chain()
    alice, bob = chain.accounts[1:3]
    for data, value in (("0x" + "ff" * 100, 0), ("0x", 10**18)):
        receipt, block_time = chain.transport.send(Tx(alice, bob, data, value, gas=100_000), "probe")
        chain.gas.record("probe", receipt, block_time, alice)
    with_data, transfer = chain.gas.explain(-2), chain.gas.explain(-1)
    assert with_data.loc[("intrinsic", "calldata (4 a zero byte, 16 another)"), "gas"] == 1_600
    assert with_data.loc[("intrinsic", "EIP-7623 floor top-up (10 a calldata token)"), "gas"] == 2_400
    assert int(with_data["gas"].sum()) == chain.gas.records[-2].gas_used == 25_000
    assert transfer["gas"].tolist() == [21_000] and chain.gas.records[-1].gas_used == 21_000


def test_a_backend_that_cannot_trace_names_the_ones_that_can():
    chain = Chain.twin_only()
    chain.record_estimate("add_data", chain.accounts[0], 150_000)
    with pytest.raises(TracingUnsupported, match="py-evm, edr, anvil"):
        chain.gas.explain(-1)


def test_floor_of_an_add_follows_the_twins_update():
    """The model part of an add's floor is what the twin's update changes: nothing when the perceptron agrees
    with the label, the weight words of the sample and slot 0 when it learns."""
    twin, sample = overhead.SCENARIOS["SparsePerceptron"](np.random.default_rng(0))
    reads, writes = floors.model_slots(twin, sample, 1)
    assert writes == {} and len(reads) == len({f // 8 for f in sample}) + 1
    reads, writes = floors.model_slots(twin, sample, 0)
    assert set(writes) == reads
    counts, sample = overhead.SCENARIOS["NaiveBayes"](np.random.default_rng(0))
    reads, writes = floors.model_slots(counts, sample, 1)
    assert set(writes) == reads and "totals[1]" in writes and "totals[0]" not in reads
