"""What the repository promises its users without running anything: notebooks committed clean, and a
citation file that names this software and the two papers it reproduces."""
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebooks_are_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them (jupyter nbconvert --clear-output --inplace)"
    assert "parameters" in code[0].metadata.get("tags", []), f"{path.name}: tag the first code cell 'parameters'"


def test_the_citation_file_names_the_software_and_both_papers():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["type"] == "software" and citation["license"] == "MIT"
    cited = {i["value"] for r in citation["references"] for i in r["identifiers"]}
    assert cited == {"arXiv:1907.07247", "arXiv:2009.06756"}
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
