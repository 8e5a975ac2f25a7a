"""The two simulation profiles: this lab's and the 2020 paper's, rule by rule."""
import numpy as np
import pandas as pd
import pytest

from dcai_lab import experiments
from dcai_lab.experiments.config import DAY, PROFILE_RULES, PROFILES, ExperimentConfig

SMALL_2020 = {"name": "fitness-2020", "dataset": "fitness_synthetic", "profile": "2020", "max_contributions": 60,
              "test_limit": 200, "seed": 1}


def test_a_profile_fills_what_a_config_leaves_out_and_a_config_wins():
    lab, paper = ExperimentConfig(), ExperimentConfig(profile="2020", dataset="fitness_synthetic")
    assert lab.contributors == PROFILES["lab"]["contributors"] and lab.claims == "at-evaluations"
    assert not lab.sweeps and not lab.until_all_claimed and lab.duration_days == 1.0
    assert [g["kind"] for g in paper.contributors] == ["good", "bad"]
    assert paper.claims == "at-own-events" and paper.sweeps and paper.until_all_claimed
    assert paper.eval_interval_hours == pytest.approx(200_000 / 3600)
    assert (paper.initial_samples, paper.max_contributions) == (100, 3_400)  # the paper's Endomondo subset
    mechanism = paper.mechanism()
    assert mechanism.sweep_after == 9 * DAY == mechanism.owner_claim_wait
    mine = ExperimentConfig.from_dict({"profile": "2020", "claims": "at-evaluations", "incentive_params":
                                       {"any_address_claim_wait": 12 * DAY}})
    assert mine.claims == "at-evaluations" and mine.mechanism().sweep_after == 12 * DAY
    assert mine.mechanism().owner_claim_wait == 9 * DAY
    assert {rule for rule, _, _ in PROFILE_RULES} >= {"contributors", "claims", "sweeps", "length"}


@pytest.mark.parametrize("values, message", [
    ({"profile": "2019"}, "unknown profile '2019'"),
    ({"claims": "whenever"}, "claims must be one of"),
    ({"profile": "2020", "incentive": "prediction-market"}, "until_all_claimed = false"),
    ({"duration_days": 0}, "duration_days must be positive"),
    ({"initial_samples": 0}, "initial_samples must be at least 1"),
    ({"contributors": [{"kind": "good", "wait_std": -1}]}, "wait_std must be zero or more"),
    ({"contributors": [{"kind": "bad", "patience": 3}]}, "unknown contributor settings \\['patience'\\]"),
])
def test_bad_profile_settings_are_refused_by_name(values, message):
    with pytest.raises(ValueError, match=message):
        ExperimentConfig.from_dict(values)


