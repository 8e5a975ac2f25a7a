"""What a run starts from, decided before anything is deployed: the subsets it draws (initial training,
contributions in order, test sets) and its model's twin. Shared by a run and by what replays a run
afterwards (:mod:`dcai_lab.valuation`), which must not import the run itself."""
from __future__ import annotations

import numpy as np

from .. import datasets, subsets
from ..models import registry
from .config import ExperimentConfig

# Independent random streams of one seed, one per subset, so that changing one draw moves no other.
HIDDEN_STREAM, TEST_STREAM, CHECK_STREAM = 1, 2, 3


def plan_subsets(config: ExperimentConfig, y, y_test, mechanism=None, rng=None) -> dict:
    """Every subset a run takes, as index arrays, from the labels alone: ``initial`` (trained on before
    deployment) and ``pool`` (contributed, in this order) from a seeded permutation of the training split;
    the mechanism's ``hidden_test`` set and the ``test`` set accuracy is measured on (all the rest, or a
    ``test_limit`` draw), both stratified random draws. The same for the same seed (see
    :mod:`dcai_lab.subsets`: some splits are sorted by label). ``check`` are positions in the test set where
    the contract's own evaluate is compared with the twin."""
    mechanism = mechanism or config.mechanism()
    rng = np.random.default_rng(config.seed) if rng is None else rng  # a run's: the loop's stream goes on after it
    order = rng.permutation(len(y))
    n_initial = config.initial_samples or max(1, round(config.initial_fraction * len(y)))
    if n_initial >= len(y):
        raise ValueError(f"initial_samples {n_initial} leaves nothing of the {len(y)} training samples to contribute")
    plan = {"initial": order[:n_initial], "pool": order[n_initial:]}
    if config.max_contributions is not None:
        plan["pool"] = plan["pool"][:config.max_contributions]
    hidden = []
    if mechanism.hidden_test_size:
        size = mechanism.hidden_test_size
        if len(y_test) <= size:
            raise ValueError(f"the test split has {len(y_test)} samples: the mechanism's hidden test set of {size} "
                             "must leave some to measure accuracy on (lower test_size)")
        # in drawn order: the market commits to it in contiguous pieces, each should hold every class
        hidden = subsets.draw(y_test, size, [config.seed, HIDDEN_STREAM])
        plan["hidden_test"] = hidden
    rest = len(y_test) - len(hidden)
    if config.test_limit and config.test_limit < rest:
        plan["test"] = np.sort(subsets.draw(y_test, config.test_limit, [config.seed, TEST_STREAM], exclude=hidden))
    else:
        plan["test"] = np.setdiff1d(np.arange(len(y_test)), hidden)
    # positions within the test set where the contract's own evaluate is checked against the twin
    tested = np.asarray(y_test)[plan["test"]]
    plan["check"] = subsets.draw(tested, min(config.onchain_check, len(tested)), [config.seed, CHECK_STREAM])
    return plan


def new_twin(config: ExperimentConfig, encoder):
    """An unfitted twin of the config's model for its dataset as ``encoder`` encodes it (the run's seed is its
    ``random_state``, the config's ``model_params`` its other parameters)."""
    return registry.entry(config.model).make(n_features=encoder.n_features,
                                             n_classes=datasets.task(config.dataset).n_classes, seed=config.seed,
                                             params=config.model_params)
