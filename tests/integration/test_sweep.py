"""Sweeps: every run of a sweep equals the same config run alone, on joblib's processes and on a Dask
cluster; an interrupted sweep resumes without rerunning finished runs; a failed run is recorded and the
sweep goes on."""
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dcai_lab import experiments
from dcai_lab.cli import main
from dcai_lab.experiments.sweep import Sweep, SweepConfig, confidence_interval, sweep
from dcai_lab.results import Result

BASE = {"name": "tiny", "dataset": "fitness_synthetic", "model": "perceptron", "duration_days": 0.1,
        "eval_interval_hours": 1.0, "test_limit": 200, "backend": "twin",
        "contributors": [{"kind": "honest", "count": 2}, {"kind": "adversarial", "count": 1, "interval": 1800}]}
GRID = {"name": "tiny", "base": BASE, "axes": {"incentive": ["deposit-refund-take", "points"]}, "seeds": 2}


def _same_as_alone(result: Sweep, grid: dict, where) -> None:
    """Each run of the sweep, read from its folder, equals the same settings run alone and saved."""
    for name, _, settings in SweepConfig(**grid).runs():
        experiments.run(settings, out=where / name, progress=False)
        alone, swept = Result.load(where / name), result.results[name]
        for table in ("contributions", "accuracy", "balances", "gas"):
            pd.testing.assert_frame_equal(getattr(swept, table), getattr(alone, table), obj=f"{name} {table}")
        assert swept.config == alone.config


def test_a_sweep_on_two_processes_equals_its_runs_alone_and_resumes(tmp_path):
    out = tmp_path / "sweep"
    result = sweep(GRID, out, workers=2, progress=False)
    assert list(result.runs["status"]) == ["finished"] * 4
    assert sorted(result.runs["run"]) == sorted(["incentive=deposit-refund-take,seed=0",
                                                 "incentive=deposit-refund-take,seed=1",
                                                 "incentive=points,seed=0", "incentive=points,seed=1"])
    _same_as_alone(result, GRID, tmp_path / "alone")
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["incentive"]) == ["deposit-refund-take", "points"] and list(summary["seeds"]) == [2, 2]
    finals = result.runs.groupby("incentive")["final_accuracy"].agg(["mean", "std"])
    assert np.allclose(summary["final_accuracy mean"], finals["mean"]) and np.allclose(summary["final_accuracy std"],
                                                                                       finals["std"])
    assert {"balance_honest % ci95", "balance_adversarial % mean", "gas_add_data mean"} <= set(summary.columns)

    # Interrupted: one run lost its marker (as if stopped before saving). Resuming reruns only that one.
    markers = {name: (out / "runs" / name / "saved.json") for name in result.runs["run"]}
    stamps = {name: path.stat().st_mtime_ns for name, path in markers.items()}
    lost = "incentive=points,seed=1"
    markers[lost].unlink()
    assert Sweep.load(out).runs.set_index("run").loc[lost, "status"] == "not run"
    again = sweep(GRID, out, workers=2, progress=False)
    assert list(again.runs["status"]) == ["finished"] * 4
    assert all(markers[n].stat().st_mtime_ns == stamps[n] for n in stamps if n != lost)
    assert markers[lost].stat().st_mtime_ns != stamps[lost]

    figures = again.plot()
    assert (out / "accuracy.png").exists() and (out / "balances.png").exists() and len(figures) == 2
    with pytest.raises(ValueError, match="holds another sweep"):
        sweep({**GRID, "seeds": 3}, out, workers=1, progress=False)


def test_a_failed_run_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    runner = sys.modules["dcai_lab.experiments.run"]
    real = runner.run

    def flaky(settings, out=None, progress=True):
        if settings["seed"] == 1:
            raise RuntimeError("the node went away")
        return real(settings, out=out, progress=progress)

    monkeypatch.setattr(runner, "run", flaky)
    grid = {**GRID, "axes": {}, "seeds": 2}
    result = sweep(grid, tmp_path / "s", workers=1, progress=False)  # one worker: this process, patched
    status = result.runs.set_index("run")["status"]
    assert status["seed=0"] == "finished" and status["seed=1"] == "failed"
    assert "the node went away" in result.failures.set_index("run").loc["seed=1", "error"]
    assert json.loads((tmp_path / "s" / "runs" / "seed=1" / "error.json").read_text())["error"] == "RuntimeError"
    monkeypatch.setattr(runner, "run", real)
    assert list(sweep(grid, tmp_path / "s", workers=1, progress=False).runs["status"]) == ["finished"] * 2


