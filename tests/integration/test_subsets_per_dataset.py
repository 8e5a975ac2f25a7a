"""For every dataset, each subset an experiment takes (initial training share, contribution pool, test
limit, the market's hidden test set, the on-chain check sample) holds every class in about its share."""
import numpy as np
import pytest

from dcai_lab import datasets, experiments
from dcai_lab.experiments.run import plan_subsets


def close_to_share(y_all, y_part, stratified):
    """Every class present, and its share within what chance (or stratification) allows."""
    classes, counts = np.unique(y_all, return_counts=True)
    n = len(y_part)
    got = np.array([(y_part == c).sum() for c in classes])
    expected = counts / counts.sum() * n
    if n >= len(classes):
        assert (got >= 1).all(), (got, expected)
    slack = len(classes) + 1 if stratified else 4 * np.sqrt(expected) + 2
    assert (np.abs(got - expected) <= slack).all(), (got, expected)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(datasets.TASKS))
def test_each_subset_an_experiment_takes_holds_every_class(name):
    if not datasets.has(name, "train"):
        pytest.skip(f"{name} is not in the data directory (CI sets DCAI_LAB_DATA_DIR)")
    _, X, y, X_test, y_test = experiments.encoded_splits(name)
    for incentive, params in (("deposit-refund-take", {}), ("prediction-market", {"test_size": min(40, len(y_test) // 3)})):
        config = experiments.ExperimentConfig(dataset=name, model="nb", incentive=incentive, incentive_params=params,
                                              test_limit=min(200, len(y_test) // 2), seed=3)
        plan = plan_subsets(config, y, y_test)
        close_to_share(y, y[plan["initial"]], stratified=False)
        close_to_share(y, y[plan["pool"][:500]], stratified=False)
        close_to_share(y_test, y_test[plan["test"]], stratified=True)
        close_to_share(y_test[plan["test"]], y_test[plan["test"]][plan["check"]], stratified=True)
        if "hidden_test" in plan:
            close_to_share(y_test, y_test[plan["hidden_test"]], stratified=True)
            assert not set(plan["hidden_test"]) & set(plan["test"])
        again = plan_subsets(config, y, y_test)
        assert all(np.array_equal(plan[k], again[k]) for k in plan)  # the same for the same seed
