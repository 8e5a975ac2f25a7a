"""Valuation: Shapley values of contributors and contributions replayed through the twins, against exact
rational computations, retraining from scratch and hand-made correlations."""
import copy
from fractions import Fraction

import matplotlib
import numpy as np
import pandas as pd
import pytest

from dcai_lab import models, valuation
from dcai_lab.valuation import Run, Valuation, contributor_values, sample_values

matplotlib.use("Agg")
FEATURES = 24


def samples(rng, n):
    """Sparse samples (sorted unique indices) whose label is whether more of them fall in the upper half."""
    X = [np.sort(rng.choice(FEATURES, rng.integers(2, 8), replace=False)) for _ in range(n)]
    y = np.array([int((x >= FEATURES // 2).sum() * 2 > len(x)) for x in X])
    return X, y


def twin(name, **params):
    if name == "perceptron":
        params.setdefault("random_state", 0)  # fit shuffles: unseeded, a test would differ from run to run
    return {"perceptron": models.SparsePerceptron, "nb": models.NaiveBayes, "ncc": models.SparseNearestCentroid
            }[name](n_features=FEATURES, **params)


def make_run(name="nb", contributors=("a", "b", "c"), per=6, seed=0, flip=("c",), params=None, initial=8, **kwargs):
    """A run: a twin trained on ``initial`` samples, then ``per`` contributions from each contributor in
    turn (those in ``flip`` give wrong labels), scored on 60 test samples."""
    rng = np.random.default_rng(seed)
    X0, y0 = samples(rng, initial)
    X, y = samples(rng, per * len(contributors))
    X_test, y_test = samples(rng, 60)
    owners = np.array([contributors[i % len(contributors)] for i in range(len(y))])
    labels = np.where(np.isin(owners, flip), 1 - y, y)
    model = twin(name, **(params or {})).fit(X0, y0)
    return Run(model, X, labels, owners, X_test, y_test, **kwargs)


def correct(model, run):
    return int((model.predict(run.X_test) == run.y_test).sum())


def retrained(run, keep):
    """The twin after the contributions at ``keep``, one partial_fit each, in their order: from scratch. One
    the twin refuses (an overflow: the contract reverts) changes nothing."""
    model = copy.deepcopy(run.initial)
    for i in keep:
        try:
            model.partial_fit([run.samples[i]], [run.labels[i]])
        except OverflowError:
            pass
    return model


CASES = [("nb", {}), ("ncc", {}), ("perceptron", {}), ("perceptron", {"step_decay": 3, "learning_rate": 50})]


@pytest.mark.parametrize("name,params", CASES)
def test_contributor_values_add_up_exactly_to_the_accuracy_gained(name, params):
    run = make_run(name, contributors=tuple("abcde"), per=5, params=params)
    table = contributor_values(run)
    gained = Fraction(correct(retrained(run, range(len(run.labels))), run) - correct(run.initial, run), len(run.y_test))
    assert sum(table["value_exact"]) == gained  # exact: fractions, not floats
    assert table["value"].sum() == pytest.approx(float(gained), abs=1e-12)
    assert (table["value_se"] == 0).all() and table["method"].str.startswith("exact").all()


@pytest.mark.parametrize("name", ["nb", "ncc"])
def test_contributors_with_the_same_data_get_the_same_value(name):
    """b's contributions made again by b2, later: Naive Bayes and nearest centroid add the same counts
    wherever they come, so b and b2 are symmetric players (a perceptron's updates depend on the order)."""
    run = make_run(name, contributors=("a", "b", "c"), per=4, seed=3)
    positions = np.flatnonzero(run.contributors == "b")
    doubled = Run(run.initial, run.samples + [run.samples[i] for i in positions],
                  np.concatenate([run.labels, run.labels[positions]]),
                  np.concatenate([run.contributors, ["b2"] * len(positions)]), run.X_test, run.y_test)
    values = contributor_values(doubled).set_index("contributor")["value_exact"]
    assert values["b"] == values["b2"] and values["b"] != values["a"]


def test_a_contributor_without_contributions_is_a_null_player():
    run = make_run("nb", kinds={"idle": "lazy"})
    table = contributor_values(run).set_index("contributor")
    assert table.loc["idle", "value_exact"] == 0 and table.loc["idle", "value"] == 0
    assert table.loc["idle", "contributions"] == 0 and table.loc["idle", "kind"] == "lazy"
    assert table.loc["idle", "method"].startswith("null player")


def test_a_perceptron_contributor_it_never_learns_from_is_worth_nothing():
    """b adds only samples the model is sure of, however a and c move it (weights of a million on b's
    three features against steps of a thousand): the perceptron never updates on them, so b is a null
    player; a and c move the other weights."""
    run = make_run("perceptron", contributors=("a", "b", "c"), per=5, seed=1)
    weights = np.zeros(FEATURES, dtype=np.int64)
    weights[[12, 13, 14]] = 10**6
    run.initial = models.SparsePerceptron(n_features=FEATURES).set_state(weights, 0)
    for i in np.flatnonzero(run.contributors == "b"):
        run.samples[i], run.labels[i] = np.array([12, 13, 14]), 1
    table = contributor_values(run).set_index("contributor")
    assert table.loc["b", "value_exact"] == 0 and table.loc["a", "value_exact"] != 0


@pytest.mark.parametrize("name,params", CASES)
def test_leave_one_out_equals_retraining_without_the_sample(name, params):
    run = make_run(name, contributors=("a", "b"), per=6, seed=2, flip=("b",), params=params)
    table = sample_values(run, permutations=0)
    n = len(run.labels)
    full = correct(retrained(run, range(n)), run)
    expected = [(full - correct(retrained(run, [j for j in range(n) if j != i]), run)) / len(run.y_test)
                for i in range(n)]
    assert table["loo"].tolist() == pytest.approx(expected, abs=1e-15)
    assert table["loo"].abs().sum() > 0  # some sample matters, or the check says nothing
    assert table["shapley"].isna().all()


@pytest.mark.parametrize("name", ["nb", "perceptron"])
def test_monte_carlo_lands_within_a_few_standard_errors_of_the_exact_values(name):
    run = make_run(name, contributors=tuple("abcde"), per=3, seed=4, flip=("e",))
    exact = contributor_values(run).set_index("contributor")
    estimate = contributor_values(run, exact_limit=2, permutations=300, seed=1).set_index("contributor")
    assert estimate["method"].str.startswith("Monte Carlo").all() and estimate["value_exact"].isna().all()
    assert (estimate["value_se"] > 0).any()
    gap = (estimate["value"] - exact["value"]).abs()
    assert (gap <= 4 * estimate["value_se"] + 1e-12).all(), pd.DataFrame({"gap": gap, "se": estimate["value_se"]})


def test_tmc_shapley_of_contributions_lands_near_their_exact_shapley_values():
    run = make_run("perceptron", contributors=("a", "b"), per=4, seed=5, flip=("b",))
    one_each = Run(run.initial, run.samples, run.labels, [f"s{i}" for i in range(len(run.labels))], run.X_test, run.y_test)
    exact = contributor_values(one_each)["value"].to_numpy()  # each contribution its own player: 2**8 coalitions
    table = sample_values(run, permutations=400, seed=2)
    assert (np.abs(table["shapley"] - exact) <= 4 * table["shapley_se"] + 1e-12).all()
    assert table["shapley"].sum() == pytest.approx(sum(exact), abs=1e-12)  # every permutation adds up to it


def test_truncation_stops_a_permutation_once_the_prefix_is_close_enough():
    run = make_run("nb", contributors=("a", "b"), per=5, seed=6)
    everything = sample_values(run, permutations=20, truncation=1.0, seed=0)  # any prefix is close enough
    assert (everything["shapley"] == 0).all()


def test_the_batched_perceptron_replays_exactly_as_the_twin():
    rng = np.random.default_rng(7)
    # the last: steps so large that most updates overflow, and learning_rate * step_decay past int64
    for params in ({}, {"step_decay": 2, "learning_rate": 40}, {"step_decay": 2**32 - 1, "learning_rate": 2**31 - 1}):
        run = make_run("perceptron", contributors=tuple("abcd"), per=8, seed=8, params=params)
        game = valuation._Game(run, np.arange(len(run.labels)), len(run.labels))
        members = rng.random((30, len(run.labels))) < 0.6
        coef, intercept = valuation._replay_perceptrons(run.initial, game.rows, run.labels, members)
        for k, m in enumerate(members):
            model = retrained(run, np.flatnonzero(m))
            assert coef[k].tolist() == model.coef_.tolist() and intercept[k] == model.intercept_


def test_a_refused_update_changes_nothing_in_the_batched_replay_either():
    start = models.SparsePerceptron(n_features=4).set_state([2**31 - 1500, 0, 0, -(2**31) + 1500], 0)
    X = [[0, 1], [3], [0], [1, 3], [0, 2]]
    y = np.array([1, 0, 1, 1, 0])
    run = Run(start, X, 1 - y, ["a", "b", "a", "b", "a"], [[0], [1], [2], [3]], [1, 0, 1, 0])
    game = valuation._Game(run, np.arange(5), 5)
    members = np.array([[True] * 5, [True, False, True, False, True], [False, True, True, True, False]])
    coef, intercept = valuation._replay_perceptrons(start, game.rows, run.labels, members)
    for k, m in enumerate(members):
        model = retrained(run, np.flatnonzero(m))
        assert coef[k].tolist() == model.coef_.tolist() and intercept[k] == model.intercept_
    assert coef[0].tolist() != start.coef_.tolist()  # some updates went through, some were refused


def test_correlations_and_shares_on_a_hand_made_case():
    contributors = pd.DataFrame({
        "run": "r", "mechanism": "m", "contributor": ["h1", "h2", "h3", "x"], "kind": ["honest"] * 3 + ["adversarial"],
        "contributions": [2, 1, 1, 1], "value": [0.03, 0.01, 0.02, -0.02], "value_se": 0.0, "value_exact": None,
        "method": "exact", "payout": [3.0, 1.0, 4.0, -2.0], "payout_unit": "ether"})
    contributions = pd.DataFrame({"run": "r", "mechanism": "m", "position": range(5),
                                  "contributor": ["h1", "h2", "h1", "h3", "x"], "kind": "honest",
                                  "loo": [1, 2, 3, 4, 5], "shapley": [5, 4, 3, 2, 1], "shapley_se": 0.0,
                                  "payout": [1.0, 2.0, 3.0, 5.0, 4.0], "payout_unit": "ether"})
    v = Valuation(contributors, contributions)
    c = v.correlations.set_index(["level", "value"])
    # ranks of value 4 2 3 1 against payout 3 2 4 1: d = 1 0 -1 0, rho = 1 - 6 * 2 / (4 * 15) = 0.8
    assert c.loc[("contributors", "shapley"), "spearman"] == pytest.approx(0.8)
    assert c.loc[("contributors", "shapley"), "pairs"] == 4
    # 1 2 3 4 5 against 1 2 3 5 4: d^2 sums to 2, rho = 1 - 12 / 120 = 0.9; reversed: -0.9
    assert c.loc[("contributions", "loo"), "spearman"] == pytest.approx(0.9)
    assert c.loc[("contributions", "shapley"), "spearman"] == pytest.approx(-0.9)
    kinds = v.by_kind.set_index("kind")
    assert kinds.loc["honest", "value"] == pytest.approx(0.06) and kinds.loc["adversarial", "payout"] == -2
    assert kinds.loc["honest", "value_share"] == pytest.approx(0.06 / 0.08)  # of |0.06| + |-0.02|
    assert kinds.loc["adversarial", "payout_share"] == pytest.approx(-2 / 10)
    assert kinds.loc["honest", "contributions"] == 4 and kinds.loc["honest", "contributors"] == 3


def test_a_constant_side_leaves_the_correlation_undefined():
    contributors = pd.DataFrame({"run": "r", "mechanism": "m", "contributor": list("abc"), "kind": "k",
                                 "contributions": 1, "value": [0.1, 0.2, 0.3], "payout": [1.0, 1.0, 1.0],
                                 "payout_unit": "points", "value_se": 0.0})
    empty = pd.DataFrame(columns=["run", "mechanism", "loo", "shapley", "payout"])
    row = Valuation(contributors, empty).correlations.iloc[0]
    assert np.isnan(row["spearman"]) and row["pairs"] == 3


def test_value_of_several_runs_saves_reads_back_and_draws_a_panel_each(tmp_path):
    runs = {"first": make_run("nb", payouts={"a": 1.0, "b": 2.0, "c": -1.0}, payout_unit="ether",
                              contribution_payouts=np.linspace(-1, 1, 18), mechanism="deposit-refund-take"),
            "second": make_run("perceptron", payouts={"a": 3.0, "b": 1.0, "c": 0.0}, payout_unit="points",
                               mechanism="points")}
    v = valuation.value(runs, out=tmp_path / "valuation", sample_permutations=3)
    assert set(v.contributors["run"]) == {"first", "second"} and len(v.contributions) == 36
    assert v.contributions.loc[v.contributions["run"] == "second", "payout"].isna().all()
    for name in ("contributors", "contributions", "correlations", "by_kind"):
        assert (tmp_path / "valuation" / f"{name}.csv").is_file()
    assert (tmp_path / "valuation" / "value_payout.png").is_file()
    back = Valuation.load(tmp_path / "valuation")
    assert back.contributors["value_exact"].tolist() == v.contributors["value_exact"].tolist()
    assert back.settings["first"]["sample_permutations"] == 3
    assert len(v.plot().axes) == 2


def test_a_replay_that_misses_the_recorded_accuracy_is_refused():
    run = make_run("nb", recorded_accuracy=2.0)
    with pytest.raises(ValueError, match="disagree"):
        contributor_values(run)
