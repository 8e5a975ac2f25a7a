"""Checks for the workshop exercises (``notebooks/06_workshop_exercises.ipynb``).

Each check works the right answer out itself, on the chain or from the tables the notebook measured, and
raises :class:`Unanswered` or :class:`WrongAnswer` (both AssertionErrors) with a hint; it prints a line
when the answer is right.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from . import datasets, incentives, subsets
from .chain import Chain
from .encoded import encode
from .files import write_whole
from .models import registry

ETHER = 10**18
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "06_workshop_exercises.ipynb"
#: Where the learners' copy goes unless told: outside the checkout, so a ``git pull`` or ``make test`` in the
#: checkout never meets a learner's edits, and a learner's copy never meets the solutions.
DEFAULT_OUT = Path.home() / "dcai-lab-workshop"
SOLUTION = "solution"


class Unanswered(AssertionError):
    """The answer is still the placeholder."""


class WrongAnswer(AssertionError):
    """The answer is not right; the message says why and hints at the way."""


def _answered(answer, what: str):
    if answer is None:
        raise Unanswered(f"replace None with {what}, then run this cell again")


def check_deposit(system, answer) -> None:
    """Exercise 1: the deposit Deposit-Refund-Take asks for the next transaction, in wei."""
    _answered(answer, "the deposit in wei (an integer)")
    expected = system.deposit_required()
    if answer != expected:
        raise WrongAnswer(f"{answer} wei is not it. deposit = cost_weight * 3600 // isqrt(seconds since the last "
                          "update); the next transaction comes one second after the latest block "
                          "(chain.now + 1), and isqrt rounds down (math.isqrt)")
    print(f"Right: {expected:,} wei.")


SPAM_INTERVAL, SPAM_COUNT, HONEST_GAP = 60, 60, 600


def spam_price(cost_weight: int, dataset: str = "breast_cancer") -> dict:
    """On a fresh chain under Deposit-Refund-Take with ``cost_weight``: what a spammer adding every minute
    for an hour deposits in all, and what an honest contribution ten minutes after the last one deposits."""
    task = datasets.task(dataset)
    train = datasets.load(dataset, "train")
    model = registry.entry("perceptron")
    enc = model.default_encoder(task, train)
    X, y = encode(task, enc, train)
    order = subsets.draw(y, SPAM_COUNT + 51, 0)  # stratified random samples: 50 to train, the rest to send
    X, y = subsets.take(X, y, order)
    twin = model.make(n_features=enc.n_features, n_classes=task.n_classes, seed=0).fit(X[:50], y[:50])
    chain = Chain()
    system = incentives.DepositRefundTake(cost_weight=int(cost_weight)).deploy(chain, twin)
    spammer, honest = chain.accounts[1:3]
    spent = 0
    for i in range(SPAM_COUNT):
        chain.time_travel(SPAM_INTERVAL)
        spent += system.add_data(X[50 + i], 1 - int(y[50 + i]), sender=spammer).deposit
    chain.time_travel(HONEST_GAP)
    honest_deposit = system.add_data(X[50 + SPAM_COUNT], int(y[50 + SPAM_COUNT]), sender=honest).deposit
    return {"spammer_hour_wei": spent, "honest_wei": honest_deposit}


def check_spam_price(cost_weight, spammer_min: int = ETHER, honest_max: int = ETHER // 100) -> dict:
    """Exercise 2: a cost weight that makes an hour of spam cost at least ``spammer_min`` wei while an
    honest contribution after a ten-minute gap costs at most ``honest_max`` wei. Measured on the chain."""
    _answered(cost_weight, "a cost weight (an integer, in wei)")
    if not isinstance(cost_weight, int) or cost_weight <= 0:
        raise WrongAnswer(f"the cost weight must be a positive integer number of wei, got {cost_weight!r}")
    measured = spam_price(cost_weight)
    if measured["spammer_hour_wei"] < spammer_min:
        raise WrongAnswer(f"an hour of spam costs only {measured['spammer_hour_wei'] / ETHER:.4f} ether: raise the "
                          "cost weight (each spam deposit is cost_weight * 3600 // isqrt(60))")
    if measured["honest_wei"] > honest_max:
        raise WrongAnswer(f"an honest contribution now costs {measured['honest_wei'] / ETHER:.4f} ether, more than "
                          f"{honest_max / ETHER:g}: lower the cost weight (after 600 s the divisor is isqrt(600))")
    print(f"Right: an hour of spam costs {measured['spammer_hour_wei'] / ETHER:.3f} ether; an honest contribution "
          f"{measured['honest_wei'] / ETHER:.5f} ether.")
    return measured


def cheapest_model(gas: pd.DataFrame, accuracy: pd.DataFrame, target: float) -> str:
    """The model with the lowest mean add_data gas among those whose accuracy reaches ``target``.
    ``gas``: rows of (model, operation, gas) as ``experiments.measure_operations`` gives; ``accuracy``:
    rows of (model, accuracy)."""
    adds = gas[gas["operation"] == "add_data"].groupby("model")["gas"].mean()
    good = accuracy.set_index("model")["accuracy"]
    eligible = adds[good.reindex(adds.index) >= target]
    if eligible.empty:
        raise ValueError(f"no model reaches {target:.0%}: choose a lower target")
    return str(eligible.idxmin())


def check_cheapest(answer, gas: pd.DataFrame, accuracy: pd.DataFrame, target: float) -> None:
    """Exercise 3: the cheapest model (per contribution) that reaches ``target`` accuracy."""
    _answered(answer, 'a model name, e.g. "nb"')
    expected = cheapest_model(gas, accuracy, target)
    if answer != expected:
        acc = accuracy.set_index("model")["accuracy"].get(answer)
        if acc is not None and acc < target:
            raise WrongAnswer(f"{answer} reaches only {acc:.3f}, below the target {target}")
        raise WrongAnswer(f"{answer} is not the cheapest that reaches {target}: compare the mean add_data gas of the "
                          "models that do")
    print(f"Right: {expected}.")


def write_exercises(out: str | Path | None = None, notebook: str | Path | None = None) -> Path:
    """Write the learners' copy of the workshop notebook: cells tagged ``solution`` removed, outputs cleared.

    ``out`` is a folder (default ``~/dcai-lab-workshop``) or a path ending in ``.ipynb``; ``notebook`` the
    source (default: the checkout's ``notebooks/06_workshop_exercises.ipynb``). Returns the path written.
    An existing copy is not overwritten: a learner's answers are never lost.
    """
    source = Path(notebook) if notebook else NOTEBOOK
    if not source.is_file():
        raise FileNotFoundError(f"no workshop notebook at {source}: it ships with the repository's notebooks/ folder; "
                                "pass notebook= (or --notebook) pointing at 06_workshop_exercises.ipynb")
    target = Path(out).expanduser() if out else DEFAULT_OUT
    if target.suffix != ".ipynb":
        target = target / "exercises.ipynb"
    if target.exists():
        raise FileExistsError(f"{target} exists (perhaps with a learner's answers): remove it or choose another "
                              "folder (out= / --out)")
    nb = json.loads(source.read_text())
    kept = [cell for cell in nb["cells"] if SOLUTION not in cell.get("metadata", {}).get("tags", [])]
    if len(kept) == len(nb["cells"]):
        raise ValueError(f"{source} has no cells tagged {SOLUTION!r}: is it the workshop notebook?")
    for cell in kept:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    nb["cells"] = kept
    write_whole(target, json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return target
