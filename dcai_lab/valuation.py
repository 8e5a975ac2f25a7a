"""Do the mechanisms pay for value? Each contributor's data valued with the run's own model, beside what
the mechanism paid for it.

The value of data is measured as a cooperative game on the finished run: a coalition of contributions is
replayed through the model's twin from the run's initial state (the twin trained on the initial data, as
the run trained it), in the order the contributions were added (the perceptron's updates depend on it), and
the coalition's utility is the accuracy on the run's test set. That is exactly what the contract would hold
had only those contributions been made; the grand coalition's replay is checked against the run's recorded
final accuracy (trainer mechanisms; a prediction market's model learns only in its reward rounds).

- **Contributors**: exact Shapley values over every coalition of contributors, computed in integers (correct
  test predictions, factorial weights) and kept as fractions, so that they add up exactly to the grand
  coalition's accuracy minus the initial model's. Contributors who added nothing are null players (0).
  Beyond ``exact_limit`` contributors with data: Monte Carlo over seeded random permutations, with a
  standard error per contributor.
- **Contributions**: exact leave-one-out (the accuracy lost without that one sample; for Naive Bayes and
  nearest centroid in closed form, the sample's counts or sums subtracted from the final model) and
  TMC-Shapley (Ghorbani & Zou 2019): seeded random permutations of the contributions, each prefix replayed
  as above, a sample's value the mean of its marginal gains, with a standard error. Truncation is off by
  default: the rule stops a permutation once its prefix is within a tolerance of the final accuracy, and a
  run's initial model already sits there (contributions move accuracy by a point or two), so it would stop
  at once and value every sample 0; ``truncation`` (an accuracy difference) turns it on.

Why not KNN-Shapley (Jia et al. 2019): it values samples for a K-nearest-neighbour classifier on the
encoded features, in closed form, and so says nothing of the contract's model, its initial state or the
order of updates, which is what the mechanisms' payouts depend on. Why not pyDVL: its 0.10 release has the
right shape (a custom utility is a ``UtilityBase`` whose ``__call__`` gets a sample of indices, and its
samplers include TMC), but it requires ``numpy<2`` while the lab requires ``numpy>=2``, so it cannot be
installed beside the lab; and its utilities retrain from scratch per subset, where the code below replays
many coalitions at once. So this is our own code, on the twins.

Speed: Naive Bayes and nearest centroid add each sample's counts or sums to its class, so a coalition's
model is the initial state plus its members' deltas (each computed once by the twin's own ``partial_fit``),
and only the prediction costs. The sparse perceptron's rule is replayed for many coalitions at once in
numpy (``_replay_perceptrons``; tests check it against the twin bit for bit, and every valuation checks the
grand coalition against the twin's own replay). Other models replay through the twin, one coalition at a
time.

Payouts, from the results folder: Deposit-Refund-Take, net ether (final balance minus start: refunds and
reports taken, less deposits); Points, points; the prediction market, net ether (withdrawn less staked).
Per contribution (when the run recorded its claims): refund less deposit, in ether, or under Points the
author's point (1 when validated); a market pays contributors, not contributions.

>>> from dcai_lab import valuation                                 # doctest: +SKIP
>>> v = valuation.value("results/fitness", out="results/fitness/valuation")
>>> v.contributors[["contributor", "kind", "value", "payout"]]
>>> v.correlations                                                 # Spearman: value against payout
"""
from __future__ import annotations

import copy
import json
import math
import time
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .files import write_whole
from .models import DenseNearestCentroid, NaiveBayes, SparseNearestCentroid, SparsePerceptron
from .results import Result

__all__ = ["Run", "Valuation", "contributor_values", "sample_values", "value"]

#: Contributors with data up to which Shapley values are exact (2**12 = 4096 coalitions).
EXACT_LIMIT = 12
#: Coalitions evaluated at once: bounds the memory of the batched replays.
CHUNK = 256
ETHER = 10**18
# The twins whose update adds a sample's counts (Naive Bayes) or values (nearest centroid) to its class:
# the attribute holding those per-class sums; the class counts are ``class_count_``. Exact types only: a
# subclass may change the rule, and is replayed through its own partial_fit instead.
ADDITIVE = {NaiveBayes: "feature_count_", SparseNearestCentroid: "sums_", DenseNearestCentroid: "sums_"}
#: What the contributions table takes from a run's records: when, which training sample, its true label,
#: whether it copies an earlier one of its author's, the deposit and what came of it, who reported it (see
#: ``experiments.simulation.UNCLAIMED``).
RECORDED = ("time_h", "sample", "true_label", "copy", "deposit", "validated", "refund", "taken", "reports",
            "reported_by")
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
UINT32_MAX = 2**32 - 1


