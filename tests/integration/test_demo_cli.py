import json
import subprocess
import sys
from pathlib import Path

import pytest

from dcai_lab import cli, datasets
from dcai_lab.demo import run_demo

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_data(monkeypatch, tmp_path):
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path))


def check_result(result, n_contributions):
    assert 0 <= result.initial_accuracy <= 1 and 0 <= result.final_accuracy <= 1
    assert result.contributions == n_contributions
    assert result.refunds + result.reports <= n_contributions
    adds = [r for r in result.chain.gas if r.operation == "add_data"]
    assert len(adds) == n_contributions and all(r.status == 1 for r in adds)
    # money is conserved: what contributors lost net is what the trainer still holds
    assert -sum(result.balances.values()) == result.chain.balance(result.system.trainer.address)
    assert result.balances["adversary"] < 0


def test_demo_falls_back_to_breast_cancer(no_data):
    result = run_demo(n_initial=100, n_contributions=40, n_test=100, progress=False)
    assert result.data.name == "breast_cancer"
    check_result(result, 40)
    assert "breast cancer" in result.summary()


@pytest.mark.slow
@pytest.mark.skipif(not datasets.has("imdb", "test"), reason="IMDB not in the data directory (CI sets it)")
def test_demo_on_imdb():
    result = run_demo(n_initial=500, n_contributions=60, n_test=1000, progress=False)
    assert result.data.name == "imdb" and result.data.encoder.n_features == 1000
    check_result(result, 60)
    assert result.final_accuracy > 0.6


def test_cli_demo_prints_a_summary(no_data, capsys):
    assert cli.main(["demo", "--initial", "60", "--contributions", "12", "--test", "50", "--quiet"]) == 0
    out = capsys.readouterr().out
    for heading in ("dataset", "accuracy", "balances", "gas per operation", "add_data", "tx/s"):
        assert heading in out


def test_cli_reports_bad_data_dir_clearly(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(datasets.ENV_VAR, str(tmp_path / "nope"))
    assert cli.main(["demo", "--quiet"]) == 2
    assert "is not a directory" in capsys.readouterr().err


def test_gas_benchmark_prints_one_json_object_per_operation_and_model():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gas.py"), "--json", "--no-market"],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    points = [r for r in rows if r["incentive"] == "Points"]
    rows = [r for r in rows if r["incentive"] != "Points"]
    ops = ["deploy", "add_correct", "add_incorrect", "refund", "report"]
    models = ["SparsePerceptron", "SparsePerceptron(step_decay=1000)", "NaiveBayes", "SparseNearestCentroid",
              "DensePerceptron", "DenseNearestCentroid"]
    assert [(r["model"], r["op"]) for r in rows] == [(m, op) for m in models for op in ops]
    for r in rows:
        assert r["fork"] == "prague" and r["gas"] > 21_000
    gas = {(r["model"], r["op"]): r["gas"] for r in rows}
    for perceptron in ("SparsePerceptron", "DensePerceptron"):  # only a mistake writes weights
        assert gas[perceptron, "add_incorrect"] > gas[perceptron, "add_correct"]
    decaying = "SparsePerceptron(step_decay=1000)"  # it writes its sample counter on every add
    assert gas[decaying, "add_correct"] > gas["SparsePerceptron", "add_correct"]
    # Points: refunds and reports with and without a badge; a badge costs its mint on top
    badge = {r["op"].removeprefix("points:"): r["gas"] for r in points if r["op"].startswith("points:")}
    assert set(badge) == {"refund_1", "refund_plain", "refund_5", "refund_10", "report_1", "report_plain",
                          "report_resets_streak"}
    assert badge["refund_5"] > badge["refund_plain"] and badge["refund_10"] > badge["refund_plain"]
    assert badge["report_resets_streak"] > badge["report_plain"]


def test_gas_benchmark_reports_every_phase_of_the_prediction_market():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gas.py"), "--json", "--models", "DensePerceptron",
                          "--grid-contributions", "4,8", "--grid-test-sizes", "8"],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    market = [r for r in rows if r["incentive"] == "PredictionMarket"]
    phases = [r["op"] for r in market if r["op"] != "market:provider_total"]
    assert phases == ["market:initialise", "market:reveal_sample", "market:contribute", "market:end",
                      "market:reveal_piece", "market:reward_batch", "market:withdraw"]
    assert all(r["gas"] > 21_000 and r["fork"] == "prague" for r in market)
    totals = [r for r in market if r["op"] == "market:provider_total"]
    assert [(r["contributions"], r["test_size"]) for r in totals] == [(4, 8), (8, 8)]
    assert totals[1]["gas"] > totals[0]["gas"]  # more contributions to replay cost the provider more
