"""Your own data through whole runs: a registered CSV and DataFrame in dcai_lab.run, a TOML config pointing at a
CSV through `dcai-lab run`, with the files' sha256 in the manifest."""
import hashlib
import json

import pytest

import dcai_lab
from dcai_lab import cli, datasets

from helpers import sms_frame, table_frame

SHORT = {"duration_days": 0.1, "eval_interval_hours": 1.0, "onchain_check": 10, "seed": 0}


@pytest.fixture(autouse=True)
def fresh(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets, "REGISTERED", {})
    monkeypatch.setenv("DCAI_LAB_CACHE", str(tmp_path / "cache"))


def added(result):
    return result.contributions[result.contributions["outcome"] == "added"]


def test_a_registered_csv_runs_on_the_chain(tmp_path):
    path = tmp_path / "sms.csv"
    sms_frame(150).to_csv(path, index=False)
    datasets.register("mysms", path, text_column="message", label_column="kind", labels=["ham", "spam"])
    result = dcai_lab.run({"name": "own-text", "dataset": "mysms", "model": "nb", **SHORT}, out=tmp_path / "out",
                          progress=False)
    assert len(added(result)) > 10 and (result.accuracy["onchain_checked"] > 0).all()
    assert result.accuracy["accuracy"].iloc[-1] > 0.9  # ham and spam share no word
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["dataset"] == "mysms"
    assert manifest["dataset_files_sha256"] == {"sms.csv": hashlib.sha256(path.read_bytes()).hexdigest()}
    assert manifest["subsets"]["test"]["size"] == 30  # the 20% hold-out


def test_a_registered_dataframe_runs_twin_only(tmp_path):
    datasets.register("people", table_frame(200), label_column="outcome")
    result = dcai_lab.run({"name": "own-table", "dataset": "people", "backend": "twin", **SHORT}, progress=False)
    assert result.manifest["gas_estimated"] and len(added(result)) > 10
    assert result.manifest["reference_accuracy_all_data"] > 0.9  # height and weight separate the classes
    assert list(result.manifest["dataset_files_sha256"]) == ["train (DataFrame)"]


def test_a_config_pointing_at_a_csv_runs_from_the_cli(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    path = tmp_path / "data" / "messages.csv"
    sms_frame(150).to_csv(path, index=False)
    config = tmp_path / "own.toml"
    config.write_text('name = "own-cli"\nmodel = "perceptron"\nduration_days = 0.1\neval_interval_hours = 1.0\n\n'
                      '[dataset]\npath = "data/messages.csv"\ntext_column = "message"\nlabel_column = "kind"\n'
                      'labels = ["ham", "spam"]\n')
    out = tmp_path / "out"
    assert cli.main(["run", str(config), "--out", str(out), "--quiet"]) == 0
    assert "accuracy" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["dataset"] == "messages"
    assert manifest["dataset_files_sha256"] == {"messages.csv": hashlib.sha256(path.read_bytes()).hexdigest()}
    saved = json.loads((out / "config.json").read_text())
    assert saved["dataset_source"]["path"] == str(path) and saved["dataset_source"]["labels"] == ["ham", "spam"]


def test_the_cli_refuses_a_config_with_a_wrong_column_in_one_line(tmp_path, capsys):
    sms_frame(20).to_csv(tmp_path / "messages.csv", index=False)
    config = tmp_path / "own.toml"
    config.write_text('[dataset]\npath = "messages.csv"\ntext_column = "text"\nlabel_column = "kind"\n'
                      'labels = ["ham", "spam"]\n')
    assert cli.main(["run", str(config), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert "has no column 'text' for the text (text_column)" in error and "'id', 'message', 'kind'" in error
    assert "Traceback" not in error and not (tmp_path / "out").exists()