@dataclass
class Run:
    """A finished run as a valuation replays it.

    Attributes
    ----------
    initial : ChainModel
        The twin in the run's initial state (trained on the initial data, as the run did).
    samples : list
        Each contribution's encoded sample, in the order the contributions were added.
    labels : array of int
        The label each contribution gave (not the true label).
    contributors : array of str
        Each contribution's author.
    X_test, y_test
        The run's test set (the one its accuracy was measured on).
    kinds : dict
        Contributor name -> kind (``honest``, ``adversarial``, ...), for every contributor of the run,
        including those who added nothing.
    payouts : dict, optional
        Contributor name -> what the mechanism paid it in the run, in ``payout_unit``.
    contribution_payouts : array of float, optional
        What each contribution earned its author, in ``payout_unit`` (NaN where not defined).
    payout_unit : str, optional
        ``"ether"`` or ``"points"``.
    name, mechanism : str
        The run's name and its mechanism's, for tables and figures.
    recorded_accuracy : float, optional
        The run's final accuracy: the grand coalition's replay must give it.
    records : DataFrame, optional
        Extra columns per contribution for the tables (from a results folder: :data:`RECORDED`).
    """

    initial: object
    samples: list
    labels: np.ndarray
    contributors: np.ndarray
    X_test: object
    y_test: np.ndarray
    kinds: dict = field(default_factory=dict)
    payouts: dict | None = None
    contribution_payouts: np.ndarray | None = None
    payout_unit: str | None = None
    name: str = "run"
    mechanism: str = ""
    recorded_accuracy: float | None = None
    records: pd.DataFrame | None = None

    def __post_init__(self):
        self.labels = np.asarray(self.labels, dtype=np.int64)
        self.contributors = np.asarray(self.contributors, dtype=object)
        self.y_test = np.asarray(self.y_test, dtype=np.int64)
        self.kinds = dict(self.kinds)
        if not len(self.samples) == len(self.labels) == len(self.contributors):
            raise ValueError(f"{len(self.samples)} samples, {len(self.labels)} labels and {len(self.contributors)} "
                             "contributors: one of each per contribution")
        for name in dict.fromkeys(self.contributors):
            self.kinds.setdefault(name, "")

    @classmethod
    def from_result(cls, result, name: str | None = None) -> "Run":
        """The run of a results folder (a path) or a :class:`~dcai_lab.results.Result`.

        Its data is encoded again from the data directory, its subsets drawn again from its seed, and the
        test set checked against the hash the run recorded.
        """
        from .encoded import encoded_splits, test_set_hash
        from .experiments.config import ExperimentConfig
        from .experiments.plan import new_twin, plan_subsets
        from . import subsets

        if not isinstance(result, Result):
            folder = Path(result)
            result = Result.load(folder)
            name = name or folder.name
        config = ExperimentConfig.coerce(dict(result.config))
        mechanism = config.mechanism()
        encoder, X, y, X_test, y_test = encoded_splits(config.dataset, config.seed, model=config.model)
        plan = plan_subsets(config, y, y_test, mechanism)
        X_test, y_test = subsets.take(X_test, y_test, plan["test"])
        recorded = result.manifest.get("test_set_sha256")
        if recorded and test_set_hash(X_test, y_test) != recorded:
            raise ValueError(f"the test set encoded again from {config.dataset!r} does not have the hash the run recorded "
                             "(manifest test_set_sha256): the data directory or the encoder changed since the run")
        initial = new_twin(config, encoder).fit([X[i] for i in plan["initial"]], y[plan["initial"]])
        added = result.contributions[result.contributions["outcome"] == "added"].reset_index(drop=True)
        final = result.balances.groupby("contributor", sort=False).last()
        kinds = {**final["kind"].to_dict(), **dict(zip(added["contributor"], added["kind"]))}
        start = config.initial_balance * (config.deposit_unit or mechanism.deposit_unit())
        if mechanism.pays_points:
            unit, payouts = "points", final["points"].astype(float)
            per = added["validated"].astype(float) if "validated" in added else None
        else:
            unit, payouts = "ether", (final["balance_percent"] / 100 - 1) * start / ETHER
            per = (added["refund"] - added["deposit"]) / ETHER if "refund" in added else None
        if mechanism.settles_in_rounds:
            per = None  # a market pays contributors after its rounds, not contributions
        accuracy = result.accuracy["accuracy"]
        return cls(initial=initial, samples=[X[i] for i in added["sample"]], labels=added["label"].to_numpy(),
                   contributors=added["contributor"].to_numpy(), X_test=X_test, y_test=y_test, kinds=kinds,
                   payouts=payouts.to_dict(), payout_unit=unit,
                   contribution_payouts=None if per is None else per.to_numpy(dtype=float),
                   name=name or config.name, mechanism=config.incentive,
                   recorded_accuracy=None if mechanism.settles_in_rounds or accuracy.empty else float(accuracy.iloc[-1]),
                   records=added[[c for c in RECORDED if c in added]])


