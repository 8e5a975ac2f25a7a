"""The embedded chain is the same with either keccak backend: py-evm hashes every trie node, transaction and
address with eth-hash, so the same deployment and contribution must give the same transaction, receipt and
state roots under pycryptodome (always installed) and pysha3 (the ``fast`` extra)."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

PROBE = r"""
import json
from eth_hash.auto import keccak as hasher
from dcai_lab import Chain
from helpers import positive_on_sample

chain = Chain()
system = chain.deploy_system(positive_on_sample(), "deposit-refund-take")
contribution = system.add_data([1, 3], 1, sender=chain.accounts[1])
block = chain.w3.eth.get_block("latest")
print(json.dumps({"backend": type(hasher.hasher.__self__).__module__.rpartition(".")[2],
                  "roots": [block[k].hex() for k in ("transactionsRoot", "receiptsRoot", "stateRoot")],
                  "trainer": system.trainer.address, "key": contribution.key.hex(),
                  "recorded": chain.call(system.data_handler.functions.records(contribution.key))[1]}))
"""


def chain_under(backend: str) -> dict:
    env = {**os.environ, "ETH_HASH_BACKEND": backend}
    tests = os.path.dirname(os.path.dirname(__file__))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [tests, env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.skipif(importlib.util.find_spec("sha3") is None, reason="safe-pysha3 (the fast extra) is not installed")
def test_the_chain_is_the_same_under_both_keccak_backends():
    slow, fast = chain_under("pycryptodome"), chain_under("pysha3")
    assert (slow.pop("backend"), fast.pop("backend")) == ("pycryptodome", "pysha3")
    assert slow == fast
