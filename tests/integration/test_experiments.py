"""Experiments: contributor policies against the contract rules, results folders, tables, figures, CLI."""
import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from dcai_lab import cli, datasets, experiments
from dcai_lab.results import Result

matplotlib.use("Agg")
SMALL = {"name": "fitness", "dataset": "fitness_synthetic", "duration_days": 1.0, "eval_interval_hours": 3.0,
         "test_limit": 300, "seed": 0}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    folder = tmp_path_factory.mktemp("results") / "fitness"
    return experiments.run(SMALL, out=folder, progress=False), folder


def final_balances(result):
    last = result.balances[result.balances["time_h"] == result.balances["time_h"].max()]
    return dict(zip(last["contributor"], last["balance_percent"]))


def test_honest_contributors_gain_and_the_adversary_loses(result):
    balances = final_balances(result[0])
    assert all(v > 100 for name, v in balances.items() if name.startswith("honest")), balances
    assert balances["adversarial-1"] < 100


def test_contributors_label_as_their_kind_says(result):
    added = result[0].contributions[result[0].contributions["outcome"] == "added"]
    adversarial = added[added["kind"] == "adversarial"]
    honest = added[added["kind"] == "honest"]
    assert len(adversarial) > 5 and (adversarial["label"] != adversarial["true_label"]).all()
    assert (honest["label"] == honest["true_label"]).mean() > 0.9
    assert (added["deposit"] > 0).all() and (added["gas_used"] > 21_000).all()


def test_accuracy_is_checked_on_chain_and_tied_to_the_test_set(result):
    r = result[0]
    assert (r.accuracy["onchain_checked"] == 50).all()
    assert (r.accuracy["test_set_sha256"] == r.manifest["test_set_sha256"]).all()
    assert r.accuracy["contributions"].is_monotonic_increasing
    assert 0.5 < r.accuracy["accuracy"].iloc[-1] <= 1


def test_results_folder_reads_back(result):
    r, folder = result
    back = Result.load(folder)
    assert back.config["dataset"] == "fitness_synthetic" and back.manifest["fork"] == "prague"
    assert back.manifest["compiler"].startswith("solc-js 0.8.37")
    assert len(back.accuracy) == len(r.accuracy) and len(back.gas) == len(r.gas)
    assert back.gas_table().loc["add_data", "transactions"] == (r.contributions["outcome"] == "added").sum()
    with pytest.raises(FileNotFoundError, match="not a results folder"):
        Result.load(folder.parent)


def test_gas_table_prices_operations(result):
    table = result[0].gas_table()
    assert list(table.index) == ["deploy", "add_data", "refund", "report"]
    assert table.loc["add_data", "usd"] == pytest.approx(table.loc["add_data", "gas"] * 4e-9 * 373, abs=1e-4)
    assert table.loc["deploy", "gas_is"].startswith("total") and table.loc["refund", "gas_is"].startswith("mean")


def test_figure_has_balances_and_accuracy(result, tmp_path):
    figure = result[0].plot()
    accuracy, balances = figure.axes
    assert accuracy.get_ylabel().startswith("accuracy") and len(balances.lines) == 4  # one per contributor
    low, high = accuracy.get_ylim()
    assert (low, high) != (0, 1) and low <= result[0].accuracy["accuracy"].min()  # fitted to the data
    assert all(line.get_marker() == "o" for line in balances.lines)  # measured points, marked
    paths = result[0].save_figures(tmp_path)
    assert all(p.stat().st_size > 1000 for p in paths)


def test_points_moves_no_money_and_awards_badges(tmp_path, result):
    thresholds = {"validated_few": 2, "validated_many": 3, "streak_length": 2}
    r = experiments.run({**SMALL, "incentive": "points", "incentive_params": thresholds, "duration_days": 0.25},
                        out=tmp_path / "points", progress=False)
    assert set(final_balances(r).values()) == {100.0}
    assert (r.contributions["deposit"] == 0).all()
    badges = r.badges()  # each contributor's at the end, from the balances' badges column
    assert list(badges.index) == list(final_balances(r)) and (badges["points"] > 0).any()
    for name, row in badges.iterrows():  # a first point, refund or report, always earns a badge
        assert bool(row["badges"]) == (row["points"] > 0), name
    assert {"first-validated", "validated-2", "validated-3"} <= {b for names in badges["badges"] for b in names}
    assert Result.load(tmp_path / "points").badges().equals(badges)
    assert "badges" not in result[0].balances and result[0].badges().empty  # Deposit-Refund-Take awards none


