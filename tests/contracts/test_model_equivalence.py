"""Every contract model and its twin agree bit for bit: random initial parameters, random update
sequences through the trainer, random queries. Parameters near their limits make overflows happen, and
the twin must refuse exactly the contributions the contract refuses."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcai_lab import Chain, ContractRevert, models
from strategies import MODELS

OVERFLOW_ERRORS = {"WeightOverflow", "CountOverflow", "SumOverflow"}
_CHAIN = []


def shared_chain():
    if not _CHAIN:
        _CHAIN.append(Chain())
    return _CHAIN[0]


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
