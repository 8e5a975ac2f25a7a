"""Simulated contributors: how often they contribute, how right their labels are, what they will deposit."""
from __future__ import annotations

from dataclasses import dataclass

MINUTE, HOUR = 60, 3600


@dataclass(frozen=True)
class Contributor:
    """A kind of contributor.

    Parameters
    ----------
    kind : str
    mistake_rate : float
        Probability of giving a wrong label (1.0 flips every label).
    interval : float
        Mean seconds between contributions (exponentially distributed).
    deposit_mean, deposit_std : float
        Willingness to deposit, drawn for each contribution, in deposit units (see ``Experiment``): the
        contributor skips its turn when the mechanism asks for more.
    claims : bool
        Whether it claims refunds and reports others' data when the rules pay.
    """

    kind: str
    mistake_rate: float
    interval: float
    deposit_mean: float
    deposit_std: float
    claims: bool = True


# As in earlier work: honest agents deposit ~N(50, 10) every ~10 minutes; the adversary ~N(100, 3)
# hourly and flips every label. Noisy and lazy agents are variants.
KINDS = {
    "honest": Contributor("honest", mistake_rate=0.02, interval=10 * MINUTE, deposit_mean=50, deposit_std=10),
    "adversarial": Contributor("adversarial", mistake_rate=1.0, interval=HOUR, deposit_mean=100, deposit_std=3),
    "noisy": Contributor("noisy", mistake_rate=0.3, interval=10 * MINUTE, deposit_mean=50, deposit_std=10),
    "lazy": Contributor("lazy", mistake_rate=0.02, interval=10 * MINUTE, deposit_mean=50, deposit_std=10, claims=False),
}


def make(kind: str, **overrides) -> Contributor:
    try:
        base = KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown contributor kind {kind!r}; choose one of {', '.join(KINDS)}") from None
    return Contributor(**{**base.__dict__, **overrides})
