"""Valuing a real results folder: the run replayed from its data and seed, its claims recorded per
contribution, payouts beside values."""
import matplotlib
import numpy as np
import pytest

from dcai_lab import experiments, valuation
from dcai_lab.results import Result

matplotlib.use("Agg")
SMALL = {"name": "fitness-value", "dataset": "fitness_synthetic", "duration_days": 1.0, "eval_interval_hours": 3.0,
         "test_limit": 200, "max_contributions": 60, "seed": 0}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("results") / "fitness"
    experiments.run(SMALL, out=folder, progress=False)
    return folder


def test_claims_recorded_per_contribution_add_up_to_the_balances(folder):
    result = Result.load(folder)
    added = result.contributions[result.contributions["outcome"] == "added"]
    assert set(added["validated"]) <= {0, 1} and (added["refund"] <= added["deposit"]).all()
    assert (added.loc[added["validated"] == 1, "refund"] > 0).all()
    # ether only moves among contributors: what every contribution returned or lost to takers, less its
    # deposit, is what every balance moved
    unit = experiments.ExperimentConfig.coerce(result.config).mechanism().deposit_unit()
    final = result.balances.groupby("contributor").last()
    moved = ((final["balance_percent"] / 100 - 1) * result.config["initial_balance"] * unit).sum()
    assert moved == pytest.approx(float((added["refund"] + added["taken"] - added["deposit"]).sum()), rel=1e-9)


def test_a_results_folder_is_valued_against_its_payouts(folder):
    v = valuation.value(folder, out=folder / "valuation", sample_permutations=2)  # refuses a replay that misses
    result = Result.load(folder)
    added = result.contributions[result.contributions["outcome"] == "added"].reset_index(drop=True)
    people = v.contributors.set_index("contributor")
    assert set(people.index) == set(result.balances["contributor"])
    assert sum(people["value_exact"]) == pytest.approx(people["value"].sum())
    assert people.loc["adversarial-1", "payout"] < 0 and (people["payout_unit"] == "ether").all()
    per = v.contributions
    assert per["payout"].tolist() == pytest.approx(((added["refund"] - added["deposit"]) / 10**18).tolist())
    assert per["sample"].tolist() == added["sample"].tolist() and np.isfinite(per["loo"]).all()
    for column in valuation.RECORDED:  # what came of each contribution, beside its value
        assert per[column].tolist() == added[column].tolist(), column
    assert {"contributors", "contributions"} <= set(v.correlations["level"])
    assert (folder / "valuation" / "value_payout.png").is_file()


def test_a_config_asks_for_valuation_and_the_cli_values_a_folder(tmp_path, capsys):
    from dcai_lab import cli, experiments

    settings = {"name": "valued", "dataset": "fitness_synthetic", "model": "nb", "incentive": "points",
                "initial_fraction": 0.05, "duration_days": 0.25, "eval_interval_hours": 3.0, "test_limit": 200,
                "backend": "twin", "contributors": [{"kind": "honest", "count": 2}, {"kind": "free-rider"}],
                "valuation": {"sample_permutations": 0}}
    result = experiments.run(settings, out=tmp_path / "run", progress=False)
    people = result.valuation.contributors.set_index("contributor")
    assert set(people.index) == {"honest-1", "honest-2", "free-rider-1"}
    assert people.loc["free-rider-1", "value"] == 0  # no data, no value: whatever it was paid
    assert (tmp_path / "run" / "valuation" / "contributors.csv").is_file()
    final = result.balances.groupby("contributor")["points"].last()
    assert (people["payout"] == final.reindex(people.index)).all()  # Points pays points
    with pytest.raises(ValueError, match="unknown valuation settings"):
        experiments.run({**settings, "valuation": {"permutation": 3}}, progress=False)
    # the command line values the saved folder again, contributors only
    assert cli.main(["value", str(tmp_path / "run"), "--out", str(tmp_path / "again"), "--contributors-only",
                     "--quiet"]) == 0
    assert "spearman" in capsys.readouterr().out
    assert (tmp_path / "again" / "value_payout.png").is_file()