@pytest.mark.slow
def test_a_sweep_on_a_dask_cluster_equals_its_runs_alone(tmp_path):
    """The same runs on a 2-worker LocalCluster, on the embedded chain (each worker builds its own)."""
    from dask.distributed import Client, LocalCluster

    grid = {"name": "chain", "base": {**BASE, "backend": "py-evm", "duration_days": 0.05},
            "axes": {"incentive": ["deposit-refund-take", "points"]}, "seeds": [3]}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:  # a client the caller holds
            result = sweep(grid, tmp_path / "dask", client=client, progress=False)
        assert list(result.runs["status"]) == ["finished"] * 2
        _same_as_alone(result, grid, tmp_path / "alone")
        # a scheduler's address, as `dcai-lab sweep --scheduler` gives it (the sweep opens and closes its client)
        more = sweep({**grid, "seeds": [3, 4]}, tmp_path / "dask2", scheduler=cluster.scheduler_address,
                     progress=False)
        assert list(more.runs["status"]) == ["finished"] * 4


def test_sweep_files_and_their_mistakes(tmp_path):
    (tmp_path / "base.toml").write_text('dataset = "fitness_synthetic"\nbackend = "twin"\nduration_days = 0.1\n')
    (tmp_path / "s.toml").write_text('base = "base.toml"\nseeds = [4, 5]\n[axes]\n"incentive_params.cost_weight" = [1_000_000_000_000, 2_000_000_000_000]\n')
    grid = SweepConfig.from_toml(tmp_path / "s.toml")
    runs = grid.runs()
    assert grid.name == "s" and len(runs) == 4
    assert runs[0][0] == "cost_weight=1000000000000,seed=4"
    assert runs[0][2]["incentive_params"] == {"cost_weight": 10**12} and runs[0][2]["seed"] == 4
    with pytest.raises(TypeError, match="run cost_weight=1000000000000.0: .*cost_weight must be an integer, got float"):
        SweepConfig(base=grid.base, axes={"incentive_params.cost_weight": [1e12]}).runs()
    with pytest.raises(ValueError, match="run cost_weight=.*unknown experiment settings"):
        SweepConfig(base={"no_such_setting": 1}, axes={"incentive_params.cost_weight": [10**12]}).runs()
    with pytest.raises(ValueError, match="seeds are given twice"):
        SweepConfig(base={}, axes={"seed": [1]}, seeds=2)
    with pytest.raises(ValueError, match="axis 'model' must be a non-empty list"):
        SweepConfig(base={}, axes={"model": "nb"})
    (tmp_path / "bad.toml").write_text('base = "missing.toml"\n')
    with pytest.raises(FileNotFoundError, match="base config 'missing.toml' not found"):
        SweepConfig.from_toml(tmp_path / "bad.toml")
    (tmp_path / "typo.toml").write_text('seed = 3\n')
    with pytest.raises(ValueError, match="unknown sweep settings \\['seed'\\]"):
        SweepConfig.from_toml(tmp_path / "typo.toml")


def test_the_shipped_sweep_files_expand_into_runs_that_can_run():
    for path in (Path(__file__).resolve().parents[2] / "configs" / "sweeps").glob("*.toml"):
        assert len(SweepConfig.from_toml(path).runs()) > 1, path


def test_the_confidence_interval_is_students_t():
    mean, std, half = confidence_interval(np.array([0.5, 0.7]))
    assert (mean, round(std, 6), round(half, 4)) == (0.6, round(np.sqrt(0.02), 6), round(12.7062 * 0.1, 4))
    assert np.isnan(confidence_interval(np.array([0.5]))[2])


def test_the_sweep_command(tmp_path, capsys):
    (tmp_path / "s.toml").write_text('name = "cli"\nseeds = 2\n[base]\ndataset = "fitness_synthetic"\n'
                                     'backend = "twin"\nduration_days = 0.05\ntest_limit = 200\n')
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "final_accuracy mean" in printed and "summary.csv" in printed
    assert Sweep.load(tmp_path / "out").summary()["seeds"].tolist() == [2]
