"""Compile ``contracts/`` with solcjs and write the artifacts shipped inside the package.

Users never need this: the artifacts in ``dcai_lab/artifacts`` are committed. Developers who change a
contract run ``dcai-lab compile`` (or ``make contracts``), which needs Node and ``npm install``.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CONTRACTS_DIR = REPO_ROOT / "contracts"
ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
SOLC_SCRIPT = REPO_ROOT / "scripts" / "solc.js"
BUILD_INFO = "build-info.json"

SOLC_VERSION = "0.8.37"
# py-evm has no Osaka, solc 0.8.37's default; pin the newest fork both sides know.
SETTINGS = {
    "evmVersion": "prague",
    "optimizer": {"enabled": True, "runs": 1000},
    "viaIR": True,
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
}


class CompilerError(RuntimeError):
    """solcjs is missing or rejected the sources."""


def source_files(contracts_dir: Path = CONTRACTS_DIR) -> dict[str, str]:
    """Every ``.sol`` file under ``contracts_dir``, keyed by its path relative to it."""
    return {p.relative_to(contracts_dir).as_posix(): p.read_text() for p in sorted(contracts_dir.rglob("*.sol"))}


def source_hashes(sources: dict[str, str]) -> dict[str, str]:
    return {name: hashlib.sha256(text.encode()).hexdigest() for name, text in sources.items()}


def run_solc(sources: dict[str, str]) -> dict:
    """Standard-JSON compilation through ``node scripts/solc.js``; raises on any error."""
    node = shutil.which("node")
    if node is None:
        raise CompilerError("node is not on PATH: install Node 20 to compile the contracts")
    if not (REPO_ROOT / "node_modules" / "solc").is_dir():
        raise CompilerError(f"solcjs is not installed: run `npm ci` in {REPO_ROOT}")
    request = {"language": "Solidity", "sources": {k: {"content": v} for k, v in sources.items()}, "settings": SETTINGS}
    proc = subprocess.run([node, str(SOLC_SCRIPT)], input=json.dumps(request), capture_output=True, text=True,
                          cwd=REPO_ROOT, check=False)
    if proc.returncode != 0:
        raise CompilerError(f"solcjs failed: {proc.stderr.strip()}")
    output = json.loads(proc.stdout)
    errors = [e for e in output.get("errors", []) if e["severity"] == "error"]
    if errors:
        raise CompilerError("\n".join(e["formattedMessage"] for e in errors))
    return output


def solc_version() -> str:
    proc = subprocess.run(["node", str(SOLC_SCRIPT), "--version"], input="", capture_output=True, text=True,
                          cwd=REPO_ROOT, check=True)
    return proc.stdout.strip()


def build(sources: dict[str, str] | None = None) -> tuple[dict, dict[str, dict]]:
    """Compile and return (build info, {contract name: artifact})."""
    sources = source_files() if sources is None else sources
    output = run_solc(sources)
    version = solc_version()
    if not version.startswith(SOLC_VERSION + "+"):
        raise CompilerError(f"solcjs {version} installed, {SOLC_VERSION} pinned: run `npm ci`")
    info = {"compiler": f"solc-js {version}", "settings": SETTINGS, "sources": source_hashes(sources)}
    artifacts = {}
    for source_name, contracts in output["contracts"].items():
        for name, out in contracts.items():
            if name in artifacts:
                raise CompilerError(f"two contracts are named {name}: names must be unique")
            artifacts[name] = {
                "contractName": name,
                "sourceName": source_name,
                "abi": out["abi"],
                "bytecode": "0x" + out["evm"]["bytecode"]["object"],
                "deployedBytecode": "0x" + out["evm"]["deployedBytecode"]["object"],
            }
    return info, artifacts


def write_artifacts(out_dir: Path = ARTIFACTS_DIR) -> list[Path]:
    info, artifacts = build()
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.json"):
        old.unlink()
    written = [out_dir / BUILD_INFO]
    written[0].write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
    for name, artifact in sorted(artifacts.items()):
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(artifact, indent=1) + "\n")
        written.append(path)
    return written
