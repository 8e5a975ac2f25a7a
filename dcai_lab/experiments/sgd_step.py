"""Constant step (the chain's perceptron) against a decreasing step (the 2019 simulation's scikit-learn SGD
perceptron), trained on the same stream of contributions.

The 2020 paper's accuracy curves (Harris, arXiv 2009.06756) came from microsoft/0xDeCA10B's Python
simulation, whose perceptron (``simulation/decai/simulation/contract/classification/perceptron.py``) is
``SGDClassifier(loss='perceptron', learning_rate='optimal', penalty=None, tol=1e-3,
random_state=0xDeCA10B)``: fitted with ``fit`` on the first 8 % of the training data, then
``partial_fit`` on each contribution (``collab_trainer.py``: ``add_data`` calls ``model.update``), on dense
0/1 rows of a 1000-word vocabulary (``data/imdb_data_loader.py``). Under ``'optimal'`` the step of the
``t``-th sample seen (every sample counts, updated or not, the initial fit's epochs too) is
``eta = 1 / (alpha * (t0 + t - 1))`` with ``t0 = 1 / (alpha * sqrt(1 / sqrt(alpha)))`` (Bottou's
heuristic; ``alpha = 1e-4`` gives ``t0 = 1000``), so it shrinks like ``1 / (999 + t)``. The chain's
:class:`~dcai_lab.models.perceptron.SparsePerceptron` moves by the same ``learning_rate`` forever by
default; with ``step_decay = 1000`` it takes the same shape of decreasing step in integers
(``learning_rate * 1000 // (1000 + t)``), which this module measures too.
"""
from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from .. import datasets, subsets
from ..encoded import encoded_splits
from ..models import registry
from ..models._base import sparse_rows
from .run import TEST_STREAM

#: The 2019 simulation's settings (``perceptron.py`` above); the rest are scikit-learn's defaults of
#: then and now: ``alpha=1e-4`` (used by ``'optimal'`` even without a penalty), ``fit_intercept=True``,
#: ``max_iter=1000`` (0.20's default once ``tol`` is set), ``n_iter_no_change=5``, ``shuffle=True``,
#: ``average=False``. ``eta0`` (0.0 then, 0.01 now) is unused under ``'optimal'``; ``n_jobs`` does not
#: matter for two classes.
SGD_2019 = {"loss": "perceptron", "learning_rate": "optimal", "penalty": None, "alpha": 1e-4, "tol": 1e-3,
            "max_iter": 1000, "n_iter_no_change": 5, "shuffle": True, "fit_intercept": True, "average": False,
            "random_state": 0xDeCA10B}
#: The random stream of a seed that picks which contributions carry a wrong label.
MISTAKE_STREAM = 4
#: Measured points when ``eval_every`` is not given.
DEFAULT_POINTS = 50


