"""Constant step against decreasing step: both models learn the same stream, the constant-step curve is the
registry perceptron's, and bad settings are refused by name."""
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import SGDClassifier

from dcai_lab import subsets
from dcai_lab.encoded import encoded_splits
from dcai_lab.experiments import compare_steps
from dcai_lab.experiments.sgd_step import MISTAKE_STREAM, SGD_2019, plot_steps
from dcai_lab.models import registry

SMALL = dict(seed=3, contributions=230, eval_every=50, test_limit=300, mistake_rate=0.2)


@pytest.fixture(scope="module")
def frame():
    return compare_steps("fitness_synthetic", **SMALL)


def replay(seed, contributions, eval_every, test_limit, mistake_rate, initial_fraction=0.08):
    """The stream rebuilt by hand: the registry perceptron and the 2019 SGD perceptron, one sample at a time."""
    encoder, X, y, X_test, y_test = encoded_splits("fitness_synthetic", seed, model="perceptron")
    order = np.random.default_rng(seed).permutation(len(y))
    n_initial = round(initial_fraction * len(y))
    initial, pool = order[:n_initial], order[n_initial:n_initial + contributions]
    labels = y[pool].copy()
    flip = np.random.default_rng([seed, MISTAKE_STREAM]).random(len(pool)) < mistake_rate
    labels[flip] = 1 - labels[flip]
    X_test, y_test = subsets.take(X_test, y_test, np.sort(subsets.draw(y_test, test_limit, [seed, 2])))
    n = encoder.n_features

    def dense(rows):
        out = np.zeros((len(rows), n))
        for r, x in enumerate(rows):
            out[r, x] = 1
        return out

    twin = registry.make("perceptron", n_features=n, seed=seed).fit([X[i] for i in initial], y[initial])
    decaying = registry.make("perceptron", n_features=n, seed=seed, params={"step_decay": 1000})
    decaying.fit([X[i] for i in initial], y[initial])
    sgd = SGDClassifier(**SGD_2019)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sgd.fit(dense([X[i] for i in initial]), y[initial])
    T = dense(X_test)
    points = [(0, twin.score(X_test, y_test), decaying.score(X_test, y_test), sgd.score(T, y_test))]
    for k, (i, label) in enumerate(zip(pool, labels), start=1):
        twin.partial_fit([X[i]], [label])
        decaying.partial_fit([X[i]], [label])
        sgd.partial_fit(dense([X[i]]), [label])
        if k % eval_every == 0 or k == len(pool):
            points.append((k, twin.score(X_test, y_test), decaying.score(X_test, y_test), sgd.score(T, y_test)))
    columns = ["contributions", "constant_step", "chain_decreasing_step", "decreasing_step"]
    return n_initial, pd.DataFrame(points, columns=columns), flip


def test_both_curves_are_the_stream_replayed_by_hand(frame):
    n_initial, expected, flip = replay(**SMALL)
    assert frame["contributions"].tolist() == [0, 50, 100, 150, 200, 230]
    assert frame["samples_seen"].tolist() == (n_initial + expected["contributions"]).tolist()
    assert frame["constant_step"].tolist() == expected["constant_step"].tolist()  # exactly the chain's twin
    assert frame["chain_decreasing_step"].tolist() == expected["chain_decreasing_step"].tolist()
    assert frame["decreasing_step"].tolist() == expected["decreasing_step"].tolist()  # dense rows, as in 2019
    assert frame["label_mistakes"].iloc[-1] == flip.sum() > 0
    assert np.allclose(frame["gap"], frame["decreasing_step"] - frame["constant_step"])


def test_the_decreasing_step_shrinks_and_the_constant_one_does_not(frame):
    assert (np.diff(frame["sgd_eta"]) < 0).all()
    assert (np.diff(frame["chain_step"]) < 0).all() and frame.attrs["twin_step_decay"] == 1000
    assert frame.attrs["twin_learning_rate"] == 1000 and frame.attrs["sgd_params"]["learning_rate"] == "optimal"
    assert frame.attrs["sgd_initial_epochs"] > 1  # fitted to convergence, as in 2019
    assert (np.diff(frame["constant_updates"]) >= 0).all() and frame["constant_updates"].iloc[-1] > 0


def test_the_same_seed_gives_the_same_curves_and_another_seed_does_not(frame):
    again = compare_steps("fitness_synthetic", **SMALL)
    pd.testing.assert_frame_equal(frame, again)
    other = compare_steps("fitness_synthetic", **{**SMALL, "seed": 4})
    assert not frame[["constant_step", "decreasing_step"]].equals(other[["constant_step", "decreasing_step"]])


@pytest.mark.parametrize("kwargs, message", [
    (dict(dataset="nope"), "unknown dataset 'nope'"),
    (dict(dataset="wine"), "perceptron is binary-only.*3 classes"),
    (dict(initial_fraction=1.5), "initial_fraction must be between 0 and 1, got 1.5"),
    (dict(eval_every=0), "eval_every must be a positive integer or None, got 0"),
    (dict(contributions="10"), "contributions must be a positive integer or None, got '10'"),
    (dict(test_limit=2.5), "test_limit must be a positive integer or None, got 2.5"),
    (dict(mistake_rate=-0.1), "mistake_rate must be between 0 and 1, got -0.1"),
    (dict(step_decay=-5), "step_decay must be an integer in .* got -5"),
])
def test_bad_settings_are_refused_naming_the_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        compare_steps(**{"dataset": "fitness_synthetic", **kwargs})


def test_plot_has_the_three_curves_with_markers_and_the_legend_off_the_axes(frame):
    fig = plot_steps(frame)
    ax = fig.axes[0]
    assert [len(line.get_xdata()) for line in ax.get_lines()] == [len(frame)] * 3
    assert all(line.get_marker() not in (None, "None", "") for line in ax.get_lines())
    assert "(samples)" in ax.get_xlabel() and "(%)" in ax.get_ylabel()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert ax.get_legend().get_window_extent(renderer).y1 < ax.get_window_extent(renderer).y0  # below the axes