class _Game:
    """Correct test predictions of the model replayed from the run's initial state on subsets of the
    contributions, in their original order. Players (``units``) are groups of contributions: contributors, or
    the contributions themselves. ``correct(members)`` takes a boolean matrix, one row per coalition."""

    def __init__(self, run: Run, owner: np.ndarray, n_units: int):
        self.initial, self.labels = run.initial, run.labels
        self.rows = run.initial.prepare(run.samples) if len(run.samples) else None
        self.owner, self.n_units = np.asarray(owner, dtype=np.int64), n_units
        self.test, self.y_test = run.initial.prepare(run.X_test), run.y_test
        self.n_test = len(self.y_test)
        self.additive = ADDITIVE.get(type(self.initial))
        self.batched = type(self.initial) is SparsePerceptron
        self._deltas = self._test_float = None
        self.empty = self._count(self.initial)

    def _count(self, model) -> int:
        return int((model.predict(self.test) == self.y_test).sum())

    def correct(self, members: np.ndarray, progress=None) -> np.ndarray:
        members = np.asarray(members, dtype=bool).reshape(-1, self.n_units)
        out = np.empty(len(members), dtype=np.int64)
        for start in range(0, len(members), CHUNK):
            chunk = members[start:start + CHUNK]
            if self.additive:
                out[start:start + len(chunk)] = self._additive(chunk)
            elif self.batched:
                coef, intercept = _replay_perceptrons(self.initial, self.rows, self.labels, chunk[:, self.owner])
                out[start:start + len(chunk)] = self._perceptron_correct(coef, intercept)
            else:
                out[start:start + len(chunk)] = [self._count(self.replay(np.flatnonzero(m[self.owner]))) for m in chunk]
            if progress is not None:
                progress.update(len(chunk))
        return out

    def replay(self, positions) -> object:
        """The twin after the contributions at ``positions`` (increasing), through its own ``partial_fit``;
        a contribution the model refuses (an overflow, where the contract reverts) changes nothing."""
        model = copy.deepcopy(self.initial)
        if not len(positions):
            return model
        try:
            return model.partial_fit(self.rows[positions], self.labels[positions])
        except OverflowError:  # which one was refused is not known: one by one from the start
            model = copy.deepcopy(self.initial)
            for i in positions:
                try:
                    model.partial_fit(self.rows[i:i + 1], self.labels[i:i + 1])
                except OverflowError:
                    continue
            return model

    # -- Naive Bayes and nearest centroid: the initial state plus the members' deltas ---------------------
    def _additive(self, members) -> list[int]:
        deltas = self._unit_deltas()
        base = self._state(self.initial)
        added = (deltas.T @ members.T.astype(np.int64)).T  # coalitions x state, exact integers
        return [self._count(self._with_state(base + row)) for row in np.asarray(added)]

    def _unit_deltas(self) -> sp.csr_matrix:
        """Each unit's contributions as the twin adds them, from a zero state: one row per unit."""
        if self._deltas is None:
            zero = self.initial.__sklearn_clone__().set_state()
            rows = []
            for unit in range(self.n_units):
                positions = np.flatnonzero(self.owner == unit)
                model = copy.deepcopy(zero)
                if len(positions):
                    model.partial_fit(self.rows[positions], self.labels[positions])
                rows.append(sp.csr_matrix(self._state(model)))
            self._deltas = sp.vstack(rows, format="csr") if rows else sp.csr_matrix((0, len(self._state(zero))))
        return self._deltas

    def _state(self, model) -> np.ndarray:
        return np.concatenate([getattr(model, self.additive).reshape(-1), model.class_count_])

    def _with_state(self, state) -> object:
        model = copy.deepcopy(self.initial)
        sums = getattr(model, self.additive)
        return model.set_state(state[:sums.size].reshape(sums.shape), state[sums.size:])

    def without_each(self, progress=None) -> np.ndarray:
        """Correct predictions of the final model without each single unit. Naive Bayes and nearest
        centroid in closed form: the unit's counts or sums subtracted from the final state; other models
        replayed without it."""
        out = np.empty(self.n_units, dtype=np.int64)
        if self.additive:
            deltas = self._unit_deltas()
            final = self._state(self.initial) + np.asarray(deltas.sum(axis=0)).reshape(-1)
        for start in range(0, self.n_units, CHUNK):
            units = np.arange(start, min(start + CHUNK, self.n_units))
            if self.additive:
                out[units] = [self._count(self._with_state(final - deltas[i].toarray().reshape(-1))) for i in units]
            else:
                members = np.ones((len(units), self.n_units), dtype=bool)
                members[np.arange(len(units)), units] = False
                out[units] = self.correct(members)
            if progress is not None:
                progress.update(len(units))
        return out

    # -- the sparse perceptron, many coalitions at once ----------------------------------------------
    def _perceptron_correct(self, coef, intercept) -> np.ndarray:
        # Exact in float64: weights are int32, at most max_length of them are summed per sample (< 2**53).
        if self._test_float is None:
            self._test_float = self.test.astype(np.float64)
        dots = np.rint(self._test_float @ coef.T.astype(np.float64)).astype(np.int64)
        predicted = (dots + intercept) > 0
        return (predicted == (self.y_test[:, None] == 1)).sum(axis=0)


