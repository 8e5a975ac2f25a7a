"""Incentive mechanisms as deployable specifications. Add one by writing its contract and a spec here."""
from __future__ import annotations

from dataclasses import dataclass

HOUR = 3600
DAY = 24 * HOUR


@dataclass(frozen=True)
class DepositRefundTake:
    """Self-assessment: deposit, refund if the model agrees later, take from data it disagrees with.

    deposit = cost_weight * 3600 // isqrt(max(1, seconds since the last update)), in wei.
    With the default cost weight, a contribution ten minutes after the previous one deposits
    1e12 * 3600 // 24 = 1.5e14 wei (0.00015 ether).
    """

    cost_weight: int = 10**12
    refund_wait: int = DAY
    owner_claim_wait: int = 9 * DAY
    any_address_claim_wait: int = 10 * DAY

    contract_name = "DepositRefundTake"

    def constructor_args(self) -> tuple:
        return (self.cost_weight, self.refund_wait, self.owner_claim_wait, self.any_address_claim_wait)


@dataclass(frozen=True)
class Points:
    """Gamified: free to add; validated contributions and good reports earn points."""

    refund_wait: int = DAY

    contract_name = "Points"

    def constructor_args(self) -> tuple:
        return (self.refund_wait,)


MECHANISMS = {"deposit-refund-take": DepositRefundTake, "points": Points}


def resolve(incentive) -> DepositRefundTake | Points:
    """A mechanism spec from a spec or a name (``"deposit-refund-take"``, ``"points"``)."""
    if isinstance(incentive, str):
        try:
            return MECHANISMS[incentive.lower().replace("_", "-")]()
        except KeyError:
            raise ValueError(f"unknown incentive mechanism {incentive!r}; choose one of {sorted(MECHANISMS)}") from None
    if not hasattr(incentive, "contract_name"):
        raise TypeError(f"{incentive!r} is not an incentive mechanism spec: pass a name or e.g. DepositRefundTake()")
    return incentive
