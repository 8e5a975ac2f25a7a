"""The compiled contracts shipped with the package (see :mod:`dcai_lab.compiler`)."""
from __future__ import annotations

import json
from functools import cache
from importlib import resources


class ArtifactNotFound(LookupError):
    pass


@cache
def load(name: str) -> dict:
    """ABI and bytecode of the contract ``name``."""
    path = resources.files("dcai_lab") / "artifacts" / f"{name}.json"
    if not path.is_file():
        raise ArtifactNotFound(f"no compiled contract named {name!r}; known: {', '.join(names())}")
    return json.loads(path.read_text())


@cache
def build_info() -> dict:
    return json.loads((resources.files("dcai_lab") / "artifacts" / "build-info.json").read_text())


def names() -> list[str]:
    folder = resources.files("dcai_lab") / "artifacts"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json") and p.name != "build-info.json")
