"""Every contract model and its twin agree bit for bit: random initial parameters, random update
sequences through the trainer, random queries. Parameters near their limits make overflows happen, and
the twin must refuse exactly the contributions the contract refuses."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcai_lab import Chain, ContractRevert, models

INT32 = 2**31 - 1
INT64 = 2**63 - 1
OVERFLOW_ERRORS = {"WeightOverflow", "CountOverflow", "SumOverflow"}
_CHAIN = []


def shared_chain():
    if not _CHAIN:
        _CHAIN.append(Chain())
    return _CHAIN[0]


def sparse_sample(n, repeats=False, max_length=8):
    if repeats:
        return st.lists(st.integers(0, n - 1), min_size=1, max_size=max_length).map(sorted)
    return st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True).map(sorted)


def near(limit, width=3000):
    return st.integers(limit - width, limit)


@st.composite
def sparse_perceptron(draw):
    n = draw(st.integers(1, 40))
    w = st.one_of(st.integers(-5000, 5000), near(INT32), near(-INT32 - 1 + 3000))
    twin = models.SparsePerceptron(n_features=n, learning_rate=draw(st.integers(1, 3000)))
    twin._init_state(draw(st.lists(w, min_size=n, max_size=n)), draw(st.integers(-10_000, 10_000)))
    return twin, sparse_sample(n), st.integers(0, 1)


@st.composite
def dense_perceptron(draw):
    n = draw(st.integers(1, 10))
    limit = draw(st.sampled_from([1000, 10**6, INT32]))
    w = st.one_of(st.integers(-10**12, 10**12), near(INT64, 10**15), near(-INT64 + 10**15, 10**15))
    twin = models.DensePerceptron(n_features=n, learning_rate=draw(st.integers(1, 1000)), max_abs_value=limit)
    twin._init_state(draw(st.lists(w, min_size=n, max_size=n)), draw(st.integers(-10**9, 10**9)))
    sample = st.lists(st.integers(-limit, limit), min_size=n, max_size=n)
    return twin, sample, st.integers(0, 1)


@st.composite
def naive_bayes(draw):
    n, c = draw(st.integers(1, 25)), draw(st.integers(2, 4))
    count = st.one_of(st.integers(0, 40), near(2**32 - 1, 5))
    max_length = draw(st.integers(1, 12))
    twin = models.NaiveBayes(n_features=n, n_classes=c, smoothing=draw(st.integers(1, 5000)),
                             max_input_length=max_length)
    twin._init_state(draw(st.lists(count, min_size=n * c, max_size=n * c)),
                     draw(st.lists(st.integers(0, 30), min_size=c, max_size=c)))
    return twin, sparse_sample(n, repeats=True, max_length=max_length), st.integers(0, c - 1)


@st.composite
def sparse_centroid(draw):
    n, c = draw(st.integers(1, 25)), draw(st.integers(2, 4))
    s = st.one_of(st.integers(0, 40), near(2**32 - 1, 3))
    twin = models.SparseNearestCentroid(n_features=n, n_classes=c)
    twin._init_state(draw(st.lists(s, min_size=n * c, max_size=n * c)),
                     draw(st.lists(st.integers(0, 30), min_size=c, max_size=c)))
    return twin, sparse_sample(n), st.integers(0, c - 1)


@st.composite
def dense_centroid(draw):
    n, c = draw(st.integers(1, 8)), draw(st.integers(2, 3))
    limit = draw(st.sampled_from([1000, 10**6, INT32]))
    s = st.one_of(st.integers(-10**9, 10**9), near(INT64, 2**32), near(-INT64 + 2**32, 2**32))
    twin = models.DenseNearestCentroid(n_features=n, n_classes=c, max_abs_value=limit)
    twin._init_state(draw(st.lists(s, min_size=n * c, max_size=n * c)),
                     draw(st.lists(st.integers(0, 30), min_size=c, max_size=c)))
    return twin, st.lists(st.integers(-limit, limit), min_size=n, max_size=n), st.integers(0, c - 1)


MODELS = {"SparsePerceptron": sparse_perceptron, "DensePerceptron": dense_perceptron,
          "NaiveBayes": naive_bayes, "SparseNearestCentroid": sparse_centroid, "DenseNearestCentroid": dense_centroid}


@pytest.mark.parametrize("kind", MODELS)
def test_contract_and_twin_agree(kind):
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def check(data):
        twin, sample, label = data.draw(MODELS[kind]())
        updates = data.draw(st.lists(st.tuples(sample, label), min_size=1, max_size=5))
        queries = data.draw(st.lists(sample, min_size=1, max_size=4))
        chain = shared_chain()
        snap = chain.snapshot()
        try:
            system = chain.deploy_system(twin, "points")
            assert system.twin().to_chain_params() == twin.to_chain_params()
            for x, y in updates:
                try:
                    twin.partial_fit([x], [y])
                    twin_refused = False
                except OverflowError:
                    twin_refused = True
                try:
                    system.add_data(x, y, sender=chain.accounts[1])
                    chain_refused = False
                except ContractRevert as err:
                    assert err.error in OVERFLOW_ERRORS, str(err)
                    chain_refused = True
                assert twin_refused == chain_refused, (x, y)
                assert system.twin().to_chain_params() == twin.to_chain_params()
                assert [system.predict(q) for q in queries] == twin.predict(queries).tolist()
            labels = [0] * len(queries)
            assert system.evaluate(queries, labels) == int((twin.predict(queries) == 0).sum())
        finally:
            chain.revert(snap)

    check()


def test_naive_bayes_exact_path_matches_the_float_screen_on_clear_calls():
    rng = np.random.default_rng(0)
    X = [np.sort(rng.integers(0, 30, rng.integers(1, 12))) for _ in range(300)]
    y = rng.integers(0, 3, 300)
    twin = models.NaiveBayes(n_features=30, n_classes=3).fit(X[:200], y[:200])
    assert twin.predict(X[200:]).tolist() == [twin._predict_exact(x) for x in X[200:]]