def compare_steps(dataset: str = "imdb", *, seed: int = 0, initial_fraction: float = 0.08,
                  contributions: int | None = None, eval_every: int | None = None, test_limit: int | None = None,
                  mistake_rate: float = 0.0, sgd_params: dict | None = None,
                  step_decay: int | None = 1000) -> pd.DataFrame:
    """Test accuracy along one stream of contributions, with the chain's constant step, the chain's
    decreasing step (``step_decay``) and the 2019 simulation's decreasing step.

    The stream is :func:`dcai_lab.experiments.run`'s: a permutation of the training split by ``seed``;
    its first ``initial_fraction`` trains both models before deployment (the twin with ``fit``, as a run
    does; the SGD perceptron with ``fit``, as the 2019 simulation did), then the rest (the first
    ``contributions`` of it if given) is learnt one sample at a time, in order, by ``partial_fit``: the
    registry's ``perceptron`` twin, exactly what the contract does (constant ``learning_rate``,
    integers), the same twin with ``step_decay`` (what the contract does with that setting), and
    ``SGDClassifier(**SGD_2019)`` on the same samples as dense 0/1 rows, as in 2019 (a
    sparse row would change scikit-learn's intercept step: it damps it by 0.01 for sparse input). With
    ``mistake_rate``, each contribution's label is flipped with that probability (stream ``[seed, 4]``),
    the same flips for both models; the initial samples keep their labels.

    Parameters
    ----------
    dataset : str
        A two-class task of :mod:`dcai_lab.datasets`, encoded with the perceptron's default encoder.
    seed : int
        Seeds the permutation, the label mistakes, the test draw and the twin's shuffled initial fit.
    initial_fraction : float
        Share of the training split trained on before the first contribution, in (0, 1).
    contributions : int, optional
        How many of the remaining samples to contribute (all when None).
    eval_every : int, optional
        Measure accuracy after every this many contributions (and after the last); by default about
        50 points along the stream.
    test_limit : int, optional
        Measure on a stratified draw of this many test samples (``subsets.draw`` with stream
        ``[seed, 2]``, the draw a run with this ``test_limit`` makes) rather than the whole test split.
    mistake_rate : float
        Probability in [0, 1] that a contribution's label is flipped.
    sgd_params : dict, optional
        Settings that replace those of :data:`SGD_2019` (e.g. ``{"alpha": 1e-3}``).
    step_decay : int, optional
        t0 of the chain perceptron's decreasing step (1000: the shape of the 2019 settings); None leaves
        that curve out.

    Returns
    -------
    pandas.DataFrame
        One row per measured point: ``contributions`` (after the initial training), ``samples_seen``
        (initial samples plus contributions), ``constant_step``, ``chain_decreasing_step`` (with
        ``step_decay``) and ``decreasing_step`` (scikit-learn's) (test accuracy, 0..1), ``gap``
        (scikit-learn's decreasing minus constant), ``constant_updates``, ``chain_decreasing_updates`` and
        ``decreasing_updates`` (updates made so far, initial fit excluded), ``sgd_eta`` (scikit-learn's
        step for the next sample), ``chain_step`` (the decaying twin's next step, fixed point) and
        ``label_mistakes`` (flipped labels so far). ``frame.attrs`` records the dataset,
        seed, sizes, passes of each initial fit, SGD settings and ``seconds`` taken.
    """
    started = time.time()
    task = datasets.task(dataset)
    registry.check_task("perceptron", task)
    if not 0 < initial_fraction < 1:
        raise ValueError(f"initial_fraction must be between 0 and 1, got {initial_fraction}")
    for name, value in (("contributions", contributions), ("eval_every", eval_every), ("test_limit", test_limit)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
            raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
    if not 0 <= mistake_rate <= 1:
        raise ValueError(f"mistake_rate must be between 0 and 1, got {mistake_rate}")
    from sklearn.linear_model import SGDClassifier

    settings = {**SGD_2019, **(sgd_params or {})}
    sgd = SGDClassifier(**settings)

    encoder, X, y, X_test, y_test = encoded_splits(dataset, seed, model="perceptron")
    n_features = encoder.n_features
    order = np.random.default_rng(seed).permutation(len(y))  # as run.plan_subsets
    n_initial = max(1, round(initial_fraction * len(y)))
    initial, pool = order[:n_initial], order[n_initial:]
    if contributions is not None:
        pool = pool[:contributions]
    if not len(pool):
        raise ValueError(f"initial_fraction={initial_fraction} leaves no contributions of {len(y)} training samples")
    labels = np.asarray(y)[pool].copy()
    flipped = np.random.default_rng([seed, MISTAKE_STREAM]).random(len(pool)) < mistake_rate
    labels[flipped] = 1 - labels[flipped]
    if test_limit is not None and test_limit < len(y_test):
        X_test, y_test = subsets.take(X_test, y_test, np.sort(subsets.draw(y_test, test_limit, [seed, TEST_STREAM])))
    test = sparse_rows(X_test, n_features)
    test_float = test.astype(np.float64)
    rows = sparse_rows([X[i] for i in order[:n_initial + len(pool)]], n_features).astype(np.float64)

    twin = registry.make("perceptron", n_features=n_features, n_classes=2, seed=seed)
    twin.fit([X[i] for i in initial], np.asarray(y)[initial])
    decaying = None
    if step_decay is not None:
        decaying = registry.make("perceptron", n_features=n_features, n_classes=2, seed=seed,
                                 params={"step_decay": step_decay})
        decaying.fit([X[i] for i in initial], np.asarray(y)[initial])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning if max_iter is reached, as in 2019
        sgd.fit(rows[:n_initial].toarray(), np.asarray(y)[initial])
    sgd_epochs = int(sgd.n_iter_)  # partial_fit overwrites it
    every = eval_every or max(1, -(-len(pool) // DEFAULT_POINTS))
    twin_start = twin.n_updates_
    decaying_start = decaying.n_updates_ if decaying is not None else 0
    sgd_updates = 0
    points = []

    def measure(k):
        points.append({"contributions": k, "samples_seen": n_initial + k,
                       "constant_step": float(np.mean(twin.predict(test) == y_test)),
                       "chain_decreasing_step": (float(np.mean(decaying.predict(test) == y_test))
                                                 if decaying is not None else np.nan),
                       "decreasing_step": float(np.mean(sgd.predict(test_float) == y_test)),
                       "constant_updates": twin.n_updates_ - twin_start,
                       "chain_decreasing_updates": (decaying.n_updates_ - decaying_start
                                                    if decaying is not None else 0),
                       "decreasing_updates": sgd_updates, "sgd_eta": _sgd_eta(sgd),
                       "chain_step": decaying.step_ if decaying is not None else np.nan,
                       "label_mistakes": int(flipped[:k].sum())})

    measure(0)
    for k, (i, label) in enumerate(zip(pool, labels), start=1):
        twin.partial_fit([X[i]], [label])
        if decaying is not None:
            decaying.partial_fit([X[i]], [label])
        before = sgd.intercept_[0]
        sgd.partial_fit(rows[n_initial + k - 1].toarray(), [label])
        sgd_updates += bool(sgd.intercept_[0] != before)  # the intercept moves exactly when the weights do
        if k % every == 0 or k == len(pool):
            measure(k)
    frame = pd.DataFrame(points)
    frame.insert(5, "gap", frame["decreasing_step"] - frame["constant_step"])
    frame.attrs.update(dataset=dataset, seed=seed, initial_samples=n_initial, test_samples=len(y_test),
                       test_limit=test_limit, mistake_rate=mistake_rate, eval_every=every,
                       twin_learning_rate=twin.learning_rate, twin_initial_passes=twin.max_iter,
                       twin_step_decay=step_decay,
                       sgd_initial_epochs=sgd_epochs, sgd_params=settings, seconds=time.time() - started)
    return frame


def _sgd_eta(sgd) -> float:
    """scikit-learn's step for the next sample under its schedule (``'optimal'``: ``1 / (alpha (t0 + t - 1))``)."""
    if sgd.learning_rate != "optimal":
        return float("nan") if sgd.learning_rate != "constant" else float(sgd.eta0)
    typw = np.sqrt(1.0 / np.sqrt(sgd.alpha))
    t0 = 1.0 / (typw * sgd.alpha)  # the perceptron's gradient at -typw is -1: initial eta = typw
    return float(1.0 / (sgd.alpha * (t0 + sgd.t_ - 1)))


def plot_steps(frame: pd.DataFrame, ax=None):
    """Test accuracy against contributions, the chain's constant and decreasing steps and scikit-learn's
    decreasing step, markers at the measured points; the legend sits below the axes. Returns the Figure."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    fig = ax.figure
    rate = frame.attrs.get("twin_learning_rate")
    ax.plot(frame["contributions"], frame["constant_step"] * 100, marker="o", markersize=3,
            label="chain perceptron, constant step" + (f" ({rate / 1000:g})" if rate else ""))
    decay = frame.attrs.get("twin_step_decay")
    if "chain_decreasing_step" in frame and frame["chain_decreasing_step"].notna().any():
        ax.plot(frame["contributions"], frame["chain_decreasing_step"] * 100, marker="^", markersize=3,
                linestyle="-.", label="chain perceptron, decreasing step"
                + (f" (step_decay = {decay}: {rate / 1000:g} x {decay} / ({decay} + t), t = samples seen)"
                   if decay and rate else ""))
    ax.plot(frame["contributions"], frame["decreasing_step"] * 100, marker="s", markersize=3, linestyle="--",
            label="scikit-learn SGD perceptron, decreasing step (2019 settings)")
    ax.set_xlabel("contributions after the initial training (samples)")
    ax.set_ylabel("test accuracy (%)")
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.grid(alpha=0.3)
    attrs = frame.attrs
    if attrs.get("dataset"):
        ax.set_title(f"{attrs['dataset']}: {attrs.get('initial_samples', '?')} initial samples, "
                     f"{attrs.get('test_samples', '?')} test samples", fontsize="medium")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=1, fontsize="small", frameon=False)
    return fig
