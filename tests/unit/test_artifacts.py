"""The shipped artifacts are what the sources compile to."""
import shutil

import pytest

from dcai_lab import artifacts, compiler


def test_artifacts_record_the_current_sources():
    recorded = artifacts.build_info()["sources"]
    current = compiler.source_hashes(compiler.source_files())
    stale = sorted(name for name in current.keys() | recorded.keys() if current.get(name) != recorded.get(name))
    assert not stale, f"artifacts are stale for {stale}: run `make contracts`"


def test_artifacts_pin_compiler_and_fork():
    info = artifacts.build_info()
    assert info["compiler"].startswith(f"solc-js {compiler.SOLC_VERSION}+")
    assert info["settings"] == compiler.SETTINGS
    assert info["settings"]["evmVersion"] == "prague"


@pytest.mark.skipif(shutil.which("node") is None or not (compiler.REPO_ROOT / "node_modules" / "solc").is_dir(),
                    reason="needs Node and `npm ci` (make test installs both)")
def test_recompiling_gives_the_shipped_bytecode():
    _, fresh = compiler.build()
    assert sorted(fresh) == artifacts.names()
    for name, art in fresh.items():
        shipped = artifacts.load(name)
        assert shipped["abi"] == art["abi"], name
        assert shipped["bytecode"] == art["bytecode"], f"{name} bytecode differs: run `make contracts`"


def test_unknown_artifact_names_the_known_ones():
    with pytest.raises(artifacts.ArtifactNotFound, match="SparsePerceptron"):
        artifacts.load("NoSuchContract")
