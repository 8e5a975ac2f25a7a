"""The workshop's checks accept right answers and refuse wrong ones with a hint."""
import math

import pandas as pd
import pytest

from dcai_lab import Chain, incentives, models, workshop


def test_deposit_check():
    chain = Chain()
    twin = models.SparsePerceptron(n_features=4, max_iter=1).fit([[0], [1]], [1, 0])
    system = chain.deploy_system(twin, incentives.DepositRefundTake(cost_weight=10**12))
    first = system.add_data([2], 1, sender=chain.accounts[1])
    chain.time_travel(minutes=3)
    right = 10**12 * 3600 // math.isqrt(chain.now + 1 - first.added_time)
    workshop.check_deposit(system, right)
    with pytest.raises(workshop.WrongAnswer, match="isqrt"):
        workshop.check_deposit(system, right + 1)
    with pytest.raises(workshop.Unanswered):
        workshop.check_deposit(system, None)


@pytest.mark.parametrize("cost_weight, verdict", [(5 * 10**13, None), (10**13, "raise"), (10**14, "lower")])
def test_spam_price_check_measures_on_chain(cost_weight, verdict):
    if verdict is None:
        measured = workshop.check_spam_price(cost_weight)
        # The first spam comes a few seconds more than a minute after the mechanism's deployment.
        first = measured["spammer_hour_wei"] - 59 * (cost_weight * 3600 // math.isqrt(60))
        assert first in {cost_weight * 3600 // math.isqrt(s) for s in range(60, 80)}
        assert measured["honest_wei"] == cost_weight * 3600 // math.isqrt(600)
    else:
        with pytest.raises(workshop.WrongAnswer, match=verdict):
            workshop.check_spam_price(cost_weight)


def test_cheapest_model_check():
    gas = pd.DataFrame({"model": ["a", "b", "c"], "operation": "add_data", "gas": [100, 200, 300]})
    accuracy = pd.DataFrame({"model": ["a", "b", "c"], "accuracy": [0.7, 0.85, 0.9]})
    workshop.check_cheapest("b", gas, accuracy, 0.8)
    with pytest.raises(workshop.WrongAnswer, match="only 0.700"):
        workshop.check_cheapest("a", gas, accuracy, 0.8)
    with pytest.raises(workshop.WrongAnswer, match="not the cheapest"):
        workshop.check_cheapest("c", gas, accuracy, 0.8)
    with pytest.raises(ValueError, match="no model reaches"):
        workshop.cheapest_model(gas, accuracy, 0.95)
