#!/usr/bin/env python3
"""Does dcai-lab install from wheels alone, everywhere? For each platform and Python version, pip resolves
the project's required dependencies (read from pyproject.toml, the whole dependency tree) with
``--only-binary=:all:`` for that platform; a pair fails when some package in the tree has no wheel for it.

    python scripts/check_wheels.py                  # Linux x86_64, macOS arm64, Windows amd64 x 3.11-3.13
    python scripts/check_wheels.py --json           # one JSON object per pair, then a summary object
    python scripts/check_wheels.py --extras fast    # the required dependencies plus an extra's
    python scripts/check_wheels.py --dry-run        # resolve from metadata only, download nothing

Each pair is ``pip download --only-binary=:all: --platform ... --python-version ... --implementation cp
--abi cpXY -d TMP <dependencies>`` (``--dry-run``: ``pip install --dry-run --ignore-installed --report``,
the same resolver reading the wheels' metadata instead of downloading them). pip runs against PyPI only:
local pip configuration (extra indexes, find-links, constraints) is ignored, so that a wheel on this
machine cannot hide a gap on PyPI.

pip evaluates environment markers (``platform_system == "Windows"``) for the machine it runs on, not the
target; so after resolving, the script reads every resolved wheel's requirements, evaluates their markers
for the target, and resolves again with whatever the target needs that pip left out, until nothing is
missing.

Exit status: 0 every pair resolves from wheels, 1 some pair does not, 2 the package index is unreachable.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

try:
    from packaging.markers import Marker
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ImportError:  # pip always carries it
    from pip._vendor.packaging.markers import Marker
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPI = "https://pypi.org/simple"
PYTHONS = ("3.11", "3.12", "3.13")
# pip expands a macOS tag to every older macOS and universal2, but not manylinux_2_x tags: those are listed.
GLIBC = 28  # manylinux_2_28: RHEL 8, Debian 10, Ubuntu 18.10 and newer
PLATFORMS = {
    "linux-x86_64": {
        "tags": [f"manylinux_2_{minor}_x86_64" for minor in range(GLIBC, 4, -1)]
                + ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64", "linux_x86_64"],
        "markers": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
                    "os_name": "posix"},
    },
    "macos-arm64": {
        "tags": ["macosx_14_0_arm64"],  # macOS 14 and every older macOS wheel for Apple silicon
        "markers": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64",
                    "os_name": "posix"},
    },
    "windows-amd64": {
        "tags": ["win_amd64"],
        "markers": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64",
                    "os_name": "nt"},
    },
}
NETWORK_TROUBLE = re.compile(r"NewConnectionError|Max retries exceeded|Temporary failure in name resolution|"
                             r"Network is unreachable|Connection refused|ConnectTimeoutError|ReadTimeoutError|"
                             r"ProxyError|SSLError")
NOT_FOUND = re.compile(r"Could not find a version that satisfies the requirement (?P<req>.+?) "
                       r"\(from versions: (?P<versions>[^)]*)\)")


@dataclass
class Missing:
    package: str
    required_by: str  # "pyproject.toml" for a direct dependency
    versions_with_a_wheel: str  # what the index has for this platform and Python ("none": no wheel at all)


@dataclass
class Outcome:
    platform: str
    python: str
    ok: bool
    packages: int = 0  # packages resolved (the whole tree), when ok
    missing: list[Missing] = field(default_factory=list)
    added_for_markers: list[str] = field(default_factory=list)  # what pip's host-side marker evaluation left out
    error: str = ""  # anything else pip said when it failed (a conflict, the network)
    seconds: float = 0.0
    downloaded_mb: float = 0.0  # the wheels' size (not with --dry-run)


def requirements(pyproject: Path, extras: list[str]) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    reqs = list(project["dependencies"])
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            raise SystemExit(f"no extra {extra!r} in {pyproject}; it has {', '.join(sorted(optional))}")
        reqs += [r for r in optional[extra] if canonicalize_name(Requirement(r).name) != canonicalize_name(project["name"])]
    return reqs


def pip_environment() -> dict[str, str]:
    """This environment without pip's configuration: PyPI only (certificates, timeouts and proxies kept)."""
    keep = {"PIP_CERT", "PIP_CLIENT_CERT", "PIP_DEFAULT_TIMEOUT", "PIP_PROXY", "PIP_TRUSTED_HOST", "PIP_RETRIES"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") or k in keep}
    env["PIP_CONFIG_FILE"] = os.devnull  # no pip.conf at all: no extra index, find-links or constraints
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def target_markers(platform: str, python: str) -> dict[str, str]:
    return {**PLATFORMS[platform]["markers"], "python_version": python, "python_full_version": f"{python}.0",
            "implementation_name": "cpython", "platform_python_implementation": "CPython",
            "implementation_version": f"{python}.0", "platform_release": "", "platform_version": ""}


def pip_command(platform: str, python: str, reqs: list[str], folder: str, index: str, dry_run: bool) -> list[str]:
    nodot = python.replace(".", "")
    target = ["--only-binary=:all:", "--implementation", "cp", "--python-version", python, "--abi", f"cp{nodot}",
              "--index-url", index, "--progress-bar", "off"]
    for tag in PLATFORMS[platform]["tags"]:
        target += ["--platform", tag]
    if dry_run:
        return [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                "--report", str(Path(folder) / "report.json"), "--target", str(Path(folder) / "target"),
                *target, *reqs]
    return [sys.executable, "-m", "pip", "download", "--dest", folder, *target, *reqs]


def resolved(folder: str, dry_run: bool) -> dict[str, list[str]]:
    """What pip resolved: project name -> its Requires-Dist lines."""
    out = {}
    if dry_run:
        for item in json.loads((Path(folder) / "report.json").read_text())["install"]:
            meta = item["metadata"]
            out[canonicalize_name(meta["name"])] = meta.get("requires_dist", [])
        return out
    for wheel in Path(folder).glob("*.whl"):
        with zipfile.ZipFile(wheel) as zf:
            name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
            text = zf.read(name).decode("utf-8", "replace").split("\n\n", 1)[0]
        fields = [line.split(":", 1) for line in text.splitlines() if ":" in line and not line.startswith(" ")]
        project = next(v.strip() for k, v in fields if k == "Name")
        out[canonicalize_name(project)] = [v.strip() for k, v in fields if k == "Requires-Dist"]
    return out


def left_out(tree: dict[str, list[str]], reqs: list[str], markers: dict[str, str]) -> list[str]:
    """Requirements the target needs (markers evaluated for the target, with the extras asked of each project)
    whose project is not in the resolved tree."""
    queue = [Requirement(r) for r in reqs]
    queue = [r for r in queue if r.marker is None or r.marker.evaluate({**markers, "extra": ""})]
    seen, needed = set(), set()
    while queue:
        req = queue.pop()
        name = canonicalize_name(req.name)
        if (name, frozenset(req.extras)) in seen:
            continue
        seen.add((name, frozenset(req.extras)))
        if name not in tree:
            extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
            needed.add(f"{req.name}{extras}{req.specifier}")
            continue
        envs = [{**markers, "extra": extra} for extra in (req.extras or {""})]
        for line in tree[name]:
            sub = Requirement(line)
            if sub.marker is None or any(sub.marker.evaluate(env) for env in envs):
                queue.append(sub)
    return sorted(needed)


def failure(output: str, reqs: list[str]) -> tuple[list[Missing], str]:
    missing = []
    direct = {canonicalize_name(Requirement(r).name) for r in reqs}
    for match in NOT_FOUND.finditer(output):
        text = match["req"]
        name = re.match(r"[A-Za-z0-9._-]+", text).group(0)
        parents = re.findall(r"\(from ([^)]+)\)", text)
        by = parents[-1] if parents else ("pyproject.toml" if canonicalize_name(name) in direct else "?")
        missing.append(Missing(name, by, match["versions"].strip() or "none"))
    lines = [line for line in output.splitlines() if line.startswith("ERROR") and not any(
        noise in line for noise in ("Could not find", "No matching distribution", "Ignored the following"))]
    return missing, "\n".join(lines[-5:])


def check(platform: str, python: str, reqs: list[str], index: str, dry_run: bool) -> Outcome:
    start = time.perf_counter()
    markers = target_markers(platform, python)
    asked, added = list(reqs), []
    for _ in range(5):  # rounds of requirements pip's host-side marker evaluation left out
        with tempfile.TemporaryDirectory(prefix="dcai-wheels-") as folder:
            done = subprocess.run(pip_command(platform, python, asked, folder, index, dry_run), capture_output=True,
                                  text=True, env=pip_environment())
            output = done.stdout + done.stderr
            if done.returncode != 0:
                missing, error = failure(output, reqs)
                if NETWORK_TROUBLE.search(output):
                    error = "network trouble reaching the index:\n" + "\n".join(
                        line for line in output.splitlines() if NETWORK_TROUBLE.search(line))[-1500:]
                    missing = []
                elif not missing and not error:
                    error = output[-1500:]
                return Outcome(platform, python, False, missing=missing, added_for_markers=added, error=error,
                               seconds=round(time.perf_counter() - start, 1))
            tree = resolved(folder, dry_run)
            size = sum(w.stat().st_size for w in Path(folder).glob("*.whl")) / 1e6
        more = [r for r in left_out(tree, asked, markers) if r not in asked]
        if not more:
            return Outcome(platform, python, True, packages=len(tree), added_for_markers=added,
                           seconds=round(time.perf_counter() - start, 1), downloaded_mb=round(size, 1))
        added += more
        asked += more
    return Outcome(platform, python, False, added_for_markers=added, error="marker closure did not settle",
                   seconds=round(time.perf_counter() - start, 1))


def index_reachable(index: str) -> str | None:
    """None when pip can read the index, else what went wrong."""
    done = subprocess.run([sys.executable, "-m", "pip", "index", "versions", "pip", "--index-url", index],
                          capture_output=True, text=True, env=pip_environment(), timeout=300)
    if done.returncode == 0 and "pip" in done.stdout:
        return None
    lines = (done.stdout + done.stderr).strip().splitlines()
    trouble = [line for line in lines if NETWORK_TROUBLE.search(line)]
    return (trouble or lines or [f"pip exited with {done.returncode}"])[-1].strip()[:500]


def report(outcomes: list[Outcome], reqs: list[str], pyproject: Path, dry_run: bool, index: str) -> str:
    mode = "resolved from the wheels' metadata (--dry-run)" if dry_run else "downloaded"
    lines = [f"wheel check: the {len(reqs)} dependencies in {pyproject} and everything they require, binary "
             f"wheels only, {mode}, from {index}", ""]
    width = max(len(p) for p in PLATFORMS) + 2
    for o in outcomes:
        head = f"  {o.platform:<{width}}{o.python:<7}"
        if o.ok:
            extra = f"; added for the target's markers: {', '.join(o.added_for_markers)}" if o.added_for_markers else ""
            size = f", {o.downloaded_mb:.0f} MB of wheels" if o.downloaded_mb else ""
            lines.append(f"{head}ok ({o.packages} packages{size}, {o.seconds:.0f} s){extra}")
        else:
            what = "; ".join(f"no wheel for {m.package} (required by {m.required_by}; versions with a wheel here: "
                             f"{m.versions_with_a_wheel})" for m in o.missing) or o.error.splitlines()[0]
            lines.append(f"{head}FAIL: {what}")
            if o.error and o.missing:
                lines += ["      " + line for line in o.error.splitlines()]
    bad = [o for o in outcomes if not o.ok]
    lines += ["", f"{len(outcomes) - len(bad)} of {len(outcomes)} platform/Python pairs install from wheels"
                  + (f"; failing: {', '.join(f'{o.platform} {o.python}' for o in bad)}" if bad else "")]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--platform", nargs="+", choices=sorted(PLATFORMS), default=list(PLATFORMS),
                        help="platforms to check")
    parser.add_argument("--python", nargs="+", default=list(PYTHONS), help="Python versions to check")
    parser.add_argument("--extras", nargs="*", default=[], help="extras whose dependencies are checked too")
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml", help="the project file")
    parser.add_argument("--index-url", default=PYPI, help="the package index")
    parser.add_argument("--dry-run", action="store_true", help="resolve from the wheels' metadata, download nothing")
    parser.add_argument("--jobs", type=int, default=3, help="pairs checked at once")
    parser.add_argument("--json", action="store_true", help="one JSON object per pair, then a summary object")
    args = parser.parse_args(argv)
    reqs = requirements(args.pyproject, args.extras)
    trouble = index_reachable(args.index_url)
    if trouble:
        message = f"the package index {args.index_url} is unreachable, so no wheel was checked: {trouble}"
        print(json.dumps({"summary": True, "ok": False, "error": message}) if args.json else message,
              file=sys.stdout if args.json else sys.stderr)
        return 2
    pairs = [(p, v) for p in args.platform for v in args.python]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes = list(pool.map(lambda pair: check(*pair, reqs, args.index_url, args.dry_run), pairs))
    if any(o.error.startswith("network trouble") for o in outcomes):
        status = 2
    else:
        status = 0 if all(o.ok for o in outcomes) else 1
    if args.json:
        for o in outcomes:
            print(json.dumps(asdict(o)))
        print(json.dumps({"summary": True, "ok": status == 0, "requirements": reqs, "index": args.index_url,
                          "mode": "dry-run" if args.dry_run else "download",
                          "failing": [[o.platform, o.python] for o in outcomes if not o.ok],
                          "platform_tags": {p: PLATFORMS[p]["tags"] for p in args.platform}}))
    else:
        print(report(outcomes, reqs, args.pyproject, args.dry_run, args.index_url))
    return status


if __name__ == "__main__":
    sys.exit(main())
