"""scripts/check_wheels.py: its parts on canned input, and (slow) the real check against PyPI."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check_wheels.py"
spec = importlib.util.spec_from_file_location("check_wheels", SCRIPT)
check_wheels = sys.modules.setdefault("check_wheels", importlib.util.module_from_spec(spec))
spec.loader.exec_module(check_wheels)

# pip 26's words when a package has no wheel for the target (from a run on the old dependency set)
PIP_NO_WHEEL = """\
ERROR: Ignored the following versions that require a different python version: 6.0.0b1 Requires-Python >=3.7,<3.11
ERROR: Could not find a version that satisfies the requirement safe-pysha3>=1.0.0; python_version >= "3.9" and \
extra == "pysha3" (from eth-hash[pysha3]) (from versions: none)
ERROR: No matching distribution found for safe-pysha3>=1.0.0; python_version >= "3.9" and extra == "pysha3"
"""


def test_the_requirements_are_pyprojects_required_dependencies():
    reqs = check_wheels.requirements(ROOT / "pyproject.toml", [])
    names = {r.split(">")[0].split("[")[0].split("<")[0] for r in reqs}
    assert {"web3", "py-evm", "numpy", "eth-hash"} <= names
    assert not names & {"jupyterlab", "ipywidgets", "safe-pysha3"}  # extras, not required
    assert "safe-pysha3>=1.0.7" in check_wheels.requirements(ROOT / "pyproject.toml", ["fast"])


def test_a_missing_wheel_is_named_with_what_required_it():
    missing, error = check_wheels.failure(PIP_NO_WHEEL, ["eth-tester[py-evm]>=0.14.0b1"])
    assert [(m.package, m.required_by, m.versions_with_a_wheel) for m in missing] == [
        ("safe-pysha3", "eth-hash[pysha3]", "none")]
    assert error == ""


def test_markers_are_evaluated_for_the_target_not_this_machine():
    """pip resolves markers for the machine it runs on: on Linux, web3's pywin32 (Windows only) is left out."""
    tree = {"web3": ['pywin32>=223; platform_system == "Windows"', "eth-hash[pycryptodome]>=0.5.1"],
            "eth-hash": ['pycryptodome<4,>=3.6.6; extra == "pycryptodome"', 'safe-pysha3>=1.0.0; extra == "pysha3"'],
            "pycryptodome": []}
    windows = check_wheels.target_markers("windows-amd64", "3.12")
    linux = check_wheels.target_markers("linux-x86_64", "3.12")
    assert check_wheels.left_out(tree, ["web3>=8"], windows) == ["pywin32>=223"]
    assert check_wheels.left_out(tree, ["web3>=8"], linux) == []
    # an extra's requirement counts only when the extra is asked for
    assert check_wheels.left_out(tree, ["web3>=8", "eth-hash[pysha3]"], linux) == ["safe-pysha3>=1.0.0"]


def test_pip_runs_against_pypi_without_local_configuration(monkeypatch):
    monkeypatch.setenv("PIP_FIND_LINKS", "/opt/wheels")
    monkeypatch.setenv("PIP_CERT", "/etc/ssl/certs/ca-certificates.crt")
    env = check_wheels.pip_environment()
    assert "PIP_FIND_LINKS" not in env and env["PIP_CERT"] and env["PIP_CONFIG_FILE"] == check_wheels.os.devnull
    command = check_wheels.pip_command("macos-arm64", "3.13", ["numpy"], "/tmp/x", check_wheels.PYPI, False)
    assert command[3:5] == ["download", "--dest"] and "--only-binary=:all:" in command and "--no-deps" not in command
    assert command[command.index("--abi") + 1] == "cp313" and "macosx_14_0_arm64" in command


def test_an_unreachable_index_is_an_error_not_a_pass(monkeypatch):
    monkeypatch.setenv("PIP_RETRIES", "0")
    done = subprocess.run([sys.executable, str(SCRIPT), "--index-url", "http://127.0.0.1:9/simple", "--json"],
                          capture_output=True, text=True, timeout=300)
    summary = json.loads(done.stdout.splitlines()[-1])
    assert done.returncode == 2 and summary["ok"] is False
    assert "http://127.0.0.1:9/simple is unreachable, so no wheel was checked" in summary["error"]


@pytest.mark.slow
def test_the_required_dependencies_install_from_wheels_everywhere(tmp_path):
    """Asks PyPI (metadata only): every platform and Python the README promises. Without the index this fails,
    saying so: a wheel check that did not run is not a pass."""
    done = subprocess.run([sys.executable, str(SCRIPT), "--dry-run", "--json", "--jobs", "9"], capture_output=True,
                          text=True, timeout=1800)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    summary = lines[-1] if lines else {}
    if done.returncode == 2:
        pytest.fail(f"the wheel check could not reach the package index: {summary.get('error') or done.stderr[-1500:]}")
    pairs = [line for line in lines if "platform" in line]
    assert {(p["platform"], p["python"]) for p in pairs} == {
        (p, v) for p in check_wheels.PLATFORMS for v in check_wheels.PYTHONS}
    failing = [f"{p['platform']} {p['python']}: {p['missing'] or p['error']}" for p in pairs if not p["ok"]]
    assert failing == [] and done.returncode == 0, "\n".join(failing) or done.stderr[-1500:]
