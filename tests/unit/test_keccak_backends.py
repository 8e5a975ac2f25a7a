"""keccak256 is the same with either of eth-hash's backends: pycryptodome (always installed, what eth-hash
picks on its own) and pysha3 (the ``fast`` extra, safe-pysha3, which ``import dcai_lab`` prefers). Each
backend runs in a process of its own, since eth-hash fixes its backend at the first hash."""
import functools
import importlib.util
import json
import os
import subprocess
import sys

import pytest

HAS_PYSHA3 = importlib.util.find_spec("sha3") is not None

# The hashes the lab computes, and raw inputs around keccak's 136-byte rate, long ones and random ones.
PROBE = r"""
import json, random, sys
if "--without-pysha3" in sys.argv:
    sys.modules["sha3"] = None  # as on a machine where the fast extra is not installed
import dcai_lab
from eth_hash.auto import keccak as hasher
from eth_utils import keccak

rng = random.Random(0)
inputs = [bytes(n) for n in range(300)] + [bytes([255]) * n for n in (135, 136, 137, 271, 272, 273)]
inputs += [rng.randbytes(rng.randrange(2000)) for _ in range(500)] + [rng.randbytes(1 << 20)]
digests = [keccak(x).hex() for x in inputs]
digests.append(keccak(text="transfer(address,uint256)")[:4].hex())
digests.append(keccak(text='{"kind": "Vocabulary", "terms": ["film", "good", "été"]}').hex())  # an encoder's hash
print(json.dumps({"backend": type(hasher.hasher.__self__).__module__.rpartition(".")[2], "digests": digests}))
"""


@functools.cache
def digests(backend: str | None, *flags: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "ETH_HASH_BACKEND"}
    if backend:
        env["ETH_HASH_BACKEND"] = backend
    done = subprocess.run([sys.executable, "-c", PROBE, *flags], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_pycryptodome_gives_the_known_digests():
    result = digests("pycryptodome")
    assert result["backend"] == "pycryptodome"
    assert result["digests"][0] == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"  # keccak256("")
    assert result["digests"][-2] == "a9059cbb"  # ERC-20's transfer selector, as every Ethereum tool computes it


@pytest.mark.skipif(not HAS_PYSHA3, reason="safe-pysha3 (the fast extra) is not installed: one backend only")
def test_both_backends_give_identical_digests():
    slow, fast = digests("pycryptodome"), digests("pysha3")
    assert (slow["backend"], fast["backend"]) == ("pycryptodome", "pysha3")  # each really used its backend
    assert len(slow["digests"]) == len(fast["digests"]) > 800
    differ = [i for i, (a, b) in enumerate(zip(slow["digests"], fast["digests"])) if a != b]
    assert differ == [], f"{len(differ)} digests differ, first at input {differ[0]}"


def test_without_pysha3_the_lab_uses_pycryptodome():
    result = digests(None, "--without-pysha3")
    assert result["backend"] == "pycryptodome"
    assert result["digests"][0] == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


@pytest.mark.skipif(not HAS_PYSHA3, reason="safe-pysha3 (the fast extra) is not installed")
def test_with_pysha3_the_lab_prefers_it_unless_the_user_chose():
    assert digests(None)["backend"] == "pysha3"
    assert digests("pycryptodome")["backend"] == "pycryptodome"