@pytest.mark.parametrize("settings, message", [
    ({"colour": "red"}, "unknown experiment settings"),
    ({"model": "svm"}, "unknown model"),
    ({"fork": "istanbul"}, "compiled for prague"),
    ({"contributors": [{"kind": "saboteur"}]}, "unknown contributor kind"),
    ({"dataset": "digits", "model": "perceptron"}, "is binary"),
    ({"model_params": {"alpha": 1e-4}}, r"no parameter \['alpha'\]; it takes .*step_decay"),
    ({"model_params": {"random_state": 1}}, "may not set"),
    ({"duration_days": "two"}, "duration_days must be a number or left out, got str 'two'"),
    ({"seed": "zero"}, "seed must be an integer, got str 'zero'"),
    ({"seed": 1.5}, "seed must be an integer, got float 1.5"),
    ({"eval_interval_hours": [1]}, r"eval_interval_hours must be a number or left out, got list \[1\]"),
    ({"max_contributions": "10"}, "max_contributions must be an integer or left out, got str '10'"),
    ({"max_contributions": 0}, "max_contributions must be positive, got 0"),
    ({"sweeps": "yes"}, "sweeps must be true or false or left out"),
    ({"incentive_params": {"refund_wait": "1 day"}}, "DepositRefundTake: refund_wait must be an integer"),
    ({"contributors": [{"kind": "honest", "interval": "often"}]}, "contributor kind 'honest': interval must be a number"),
    ({"contributors": [{"kind": "honest", "count": 2.5}]}, r"contributors\[0\].count must be a positive integer"),
    ({"contributors": ["honest"]}, r"contributors\[0\] must be a table with a kind"),
    ({"test_limit": -3}, "test_limit must be positive"),
])
def test_bad_configs_are_refused_clearly(settings, message):
    with pytest.raises(ValueError, match=message):
        experiments.run({**SMALL, **settings}, progress=False)


