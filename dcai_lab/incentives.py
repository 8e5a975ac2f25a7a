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


@dataclass(frozen=True)
class PredictionMarket:
    """Prediction market: a provider's bounty pays for data by how much it improves the model on a test
    set committed in ``pieces`` hashed pieces and revealed after participation (see
    ``contracts/incentives/PredictionMarket.sol`` and :mod:`dcai_lab.market`).

    Participation ends after ``min_contributions`` contributions or ``min_duration`` seconds, whichever
    comes first; the provider then has ``reveal_wait`` seconds to reveal. ``test_size`` is how many
    samples of the test split an experiment uses as the provider's hidden test set (the rest measures
    accuracy). Amounts in wei.
    """

    bounty: int = 10**18
    min_stake: int = 10**16
    pieces: int = 4
    test_size: int = 100
    min_contributions: int = 2**64
    min_duration: int = DAY
    reveal_wait: int = DAY
    claim_wait: int = 7 * DAY

    contract_name = "PredictionMarket"

    def __post_init__(self):
        if self.pieces < 2:
            raise ValueError("a prediction market needs at least 2 test-set pieces (one is revealed at the start)")
        if self.test_size < self.pieces:
            raise ValueError(f"test_size {self.test_size} is smaller than the {self.pieces} pieces")
        if self.bounty <= 0 or self.min_stake <= 0:
            raise ValueError("bounty and min_stake must be positive (wei)")

    def constructor_args(self, piece_hashes) -> tuple:
        return (list(piece_hashes), self.min_stake, self.min_contributions, self.min_duration, self.reveal_wait,
                self.claim_wait)


MECHANISMS = {"deposit-refund-take": DepositRefundTake, "points": Points, "prediction-market": PredictionMarket}


def resolve(incentive) -> DepositRefundTake | Points | PredictionMarket:
    """A mechanism spec from a spec or a name (``"deposit-refund-take"``, ``"points"``,
    ``"prediction-market"``)."""
    if isinstance(incentive, str):
        try:
            return MECHANISMS[incentive.lower().replace("_", "-")]()
        except KeyError:
            raise ValueError(f"unknown incentive mechanism {incentive!r}; choose one of {sorted(MECHANISMS)}") from None
    if not hasattr(incentive, "contract_name"):
        raise TypeError(f"{incentive!r} is not an incentive mechanism spec: pass a name or e.g. DepositRefundTake()")
    return incentive
