"""The accounting invariants under random sequences: a quick share of benchmarks/fuzz.py (which runs many
more), with the re-entering contributor among the senders."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_random_sequences_keep_every_wei_accounted_for():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "fuzz.py"), "--json", "--sequences", "4",
                          "--steps", "25", "--seed", "7"], capture_output=True, text=True, cwd=ROOT)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["mechanism"] for r in rows] == ["deposit-refund-take", "points", "prediction-market"], out.stderr
    for row in rows:
        assert row["violations"] == 0, row["first_violations"]
        assert row["transactions"] > row["sequences"]
    assert out.returncode == 0