def test_cli_run_and_gas_table(tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text('name = "cli"\ndataset = "fitness_synthetic"\nduration_days = 0.25\ntest_limit = 100\n')
    assert cli.main(["run", str(config), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert {"accuracy_balances.png", "accuracy_balances.svg", "manifest.json"} <= {p.name for p in (tmp_path / "out").iterdir()}
    assert cli.main(["gas-table", "--dataset", "fitness_synthetic", "--models", "perceptron,nb", "--samples", "3",
                     "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert {(r["model"], r["operation"]) for r in rows} >= {("perceptron", "deploy"), ("nb", "add_data")}
    assert cli.main(["gas-table", "--dataset", "fitness_synthetic", "--models", "perceptron", "--samples", "3",
                     "--format", "latex"]) == 0
    assert "\\begin{tabular}" in capsys.readouterr().out
    assert cli.main(["gas-table", "--models", "svm"]) == 2


def test_reproduce_writes_a_report(tmp_path, capsys):
    assert cli.main(["reproduce", "--out", str(tmp_path), "--datasets", "fitness_synthetic", "--models",
                     "nb,perceptron", "--days", "0.2", "--eval-hours", "2", "--test-limit", "100", "--quiet",
                     "--no-deviations", "--seeds", "2", "--workers", "2"]) == 0
    report = (tmp_path / "report.md").read_text()
    # two seeds per cell, side by side: intervals across them; the tables of one run are seed 0's
    assert "## Across seeds" in report and "seeds 0 to 1" in report
    across = pd.read_csv(tmp_path / "across_seeds.csv")
    assert list(across["seeds"]) == [2, 2] and across["final_accuracy_ci95"].notna().all()
    assert "| fitness_synthetic | nb | 2 | " in report and " ± " in report
    assert Result.load(tmp_path / "fitness_synthetic-nb").config["seed"] == 0
    assert "| fitness_synthetic | nb |" in report and "| fitness_synthetic | perceptron |" in report
    assert "SYNTHETIC" in report and "prague" in report and "Profile `lab`" in report
    # every column the paper's table needs, the substitution said, the claim checked, gas labelled with USD
    assert "0.9700 — not comparable: different data" in report and "| good | bad |" in report
    assert "good: honest; bad: adversarial" in report
    assert "## Against the paper's claim" in report
    assert "deployment (total)" in report and "add (mean)" in report and "gas ($" in report
    assert "100 hidden test samples drawn at random" in report
    # the profiles' rules are listed even when their effects are not measured
    assert "## Two profiles" in report and "Not measured in this run" in report and "| sweeps |" in report
    assert (tmp_path / "fitness_synthetic-nb" / "accuracy_balances.png").is_file()
    for stem in ("gas_by_model", "gas_vs_accuracy", "paper_figure_fitness_synthetic"):
        assert (tmp_path / f"{stem}.png").stat().st_size > 1000 and (tmp_path / f"{stem}.svg").is_file()


@pytest.mark.slow
def test_reproduce_with_the_2020_profile_runs_until_the_data_is_used_up(tmp_path, monkeypatch):
    monkeypatch.setenv("DCAI_LAB_CACHE", str(tmp_path / "cache"))
    assert cli.main(["reproduce", "--out", str(tmp_path), "--datasets", "fitness_synthetic", "--models", "perceptron",
                     "--profile", "2020", "--backend", "twin", "--test-limit", "200", "--quiet",
                     "--no-deviations"]) == 0
    report = (tmp_path / "report.md").read_text()
    assert "Profile `2020`" in report and "until its training data is all contributed" in report
    assert "good: good; bad: bad" in report and "twin-only" in report
    row = pd.read_csv(tmp_path / "accuracy.csv").iloc[0]
    assert row["contributions"] == 3_400 and row["days"] > 20  # the paper's 3,500 fitness samples, 100 first


@pytest.mark.slow
def test_the_profiles_deviations_are_measured_rule_by_rule(tmp_path, monkeypatch):
    from dcai_lab.experiments.config import PROFILE_RULES
    from dcai_lab.experiments.reproduce import profile_deviations, profiles_section

    monkeypatch.setenv("DCAI_LAB_CACHE", str(tmp_path))
    table = profile_deviations(["fitness_synthetic"], "nb", backend="twin")
    rules = {rule for rule, _, _ in PROFILE_RULES} - {"balances"}
    assert set(table["rule"]) == rules | {"2020 profile", "lab profile"}
    by_rule = table.set_index("rule")
    assert by_rule.loc["2020 profile", "contributions"] == 3_400
    assert by_rule.loc["initial training", "contributions"] > 3_400  # 8% of the split first, then the rest
    assert by_rule.loc["lab profile", "days"] < by_rule.loc["2020 profile", "days"]
    text = "\n".join(profiles_section(table))
    effect = by_rule.loc["length", "final_accuracy"] - by_rule.loc["2020 profile", "final_accuracy"]
    assert f"accuracy {effect:+.4f}" in text and "the same in both profiles" in text


def test_prediction_market_runs_as_an_experiment_and_conserves_money():
    config = {"name": "market", "dataset": "fitness_synthetic", "incentive": "prediction-market",
              "incentive_params": {"bounty": 10**18, "min_stake": 10**16, "pieces": 2, "test_size": 20,
                                   "min_duration": 3600},
              "duration_days": 0.1, "eval_interval_hours": 1.0, "max_contributions": 12, "test_limit": 100,
              "contributors": [{"kind": "honest", "count": 2}, {"kind": "adversarial", "count": 1, "interval": 600}]}
    result = experiments.run(config, progress=False)
    assert (result.contributions["outcome"] == "added").sum() == 12
    ops = set(result.gas_table().index)
    assert {"deploy", "add_data", "reveal sample", "end", "reveal", "reward", "withdraw"} <= ops
    final = result.balances[result.balances.time_h == result.balances.time_h.max()]
    start = config["incentive_params"]["min_stake"] * 10_000
    gained = ((final["balance_percent"] - 100) / 100 * start).round().sum()
    assert -12 * 10**16 <= gained <= 10**18  # nobody is paid more than stakes plus bounty
    assert result.accuracy["onchain_checked"].iloc[-1] > 0


@pytest.mark.parametrize("model_params", [{}, {"step_decay": 40}], ids=["constant-step", "decreasing-step"])
def test_twin_only_mode_gives_the_chains_accuracy_and_balances_and_estimates_its_gas(tmp_path, monkeypatch,
                                                                                     model_params):
    monkeypatch.setenv("DCAI_LAB_CACHE", str(tmp_path))
    config = {"name": "twin", "dataset": "fitness_synthetic", "duration_days": 0.25, "eval_interval_hours": 2.0,
              "test_limit": 200, "seed": 3, "model_params": model_params,
              "contributors": [{"kind": "honest", "count": 2}, {"kind": "adversarial", "count": 1, "interval": 1200}]}
    on_chain = experiments.run(config, progress=False)
    twin = experiments.run({**config, "backend": "twin"}, progress=False)
    assert list(tmp_path.glob("gas-models/*.json"))  # the fitted gas model is cached
    assert twin.manifest["gas_estimated"] and not on_chain.manifest["gas_estimated"]
    assert on_chain.manifest["model"]["step_decay"] == model_params.get("step_decay", 0)
    assert twin.accuracy["accuracy"].tolist() == on_chain.accuracy["accuracy"].tolist()
    assert twin.balances["balance_percent"].tolist() == on_chain.balances["balance_percent"].tolist()
    measured, estimated = on_chain.gas_table()["gas"], twin.gas_table()["gas"]
    assert twin.gas_table()["transactions"].drop("deploy").equals(on_chain.gas_table()["transactions"].drop("deploy"))
    for op in ("add_data", "refund", "report"):
        assert abs(estimated[op] - measured[op]) / measured[op] < 0.05, op


def test_every_seed_of_a_setting_fits_the_same_gas_model(tmp_path, monkeypatch):
    """The gas model is cached per setting, not per seed: it must not depend on which seed fitted it (in a
    sweep, the first of several processes to get there)."""
    config = {"name": "twin", "dataset": "fitness_synthetic", "duration_days": 0.1, "eval_interval_hours": 1.0,
              "test_limit": 100, "max_contributions": 30, "backend": "twin"}
    fitted = []
    for seed in (0, 5):
        monkeypatch.setenv("DCAI_LAB_CACHE", str(tmp_path / f"cache-{seed}"))
        experiments.run({**config, "seed": seed}, progress=False)
        (path,) = (tmp_path / f"cache-{seed}" / "gas-models").glob("*.json")
        fitted.append(path.read_text())
    assert fitted[0] == fitted[1]


def test_twin_only_mode_refuses_the_prediction_market():
    with pytest.raises(ValueError, match="market.settle"):
        experiments.ExperimentConfig.from_dict({"incentive": "prediction-market", "backend": "twin"})


@pytest.mark.skipif(not datasets.has("sms_spam"), reason="SMS spam not in the data directory (CI sets it)")
def test_encoded_splits_are_cached_by_the_data_files(tmp_path, monkeypatch):
    monkeypatch.setenv("DCAI_LAB_CACHE", str(tmp_path))
    encoder, X, y, X_test, y_test = experiments.encoded_splits("sms_spam")
    assert len(list((tmp_path / "encoded").glob("sms_spam-*.npz"))) == 1
    cached = experiments.encoded_splits("sms_spam")
    assert cached[0].to_json() == encoder.to_json()
    for fresh, again in zip((X, X_test), (cached[1], cached[3])):
        assert len(fresh) == len(again) and all(np.array_equal(a, b) and b.dtype == np.int64
                                                for a, b in zip(fresh, again))
    assert np.array_equal(cached[2], y) and np.array_equal(cached[4], y_test)


@pytest.mark.parametrize("model", ["dense-perceptron", "dense-ncc"])
def test_dense_models_run_end_to_end_on_fixed_point_tables(model):
    """The registry gives dense models FixedPoint inputs; the run trains, claims and checks on chain."""
    r = experiments.run({"name": model, "dataset": "breast_cancer", "model": model, "duration_days": 0.2,
                         "eval_interval_hours": 1.0, "seed": 0}, progress=False)
    added = r.contributions[r.contributions["outcome"] == "added"]
    assert len(added) > 10 and (r.accuracy["onchain_checked"] > 0).all()
    assert r.accuracy["accuracy"].iloc[-1] > 0.8
    assert {"deploy", "add_data", "refund"} <= set(r.gas_table().index)


def test_the_documented_dense_config_runs_from_the_cli(tmp_path, capsys):
    config = Path(__file__).resolve().parents[2] / "configs" / "breast_cancer_drt_dense_perceptron.toml"
    assert cli.main(["run", str(config), "--out", str(tmp_path), "--quiet"]) == 0
    assert "accuracy" in capsys.readouterr().out


@pytest.mark.parametrize("settings, message", [
    ({"dataset": "imdb", "model": "dense-perceptron"}, "text task"),
    ({"model": "dense-ncc", "dataset": "titanic"}, "categorical"),
])
def test_a_model_that_cannot_take_the_task_is_refused_before_any_work(settings, message):
    with pytest.raises(ValueError, match=message):
        experiments.ExperimentConfig.from_dict({**SMALL, **settings})


def test_the_report_says_where_the_paper_is_contradicted():
    from dcai_lab.experiments.reproduce import contradictions

    cells = pd.DataFrame([
        {"dataset": "d", "model": "a", "good_balance_min": 101.0, "bad_balance_max": 97.0},
        {"dataset": "d", "model": "b", "good_balance_min": 99.0, "bad_balance_max": 100.5}])
    said = contradictions(cells)
    assert not any(s.startswith("a on d") for s in said)
    assert any("b on d: the adversary ended in profit" in s for s in said)
    assert any("b on d: the adversary (100.50%) ended above a good contributor (99.00%)" in s for s in said)
    assert any("b on d: a good contributor ended with a net loss" in s for s in said)


def test_a_points_figure_draws_points_and_says_that_no_ether_moves():
    r = experiments.run({**SMALL, "incentive": "points", "duration_days": 0.1}, progress=False)
    assert (r.balances["balance_percent"] == 100).all() and r.balances["points"].max() > 0
    figure = r.plot()
    assert any("no ether moves" in t.get_text() for t in figure.axes[1].texts)
    assert figure.axes[1].get_ylabel().startswith("points")
    drawn = {line.get_label(): line.get_ydata() for line in figure.axes[1].get_lines()}
    final = r.balances[r.balances["time_h"] == r.balances["time_h"].max()].set_index("contributor")["points"]
    assert {name: int(values[-1]) for name, values in drawn.items()} == final.to_dict()
    assert all((np.diff(values) >= 0).all() for values in drawn.values())  # points only accumulate


def test_ctrl_c_stops_a_run_between_steps_and_keeps_a_partial_folder(tmp_path, monkeypatch, capsys):
    import os
    import signal
    import warnings

    from dcai_lab.experiments.simulation import Simulation
    from dcai_lab.interrupts import RunInterrupted

    real = Simulation._contribute
    seen = []

    def contribute_then_ctrl_c(self, t, i):
        real(self, t, i)
        seen.append(t)
        if len(seen) == 5:
            os.kill(os.getpid(), signal.SIGINT)  # lands after a transaction, before the loop's next step

    monkeypatch.setattr(Simulation, "_contribute", contribute_then_ctrl_c)
    with pytest.raises(RunInterrupted) as info:
        experiments.run(SMALL, out=tmp_path / "run", progress=False)
    result = info.value.result
    added = result.contributions[result.contributions["outcome"] == "added"]
    mined = result.gas[(result.gas["operation"] == "add_data") & (result.gas["status"] == 1)]
    assert len(added) == len(mined) == result.partial["contributions_added"] > 0
    assert result.partial["simulated_hours"] < SMALL["duration_days"] * 24
    with pytest.warns(UserWarning, match="partial run"):
        back = Result.load(tmp_path / "run")
    assert back.partial == result.partial and len(back.contributions) == len(result.contributions)

    seen.clear()
    folder = tmp_path / "cli"
    config = tmp_path / "small.toml"
    config.write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in SMALL.items()))
    assert cli.main(["run", str(config), "--out", str(folder), "--quiet"]) == 130
    err = capsys.readouterr().err
    assert "stopped by Ctrl-C" in err and str(folder) in err and "marked partial" in err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert Result.load(folder).partial


def test_an_interrupted_save_is_recognised(tmp_path, result):
    from dcai_lab.results import IncompleteResults

    r, _ = result
    folder = r.save(tmp_path / "whole")
    (folder / "saved.json").unlink()  # as if the save stopped before its last file
    (folder / "gas.csv").unlink()
    with pytest.raises(IncompleteResults, match="saving was interrupted.*missing gas.csv"):
        Result.load(folder)
