"""The sparse perceptron contract and its twin agree, bit for bit."""
import numpy as np
import pytest
from sklearn.base import clone

from helpers import perceptron
from dcai_lab import Chain, ContractRevert, models
from dcai_lab.models._base import pack_lanes, unpack_lanes
from dcai_lab.models.perceptron import INT32_MAX, INT32_MIN


def test_fit_predict_score_on_separable_data():
    X = [[0, 1], [0, 2], [3, 4], [3, 5], [1], [4]]
    y = [1, 1, 0, 0, 1, 0]
    twin = models.SparsePerceptron(n_features=6, max_iter=10, random_state=0).fit(X, y)
    assert twin.score(X, y) == 1.0
    assert twin.predict([[0], [3]]).tolist() == [1, 0]
    assert set(np.unique(twin.coef_ % twin.learning_rate)) == {0}


def test_sklearn_conventions():
    twin = models.SparsePerceptron(n_features=50, learning_rate=7, random_state=3)
    assert clone(twin).get_params() == twin.get_params()
    rng = np.random.default_rng(0)
    X = [np.sort(rng.choice(50, 5, replace=False)) for _ in range(40)]
    y = rng.integers(0, 2, 40)
    a = clone(twin).fit(X, y)
    b = clone(twin).fit(X, y)
    assert np.array_equal(a.coef_, b.coef_) and a.intercept_ == b.intercept_
    # partial_fit makes exactly one pass in order, as the chain would
    c = clone(twin)
    for x, label in zip(X, y):
        c.partial_fit([x], [label])
    d = clone(twin).partial_fit(X, y)
    assert np.array_equal(c.coef_, d.coef_)


def test_sparse_matrix_and_index_lists_agree():
    import scipy.sparse as sp

    twin = perceptron(8, np.arange(-4, 4) * 10, intercept=-5)
    rows = [[0, 7], [3], [1, 2, 6]]
    dense = np.zeros((3, 8))
    for i, r in enumerate(rows):
        dense[i, r] = 1
    assert twin.decision_function(rows).tolist() == twin.decision_function(sp.csr_matrix(dense)).tolist()


@pytest.mark.parametrize("sample, message", [
    ([], "EmptyData"), ([3, 2], "IndicesNotIncreasing"), ([1, 1], "IndicesNotIncreasing"),
    ([10], "IndexOutOfRange"), ([-1], "IndexOutOfRange"),
])
def test_twin_rejects_what_the_contract_rejects(sample, message):
    with pytest.raises(ValueError, match=message):
        perceptron(10).partial_fit([sample], [1])


def test_twin_rejects_unknown_labels():
    with pytest.raises(ValueError, match="UnknownLabel"):
        perceptron(10).partial_fit([[1]], [2])


def test_pack_unpack_round_trip_and_limits():
    w = [0, 1, -1, INT32_MAX, INT32_MIN, 12345, -999, 7, 42]
    assert unpack_lanes(pack_lanes(w, 32, signed=True), len(w), 32, signed=True).tolist() == w
    assert pack_lanes([1], 32, True)[0] == 1 and pack_lanes([0, -1], 32, True)[0] == 0xFFFFFFFF << 32
    assert unpack_lanes(pack_lanes([2**32 - 1, 5], 32, False), 2, 32, signed=False).tolist() == [2**32 - 1, 5]
    assert unpack_lanes(pack_lanes([-(2**63), 2**63 - 1], 64, True), 2, 64, signed=True).tolist() == [-(2**63), 2**63 - 1]
    with pytest.raises(OverflowError, match="int32"):
        pack_lanes([INT32_MAX + 1], 32, signed=True)
    with pytest.raises(OverflowError, match="uint32"):
        pack_lanes([-1], 32, signed=False)


def test_twin_raises_on_overflow_like_the_contract():
    twin = perceptron(4, [INT32_MAX, 0, 0, 0], intercept=-(2**40), learning_rate=5)
    with pytest.raises(OverflowError, match="feature 0"):
        twin.partial_fit([[0, 1]], [1])
    assert twin.coef_[0] == INT32_MAX  # nothing changed


def test_deploy_and_read_back(chain):
    rng = np.random.default_rng(1)
    twin = perceptron(1003, rng.integers(INT32_MIN, INT32_MAX, 1003), intercept=-77, learning_rate=13,
                      max_input_length=64)
    system = chain.deploy_system(twin, "points")
    back = system.twin()
    assert np.array_equal(back.coef_, twin.coef_) and back.intercept_ == -77
    assert (back.learning_rate, back.max_input_length, back.n_features) == (13, 64, 1003)