@pytest.fixture(scope="module")
def gas_cache(tmp_path_factory):
    """One cache of fitted gas models for the module: its twin-only runs share a setting (the key ignores
    seed, test limit and length), so the short chain run that fits it runs once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def paper_run():  # on the embedded chain: ~80 s on 2 cores
    return experiments.run(SMALL_2020, progress=False)


@pytest.mark.slow
def test_the_2020_profile_runs_until_the_data_is_used_up_and_every_deposit_is_claimed(paper_run):
    result = paper_run
    added = result.contributions[result.contributions["outcome"] == "added"]
    assert len(added) == 60 == result.manifest["pool_samples"]
    assert result.manifest["initial_samples"] == 100
    # Deposits move only between contributors, so once every deposit is claimed the balances sum to the start.
    last = result.balances[result.balances["time_h"] == result.balances["time_h"].max()]
    assert last["balance_percent"].sum() == pytest.approx(200, abs=1e-9)
    # the bad agent's deposits are reported or swept after 9 days; no refund goes to a flipped label
    refunds = result.gas[result.gas["operation"] == "refund"]
    assert len(refunds) > 0 and set(result.gas["operation"]) >= {"add_data", "refund", "report"}
    assert result.accuracy["time_h"].iloc[-1] >= added["time_h"].max() + 24  # claims came due before the end
    assert result.accuracy["onchain_checked"].iloc[-1] > 0


@pytest.mark.slow
def test_the_2020_agents_act_as_the_paper_describes(paper_run):
    rows = paper_run.contributions
    bad = rows[rows["kind"] == "bad"]
    gaps = np.diff(bad["time_h"].to_numpy() * 3600)
    assert len(gaps) > 3 and np.all(np.abs(gaps - 3600) <= 5)  # N(3600 s, 1 s): near-periodic turns
    added = rows[rows["outcome"] == "added"]
    assert (added[added["kind"] == "bad"]["label"] != added[added["kind"] == "bad"]["true_label"]).all()


@pytest.mark.slow
def test_the_2020_profile_gives_the_same_on_chain_and_twin_only(paper_run, gas_cache, monkeypatch):
    monkeypatch.setenv("DCAI_LAB_CACHE", str(gas_cache))
    twin = experiments.run({**SMALL_2020, "backend": "twin"}, progress=False)
    assert twin.accuracy["accuracy"].tolist() == paper_run.accuracy["accuracy"].tolist()
    assert twin.balances["balance_percent"].tolist() == paper_run.balances["balance_percent"].tolist()
    assert twin.contributions["outcome"].tolist() == paper_run.contributions["outcome"].tolist()


def test_a_deposit_is_capped_by_the_balance_and_a_contributor_at_zero_stops():
    # 10 units: with three contributors busy a deposit is ~4 units, so the adversary soon cannot pay
    config = {"name": "broke", "dataset": "fitness_synthetic", "duration_days": 2.0, "eval_interval_hours": 6.0,
              "test_limit": 200, "initial_balance": 10, "backend": "twin", "seed": 2,
              "contributors": [{"kind": "honest", "count": 2}, {"kind": "adversarial", "count": 1}]}
    result = experiments.run(config, progress=False)
    assert (result.balances["balance_percent"] >= 0).all()
    adversary = result.contributions[result.contributions["kind"] == "adversarial"]
    assert (adversary["outcome"] == "skipped: balance too low").any()
    assert (adversary["outcome"] == "added").any()  # it pays while it can (refunds come back now and then)


def test_the_good_agent_contributes_with_probability_accuracy_plus_its_margin(gas_cache, monkeypatch):
    monkeypatch.setenv("DCAI_LAB_CACHE", str(gas_cache))
    # a negative margin makes the rule visible: with accuracy ~0.93 it works about 43% of its turns
    config = {**SMALL_2020, "backend": "twin", "max_contributions": 200,
              "contributors": [{"kind": "good", "accuracy_margin": -0.5}, {"kind": "bad"}]}
    result = experiments.run(config, progress=False)
    good = result.contributions[result.contributions["kind"] == "good"]
    accuracy = result.accuracy["accuracy"].mean()
    share = (good["outcome"] == "added").mean()
    assert abs(share - (accuracy - 0.5)) < 0.1, (share, accuracy)


def test_the_documented_2020_configs_load_and_one_runs_from_the_cli(tmp_path, gas_cache, capsys, monkeypatch):
    from pathlib import Path

    from dcai_lab import cli

    monkeypatch.setenv("DCAI_LAB_CACHE", str(gas_cache))
    configs = Path(__file__).resolve().parents[2] / "configs"
    for name in ("fitness_drt_perceptron_2020.toml", "imdb_drt_perceptron_2020.toml",
                 "imdb_drt_perceptron_2020_decreasing.toml"):
        config = ExperimentConfig.from_toml(configs / name)
        assert config.profile == "2020" and config.until_all_claimed and config.claims == "at-own-events"
    assert config.model_params == {"step_decay": 1000}
    assert cli.main(["run", str(configs / "fitness_drt_perceptron_2020.toml"), "--backend", "twin", "--out",
                     str(tmp_path / "run"), "--quiet"]) == 0
    assert "accuracy" in capsys.readouterr().out
    rows = pd.read_csv(tmp_path / "run" / "contributions.csv")
    assert (rows["outcome"] == "added").sum() == 3_400
