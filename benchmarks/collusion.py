"""What a colluding pair recovers of a bad deposit under Deposit-Refund-Take, on the embedded chain.

    python benchmarks/collusion.py --json

A contributor adds a bad sample (the model disagrees) with its deposit D; its partner, a validator with
``v`` validated contributions, reports it first and takes D * v / T, where T counts every validated
contribution. Then honest reporters (each with validated contributions of their own, H in all) report
too. Rows: the honest validated count H, the partner's v, what the pair recovered as a share of D, and
what making the partner's v validated contributions cost in gas (each is a correct sample added with a
deposit and refunded a day later, so only gas is spent). Then the same with no honest reporter claiming:
after ``anyAddressClaimWait`` any address the pair holds takes the rest; with the owner claiming after
``ownerClaimWait``, which comes first, the owner takes it.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dcai_lab import Chain, incentives, models  # noqa: E402

DAY = 86_400
SAMPLE = [1, 2, 3, 5, 8]


def twin():
    """A perceptron sure that SAMPLE is class 1: no single update changes that."""
    weights = np.full(16, -100)
    weights[SAMPLE] = 5000
    return models.SparsePerceptron(n_features=16).set_state(weights, 0)


def scenario(honest_valid: int, partner_valid: int, honest_report: bool = True, owner_sweeps: bool = False) -> dict:
    chain = Chain(num_accounts=9)
    spec = incentives.DepositRefundTake()
    system = chain.deploy_system(twin(), spec)
    owner, contributor, partner, sweeper, *honest = chain.accounts[:9]
    good = []
    for i in range(honest_valid):
        chain.time_travel(600)
        good.append(system.add_data(SAMPLE, 1, sender=honest[i % len(honest)]))
    farm_gas = 0
    for _ in range(partner_valid):
        chain.time_travel(600)
        c = system.add_data(SAMPLE, 1, sender=partner)
        good.append(c)
        farm_gas += c.gas_used
    chain.time_travel(600)
    bad = system.add_data(SAMPLE, 0, sender=contributor)
    chain.time_travel(days=1)
    for c in good:
        paid = system.refund(c)
        if c.author == partner:
            farm_gas += paid.gas_used
    recovered = int(system.report(bad, sender=partner)) if partner_valid else 0
    if honest_report:
        for reporter in dict.fromkeys(c.author for c in good if c.author != partner):
            if system.claimable(bad):
                system.report(bad, sender=reporter)
    left = system.claimable(bad)
    swept_by = None
    if left and not honest_report:
        if owner_sweeps:
            chain.time_travel(bad.added_time + spec.owner_claim_wait - chain.now)
            system.report(bad, sender=owner)
            swept_by = "owner"
        else:
            chain.time_travel(bad.added_time + spec.any_address_claim_wait - chain.now)
            recovered += int(system.report(bad, sender=sweeper))  # any fresh address of the pair
            swept_by = "the pair"
    return {"honest_valid": honest_valid, "partner_valid": partner_valid, "honest_report": honest_report,
            "swept_by": swept_by, "deposit": bad.deposit, "recovered": recovered,
            "recovered_share": round(recovered / bad.deposit, 4), "farm_gas": farm_gas}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="one JSON object per scenario (default: a table)")
    args = parser.parse_args(argv)
    rows = [scenario(h, v) for h in (1, 4, 16, 64) for v in (1, 4, 16)]
    rows += [scenario(4, 1, honest_report=False), scenario(4, 1, honest_report=False, owner_sweeps=True)]
    for row in rows:
        if args.json:
            print(json.dumps(row), flush=True)
        else:
            print(f"H={row['honest_valid']:>3} v={row['partner_valid']:>3} honest reporters "
                  f"{'claim' if row['honest_report'] else 'absent'}: the pair recovers {row['recovered_share']:.1%} "
                  f"of the deposit{' (swept by the ' + row['swept_by'] + ')' if row['swept_by'] else ''}; "
                  f"farming v cost {row['farm_gas']:,} gas", flush=True)


if __name__ == "__main__":
    main()