def test_large_model_initialises_in_chunks_below_the_block_limit():
    chain = Chain(block_gas_limit=8_000_000)
    twin = perceptron(4000, np.arange(4000) % 97 - 48)
    system = chain.deploy_system(twin, "points")
    chunks = [r for r in chain.gas if (r.phase, r.name) == ("deploy", "weights")]
    assert len(chunks) > 1
    assert max(r.gas_used for r in chain.gas) < chain.block_gas_limit
    assert np.array_equal(system.twin().coef_, twin.coef_)


def test_initialisation_closes_when_bound(system, accounts):
    with pytest.raises(ContractRevert, match="InitialisationClosed"):
        system.chain.transact(system.model_contract.functions.setWords(0, [1]), sender=accounts["owner"])


def test_unused_lanes_must_be_zero(chain):
    model = chain.deploy("SparsePerceptron", 9, 9, 1, 0, 0, 0)  # two words, the second uses one lane
    with pytest.raises(ContractRevert, match="UnusedLanesNotZero"):
        chain.transact(model.functions.setWords(1, [1 << 32]))
    with pytest.raises(ContractRevert, match="WordOutOfRange"):
        chain.transact(model.functions.setWords(1, [0, 0]))


@pytest.mark.parametrize("args, name", [((0, 1, 1, 0, 0, 0), "numFeatures"),
                                        ((10, 11, 1, 0, 0, 0), "maxInputLength"),
                                        ((10, 0, 1, 0, 0, 0), "maxInputLength"),
                                        ((10, 5, 0, 0, 0, 0), "learningRate")])
def test_constructor_rejects_bad_parameters(chain, args, name):
    with pytest.raises(ContractRevert) as info:
        chain.deploy("SparsePerceptron", *args)
    assert info.value.args_ == {"name": name}


def test_decreasing_step_follows_its_schedule_and_counts_every_sample():
    twin = models.SparsePerceptron(n_features=6, learning_rate=1000, step_decay=4)
    X, y = [[0, 1], [0, 1], [2], [0, 1], [3]], [1, 1, 0, 1, 0]
    steps = []
    for x, label in zip(X, y):
        steps.append(twin.step_)
        twin.partial_fit([x], [label])
    assert steps == [1000 * 4 // (4 + t) for t in range(5)]  # 1000, 800, 666, 571, 500
    assert twin.n_seen_ == 5 and twin.n_updates_ < 5  # samples needing no update count too
    assert twin.coef_[0] == 1000  # the first update at the full step; the second sample agreed
    constant = models.SparsePerceptron(n_features=6).partial_fit(X, y)
    assert constant.n_seen_ == 0 and constant.step_ == constant.learning_rate


def test_decreasing_step_never_reaches_zero():
    twin = models.SparsePerceptron(n_features=3, learning_rate=3, step_decay=1).set_state(None, 0, seen=10)
    assert twin.step_ == 1


@pytest.mark.parametrize("decay", [-1, 2**32, 1.5, "fast"])
def test_bad_step_decay_is_refused_with_its_value(decay):
    with pytest.raises(ValueError, match=f"step_decay must be an integer.*{decay!r}"):
        models.SparsePerceptron(n_features=3, step_decay=decay).fit([[0]], [1])


@pytest.mark.parametrize("kind", ["sparse", "dense"])
def test_contract_takes_the_twins_decreasing_step(chain, kind):
    rng = np.random.default_rng(4)
    if kind == "sparse":
        twin = models.SparsePerceptron(n_features=40, learning_rate=1000, step_decay=25, random_state=0)
        X = [np.sort(rng.choice(40, 6, replace=False)) for _ in range(80)]
    else:
        twin = models.DensePerceptron(n_features=4, learning_rate=5000, step_decay=25, max_abs_value=10**6,
                                      random_state=0)
        X = rng.integers(-10**6, 10**6, (80, 4)).tolist()
    y = rng.integers(0, 2, 80)
    twin.fit(X[:20], y[:20])
    assert twin.n_seen_ == 20 * twin.max_iter
    system = chain.deploy_system(twin, "points")
    model = system.model_contract.functions
    for x, label in zip(X[20:], y[20:]):
        assert model.step().call() == twin.step_
        twin.partial_fit([x], [label])
        system.add_data(x, int(label), sender=chain.accounts[1])
    assert model.seen().call() == twin.n_seen_ == 20 * twin.max_iter + 60
    assert system.twin().to_chain_params() == twin.to_chain_params()
    assert twin.step_ < twin.learning_rate // 2


def test_constant_step_writes_no_counter(chain):
    twin = perceptron(10)
    system = chain.deploy_system(twin, "points")
    system.add_data([1, 2], 1, sender=chain.accounts[1])
    assert system.model_contract.functions.seen().call() == 0
    assert system.model_contract.functions.step().call() == twin.learning_rate