def _replay_perceptrons(initial: SparsePerceptron, rows: sp.csr_matrix, labels, members) -> tuple:
    """The sparse perceptron's rule (the twin's ``_pass``, one sample at a time in the order given) for many
    coalitions at once: ``members[k, t]`` says whether coalition k holds contribution t. Returns the
    weights (coalitions x features) and intercepts. A sample the contract would refuse (a weight leaving
    int32, the intercept leaving int64) changes nothing in that coalition, its counter included."""
    k = len(members)
    coef = np.tile(initial.coef_.astype(np.int64), (k, 1))
    intercept = np.full(k, initial.intercept_, dtype=np.int64)
    seen = np.full(k, initial.n_seen_, dtype=np.int64)
    rate, decay = int(initial.learning_rate), int(initial.step_decay)
    for t in range(members.shape[1]):
        active = np.flatnonzero(members[:, t])
        if not len(active):
            continue
        features = rows.indices[rows.indptr[t]:rows.indptr[t + 1]]
        block = coef[np.ix_(active, features)]
        score = intercept[active] + block.sum(axis=1)
        if not decay:
            step = np.full(len(active), rate)
        elif rate * decay <= INT64_MAX:
            step = np.maximum(1, rate * decay // (decay + seen[active]))
        else:  # learning_rate * step_decay past int64: Python integers, as the twin computes it
            step = np.array([max(1, rate * decay // (decay + int(s))) for s in seen[active]], dtype=np.int64)
        positive = labels[t] == 1
        wrong = score <= 0 if positive else score >= 0
        signed = step if positive else -step
        moved = block + signed[:, None]
        fits = ((moved >= INT32_MIN) & (moved <= INT32_MAX)).all(axis=1)
        fits &= (intercept[active] <= INT64_MAX - signed) if positive else (intercept[active] >= INT64_MIN - signed)
        update = wrong & fits
        rows_updated = active[update]
        coef[np.ix_(rows_updated, features)] = moved[update]
        intercept[rows_updated] += signed[update]
        if decay:
            counted = active[~wrong | fits]  # a refused update counts no more than the reverted transaction
            seen[counted] = np.minimum(seen[counted] + 1, UINT32_MAX)
    return coef, intercept


def _shapley_exact(correct: np.ndarray, players: int, n_test: int) -> list[Fraction]:
    """Exact Shapley values from the correct predictions of every coalition (``correct[mask]``, bit i for
    player i): in integers, phi_i * n! * n_test = sum over S without i of |S|! (n - |S| - 1)! (c(S+i) - c(S))."""
    masks = np.arange(1 << players)
    sizes = np.array([bin(m).count("1") for m in range(1 << players)])
    weight = np.array([math.factorial(s) * math.factorial(players - s - 1) if s < players else 0
                       for s in range(players + 1)], dtype=object)
    denominator = math.factorial(players) * n_test
    values = []
    for i in range(players):
        without = masks[(masks >> i) & 1 == 0]
        gains = (correct[without | (1 << i)] - correct[without]).astype(object)
        values.append(Fraction(int((weight[sizes[without]] * gains).sum()), denominator))
    return values


def _permutation_values(game: _Game, permutations: int, rng, truncation: float | None = None,
                        progress: bool = False, cache: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean marginal gain (in correct predictions) of each unit over ``permutations`` random orders of the
    units, and its standard error. ``cache`` (mask bytes -> correct) reuses coalitions met before.
    ``truncation``: once a prefix (the empty one included) is within that accuracy of the grand
    coalition's, the rest of the permutation gains nothing (TMC-Shapley)."""
    from .progress import bar

    n = game.n_units
    full = int(game.correct(np.ones((1, n), dtype=bool))[0])
    tolerance = None if truncation is None else truncation * game.n_test
    gains = np.zeros((permutations, n))
    with bar(progress, total=permutations, desc="permutations", unit="permutation") as shown:
        for p in range(permutations):
            order = rng.permutation(n)
            rank = np.empty(n, dtype=np.int64)
            rank[order] = np.arange(n)
            counts = [game.empty]
            for start in range(1, n + 1, CHUNK):
                if tolerance is not None and any(abs(c - full) <= tolerance for c in counts):
                    break
                sizes = np.arange(start, min(start + CHUNK, n + 1))
                members = rank[None, :] < sizes[:, None]
                counts.extend(_cached(game, members, cache))
            if tolerance is not None and any(abs(c - full) <= tolerance for c in counts):
                stop = next(j for j, c in enumerate(counts) if abs(c - full) <= tolerance)
                counts = counts[:stop + 1] + [counts[stop]] * (n - stop)
            gains[p, order] = np.diff(np.asarray(counts[:n + 1], dtype=np.int64))
            shown.update(1)
    se = gains.std(axis=0, ddof=1) / math.sqrt(permutations) if permutations > 1 else np.full(n, np.nan)
    return gains.mean(axis=0), se


def _cached(game: _Game, members: np.ndarray, cache: dict | None) -> list[int]:
    if cache is None:
        return list(game.correct(members))
    keys = [np.packbits(m).tobytes() for m in members]
    missing = [i for i, key in enumerate(keys) if key not in cache]
    if missing:
        for i, c in zip(missing, game.correct(members[missing])):
            cache[keys[i]] = int(c)
    return [cache[key] for key in keys]


def contributor_values(run: Run, *, exact_limit: int = EXACT_LIMIT, permutations: int = 200, seed: int = 0,
                       progress: bool = False) -> pd.DataFrame:
    """Shapley value of each contributor's data to the run's final test accuracy.

    Parameters
    ----------
    run : Run
    exact_limit : int
        Up to this many contributors with data, exact values over all 2**n coalitions; beyond it, a
        Monte Carlo estimate.
    permutations : int
        Random orders of the contributors for the Monte Carlo estimate.
    seed : int
        Seeds the permutations.
    progress : bool
        Show progress bars.

    Returns
    -------
    DataFrame
        One row per contributor (those who added nothing too, valued 0): ``contributor``, ``kind``,
        ``contributions``, ``value`` (accuracy, a fraction of the test set), ``value_se`` (0 when exact),
        ``value_exact`` (a :class:`fractions.Fraction` when exact, else None) and ``method``. The values add
        up to the final model's accuracy minus the initial model's (exactly when exact).
    """
    from .progress import bar

    names = list(run.kinds)
    players = list(dict.fromkeys(run.contributors))
    owner = np.array([players.index(c) for c in run.contributors], dtype=np.int64)
    game = _Game(run, owner, len(players))
    _check_replay(game, run)
    m = len(players)
    if m <= exact_limit:
        masks = np.arange(1 << m)
        members = ((masks[:, None] >> np.arange(m)) & 1).astype(bool)
        with bar(progress, total=len(masks), desc=f"{run.name}: coalitions", unit="coalition") as shown:
            correct = game.correct(members, progress=shown)
        exact = dict(zip(players, _shapley_exact(correct, m, game.n_test)))
        values = {p: float(v) for p, v in exact.items()}
        se = dict.fromkeys(players, 0.0)
        method = f"exact ({1 << m} coalitions)"
    else:
        mean, error = _permutation_values(game, permutations, np.random.default_rng(seed), progress=progress,
                                          cache={})
        values, se = dict(zip(players, mean / game.n_test)), dict(zip(players, error / game.n_test))
        exact, method = {}, f"Monte Carlo ({permutations} permutations, seed {seed})"
    counts = pd.Series(run.contributors).value_counts()
    return pd.DataFrame({"contributor": names, "kind": [run.kinds[n] for n in names],
                         "contributions": [int(counts.get(n, 0)) for n in names],
                         "value": [values.get(n, 0.0) for n in names],
                         "value_se": [se.get(n, 0.0) for n in names],
                         "value_exact": [exact.get(n, Fraction(0) if n not in players else None) for n in names],
                         "method": [method if n in players else "null player (no contributions)" for n in names]})


def sample_values(run: Run, *, permutations: int = 10, truncation: float | None = None, seed: int = 0,
                  progress: bool = False) -> pd.DataFrame:
    """Leave-one-out and TMC-Shapley values of each contribution to the run's final test accuracy.

    Parameters
    ----------
    run : Run
    permutations : int
        Random orders of the contributions for TMC-Shapley (each costs one model evaluation per
        contribution); 0 skips it.
    truncation : float, optional
        TMC's truncation: an accuracy difference from the final model's below which a permutation stops
        (off by default: see the module's docstring).
    seed : int
        Seeds the random orders (the same seed, the same values).
    progress : bool
        A bar for leave-one-out and one for the permutations.

    Returns
    -------
    DataFrame
        One row per contribution in the order added: ``position``, ``contributor``, ``kind``, ``label``
        (given), the run's records (``time_h``, ``sample``, ``true_label``) when known, ``loo`` (final
        accuracy minus the accuracy without it; exact), ``shapley`` and ``shapley_se`` (accuracy).
    """
    from .progress import bar

    n = len(run.labels)
    game = _Game(run, np.arange(n), n)
    full = _check_replay(game, run)
    with bar(progress, total=n, desc=f"{run.name}: leave-one-out", unit="contribution") as shown:
        without = game.without_each(progress=shown)
    table = pd.DataFrame({"position": np.arange(n), "contributor": run.contributors,
                          "kind": [run.kinds.get(c, "") for c in run.contributors], "label": run.labels})
    if run.records is not None:
        table = pd.concat([table, run.records.reset_index(drop=True)], axis=1)
    table["loo"] = (full - without) / game.n_test
    if permutations and n:
        mean, se = _permutation_values(game, permutations, np.random.default_rng(seed), truncation, progress)
        table["shapley"], table["shapley_se"] = mean / game.n_test, se / game.n_test
    else:
        table["shapley"], table["shapley_se"] = np.nan, np.nan
    return table


def _check_replay(game: _Game, run: Run) -> int:
    """The grand coalition's correct predictions, checked against the twin's own replay and the run's
    recorded final accuracy: the valuation replays the run it names or refuses."""
    full = int(game.correct(np.ones((1, game.n_units), dtype=bool))[0])
    twin = game._count(game.replay(np.arange(len(run.labels))))
    if full != twin:
        raise AssertionError(f"the batched replay gets {full} test samples right, the twin's own replay {twin}: "
                             "stop and investigate")
    if run.recorded_accuracy is not None and abs(full / game.n_test - run.recorded_accuracy) > 1e-12:
        raise ValueError(f"replaying {run.name!r} from its initial state gives accuracy {full / game.n_test:.6f}, the run "
                         f"recorded {run.recorded_accuracy:.6f} at its end: the results folder and this replay disagree")
    return full


@dataclass
class Valuation:
    """Values of data beside payouts, for one or more runs.

    Attributes
    ----------
    contributors : DataFrame
        One row per run and contributor: ``run``, ``mechanism``, ``contributor``, ``kind``,
        ``contributions``, ``value``, ``value_se``, ``value_exact``, ``method``, ``payout``, ``payout_unit``.
    contributions : DataFrame
        One row per run and contribution: ``run``, ``mechanism``, ``position``, ``contributor``, ``kind``,
        ``label``, ``loo``, ``shapley``, ``shapley_se``, ``payout``, ``payout_unit`` (and the run's records).
    settings : dict
        How the values were computed (and how long it took), per run.
    """

    contributors: pd.DataFrame
    contributions: pd.DataFrame
    settings: dict = field(default_factory=dict)

    @property
    def correlations(self) -> pd.DataFrame:
        """Spearman rank correlation of value and payout, per run: across contributors (Shapley value)
        and across contributions (leave-one-out and TMC-Shapley), with the number of pairs and the p-value
        (NaN where fewer than three pairs or a constant side leave it undefined)."""
        rows = []
        for level, table, measures in (("contributors", self.contributors, ("value",)),
                                       ("contributions", self.contributions, ("loo", "shapley"))):
            for run, group in table.groupby("run", sort=False):
                for measure in measures:
                    rho, p, n = _spearman(group[measure], group["payout"])
                    rows.append({"run": run, "mechanism": group["mechanism"].iloc[0], "level": level,
                                 "value": "shapley" if measure == "value" else measure, "pairs": n,
                                 "spearman": rho, "p_value": p})
        return pd.DataFrame(rows, columns=["run", "mechanism", "level", "value", "pairs", "spearman", "p_value"])

    @property
    def by_kind(self) -> pd.DataFrame:
        """Per run and contributor kind: contributors, contributions, the value created and the payout
        received (sums), and each as a share. A share is the kind's total over the sum of all kinds'
        absolute totals: signed (a negative share is harm done or money lost) and the shares' absolute
        values add up to 1, so that value and payout compare on one scale although they have different
        units and may sum to anything (Deposit-Refund-Take's net payouts sum to at most zero)."""
        frames = []
        for run, group in self.contributors.groupby("run", sort=False):
            kinds = group.groupby("kind", sort=False).agg(contributors=("contributor", "size"),
                                                          contributions=("contributions", "sum"),
                                                          value=("value", "sum"), payout=("payout", "sum"))
            for column in ("value", "payout"):
                scale = kinds[column].abs().sum()
                kinds[f"{column}_share"] = kinds[column] / scale if scale > 0 else np.nan
            kinds = kinds.reset_index()
            kinds.insert(0, "mechanism", group["mechanism"].iloc[0])
            kinds.insert(0, "run", run)
            kinds["payout_unit"] = group["payout_unit"].iloc[0]
            frames.append(kinds)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def plot(self, path=None):
        """Value against payout per contributor, one panel per run (so one per mechanism when the runs
        differ by mechanism); Monte Carlo values with their standard errors as bars. ``path`` (optional)
        saves the figure there (PNG or SVG by its suffix). Returns the figure."""
        import matplotlib.pyplot as plt

        runs = list(dict.fromkeys(self.contributors["run"]))
        figure, axes = plt.subplots(1, len(runs), figsize=(4.6 * len(runs) + 1.6, 4.2), squeeze=False)
        kinds = list(dict.fromkeys(self.contributors["kind"]))
        styles = dict(zip(kinds, zip(plt.rcParams["axes.prop_cycle"].by_key()["color"], "osD^vP*X")))
        correlations = self.correlations
        for ax, run in zip(axes[0], runs):
            rows = self.contributors[self.contributors["run"] == run]
            for kind, group in rows.groupby("kind", sort=False):
                color, marker = styles[kind]
                ax.scatter(100 * group["value"], group["payout"], marker=marker, color=color, s=40, zorder=3,
                           alpha=0.75, label=kind or "(no kind)")  # points on one spot stay visible
                if (group["value_se"] > 0).any():
                    ax.errorbar(100 * group["value"], group["payout"], xerr=100 * group["value_se"], fmt="none",
                                ecolor=color, capsize=3)
            ax.axhline(0, color="grey", lw=0.6)
            ax.axvline(0, color="grey", lw=0.6)
            ax.set_xlabel("value: Shapley share of the accuracy change\n(percentage points of test accuracy)")
            unit = rows["payout_unit"].iloc[0]
            ax.set_ylabel("payout (points)" if unit == "points" else f"net payout ({unit})")
            rho = correlations[(correlations["run"] == run) & (correlations["level"] == "contributors")]
            r = rho["spearman"].iloc[0] if len(rho) else np.nan
            mechanism = rows["mechanism"].iloc[0]
            heading = mechanism if run == mechanism else f"{run}\n{mechanism}"  # a run named after its mechanism: once
            ax.set_title(f"{heading}: Spearman ρ = {'undefined' if np.isnan(r) else f'{r:.2f}'} "
                         f"({len(rows)} contributors)", fontsize="medium")
            ax.margins(x=0.25, y=0.2)
        figure.tight_layout()
        for ax, run in zip(axes[0], runs):  # once the axes have their final size
            rows = self.contributors[self.contributors["run"] == run]
            _label_points(ax, 100 * rows["value"].to_numpy(), rows["payout"].to_numpy(), list(rows["contributor"]))
        by_label = {}
        for ax in axes[0]:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                by_label.setdefault(label, handle)
        figure.legend(list(by_label.values()), list(by_label), title="contributor kind", loc="center left",
                      bbox_to_anchor=(1.0, 0.5), frameon=False)
        if path is not None:
            figure.savefig(path, dpi=120, bbox_inches="tight")
        return figure

    def save(self, folder) -> Path:
        """Write ``contributors.csv``, ``contributions.csv``, ``correlations.csv``, ``by_kind.csv``,
        ``valuation.json`` (settings) and the figure (``value_payout.png``, ``.svg``) to ``folder``."""
        from .plots import save

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tables = {"contributors": self.contributors, "contributions": self.contributions,
                  "correlations": self.correlations, "by_kind": self.by_kind}
        for name, table in tables.items():
            write_whole(folder / f"{name}.csv", table.to_csv(index=False))
        write_whole(folder / "valuation.json", json.dumps(self.settings, indent=1, default=str))
        save(self.plot(), folder, "value_payout")
        return folder

    @classmethod
    def load(cls, folder) -> "Valuation":
        """Read a folder :meth:`save` wrote (exact values back as fractions)."""
        folder = Path(folder)
        contributors = pd.read_csv(folder / "contributors.csv", keep_default_na=True)
        contributors["value_exact"] = [None if pd.isna(v) else Fraction(str(v)) for v in contributors["value_exact"]]
        for column in ("kind", "contributor"):
            contributors[column] = contributors[column].astype(object).where(contributors[column].notna(), "")
        return cls(contributors, pd.read_csv(folder / "contributions.csv"),
                   json.loads((folder / "valuation.json").read_text()))


def _spearman(a, b) -> tuple[float, float, int]:
    from scipy.stats import spearmanr

    pairs = pd.DataFrame({"a": a, "b": b}).dropna()
    if len(pairs) < 3 or pairs["a"].nunique() < 2 or pairs["b"].nunique() < 2:
        return np.nan, np.nan, len(pairs)
    rho, p = spearmanr(pairs["a"], pairs["b"])
    return float(rho), float(p), len(pairs)


def _label_points(ax, x, y, names) -> None:
    """Each point's name beside it, at the first of a few places around the point where it stays inside
    the axes, overlaps no name placed before and no other point's marker, and lies nearer its own point
    than any other (else the first such place free of overlaps, else the first place; the figure is drawn
    to measure the labels)."""
    from matplotlib.transforms import Bbox

    renderer = ax.figure.canvas.get_renderer()
    ax.figure.canvas.draw()
    points = ax.transData.transform(np.column_stack([x, y]))
    frame = ax.get_window_extent(renderer)
    r = renderer.points_to_pixels(4)  # a marker's half width (s=40: about 3.2 points), with a little room
    places = [((7, 4), "left", "bottom"), ((7, -4), "left", "top"), ((-7, 4), "right", "bottom"),
              ((-7, -4), "right", "top"), ((0, 9), "center", "bottom"), ((0, -9), "center", "top")]

    def distance(box, px, py):
        return np.hypot(max(box.x0 - px, 0, px - box.x1), max(box.y0 - py, 0, py - box.y1))

    taken = []
    for i in np.lexsort((x, -y)):
        free = []
        for place in places:
            offset, ha, va = place
            label = ax.annotate(names[i], (x[i], y[i]), textcoords="offset points", xytext=offset, ha=ha, va=va,
                                fontsize="x-small")
            box = label.get_window_extent(renderer).expanded(1.05, 1.1)
            label.remove()
            others = [(px, py) for j, (px, py) in enumerate(points) if j != i]
            near = [Bbox.from_extents(px - r, py - r, px + r, py + r) for px, py in others]
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if not inside or any(box.overlaps(other) for other in taken + near):
                continue
            free.append((place, box))
            if all(distance(box, *points[i]) < distance(box, px, py) for px, py in others):
                free.insert(0, free.pop())
                break
        (offset, ha, va), box = free[0] if free else (places[0], None)
        label = ax.annotate(names[i], (x[i], y[i]), textcoords="offset points", xytext=offset, ha=ha, va=va,
                            fontsize="x-small")
        taken.append(box if box is not None else label.get_window_extent(renderer))


def value(results, *, out=None, exact_limit: int = EXACT_LIMIT, permutations: int = 200,
          sample_permutations: int = 10, truncation: float | None = None, samples: bool = True, seed: int = 0,
          progress: bool = False) -> Valuation:
    """Value the data of one or more finished runs and put it beside what their mechanisms paid.

    The one call behind ``dcai-lab value RESULT_FOLDER`` and a config's ``valuation = true``.

    Parameters
    ----------
    results : path, Result, Run, or a list or dict of them
        Results folders (or loaded results, or :class:`Run` objects); a dict names each run by its key.
    out : path, optional
        Also save the valuation there (:meth:`Valuation.save`).
    exact_limit : int
        Exact contributor Shapley values up to this many contributors with data (2**n coalitions), Monte
        Carlo beyond.
    permutations : int
        Permutations of contributors for the Monte Carlo estimate.
    sample_permutations : int
        Permutations of contributions for TMC-Shapley per contribution (0: leave-one-out only).
    truncation : float, optional
        TMC's truncation tolerance (accuracy), off by default.
    samples : bool
        Value each contribution too (leave-one-out and TMC-Shapley); False values contributors only.
    seed : int
        Seeds every permutation.
    progress : bool
        Show progress bars.

    Returns
    -------
    Valuation
    """
    if isinstance(results, dict):
        named = list(results.items())
    else:
        named = [(None, r) for r in (results if isinstance(results, (list, tuple)) else [results])]
    contributors, contributions, settings = [], [], {}
    for name, result in named:
        run = result if isinstance(result, Run) else Run.from_result(result, name)
        run.name = name or run.name
        if run.name in settings:
            raise ValueError(f"two runs named {run.name!r}: name them (pass a dict)")
        started = time.perf_counter()
        people = contributor_values(run, exact_limit=exact_limit, permutations=permutations, seed=seed,
                                    progress=progress)
        people["payout"] = [(run.payouts or {}).get(c, np.nan) for c in people["contributor"]]
        contributors.append(_tag(people, run))
        timed = {"contributors_seconds": round(time.perf_counter() - started, 3)}
        if samples:
            started = time.perf_counter()
            table = sample_values(run, permutations=sample_permutations, truncation=truncation, seed=seed,
                                  progress=progress)
            table["payout"] = np.nan if run.contribution_payouts is None else run.contribution_payouts
            contributions.append(_tag(table, run))
            timed["contributions_seconds"] = round(time.perf_counter() - started, 3)
        settings[run.name] = {"mechanism": run.mechanism, "contributions": len(run.labels),
                              "test_samples": len(run.y_test), "exact_limit": exact_limit,
                              "permutations": permutations, "sample_permutations": sample_permutations if samples else 0,
                              "truncation": truncation, "seed": seed, "payout_unit": run.payout_unit, **timed}
    contribution_columns = ["run", "mechanism", "position", "contributor", "kind", "label", "loo", "shapley",
                            "shapley_se", "payout", "payout_unit"]
    valuation = Valuation(pd.concat(contributors, ignore_index=True),
                          pd.concat(contributions, ignore_index=True) if contributions
                          else pd.DataFrame(columns=contribution_columns), settings)
    if out is not None:
        valuation.save(out)
    return valuation


def _tag(table: pd.DataFrame, run: Run) -> pd.DataFrame:
    table.insert(0, "mechanism", run.mechanism)
    table.insert(0, "run", run.name)
    table["payout_unit"] = run.payout_unit
    return table
