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


def test_learners_copy_has_no_solutions_and_goes_outside_the_checkout(tmp_path, monkeypatch):
    import json

    monkeypatch.setattr(workshop, "DEFAULT_OUT", tmp_path / "home" / "dcai-lab-workshop")
    written = workshop.write_exercises()
    assert written == tmp_path / "home" / "dcai-lab-workshop" / "exercises.ipynb"
    source = json.loads(workshop.NOTEBOOK.read_text())["cells"]
    cells = json.loads(written.read_text())["cells"]
    solutions = [c for c in source if "solution" in c["metadata"].get("tags", [])]
    assert solutions and len(cells) == len(source) - len(solutions)
    assert all("solution" not in c["metadata"].get("tags", []) for c in cells)
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in cells if c["cell_type"] == "code")
    # the exercises and their checks stay
    assert any("workshop.check_deposit" in "".join(c["source"]) for c in cells)
    # a learner's copy is never overwritten
    with pytest.raises(FileExistsError, match="exists"):
        workshop.write_exercises()
    # the default is outside the checkout
    repo = workshop.NOTEBOOK.parents[1]
    monkeypatch.undo()
    assert repo not in workshop.DEFAULT_OUT.parents


def test_learners_copy_refuses_a_notebook_without_solutions(tmp_path):
    import json

    plain = tmp_path / "plain.ipynb"
    plain.write_text(json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "source": "1", "outputs": [],
                                            "execution_count": 1}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    with pytest.raises(ValueError, match="no cells tagged 'solution'"):
        workshop.write_exercises(tmp_path / "out", notebook=plain)
    with pytest.raises(FileNotFoundError, match="no workshop notebook"):
        workshop.write_exercises(tmp_path / "out", notebook=tmp_path / "missing.ipynb")


def test_workshop_command_writes_once_then_refuses(tmp_path, capsys):
    from dcai_lab.cli import main

    assert main(["workshop", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "exercises.ipynb").is_file()
    assert main(["workshop", "--out", str(tmp_path)]) == 2
    assert "exists" in capsys.readouterr().err
