"""Simulated contributors: how often they contribute, how right their labels are, what they will deposit."""
from __future__ import annotations

from dataclasses import dataclass

from .fields import check_types

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
        Mean seconds between turns.
    deposit_mean, deposit_std : float
        Willingness to deposit, drawn for each contribution, in deposit units (see ``Experiment``) and
        capped by the contributor's balance: it skips its turn when the mechanism asks for more.
    claims : bool
        Whether it claims refunds and reports others' data when the rules pay.
    wait_std : float or None
        None: turns are exponentially spaced (a Poisson process, this lab's contributors). A number: the
        wait is normal with this standard deviation, at least one second (the 2020 simulation's agents,
        which act almost like clockwork).
    accuracy_margin : float or None
        None: it contributes at every turn. A number: it contributes only with probability ``accuracy +
        accuracy_margin`` (the last measured accuracy), as the 2020 simulation's good agent, which works
        only while the model is doing well.
    contributes : bool
        False: a free rider, which never adds data and only claims (reports others' data) at its turns and
        at evaluation ticks.
    replicates : float
        Probability that a turn re-submits a copy of one of its own earlier contributions (the same sample
        with the same label, drawn at random) instead of a new sample: data that adds nothing the model has
        not seen, paid as if it were new when the model agrees.
    colludes : bool
        Contributors whose kind colludes form one ring: when one of them may report a ring member's
        contribution, the ring reports it before anyone else can (under Points the report point stays in
        the ring; under Deposit-Refund-Take the ring takes its shares of the deposit first); others' data
        ring members report like anyone.
    """

    kind: str
    mistake_rate: float
    interval: float
    deposit_mean: float
    deposit_std: float
    claims: bool = True
    wait_std: float | None = None
    accuracy_margin: float | None = None
    contributes: bool = True
    replicates: float = 0.0
    colludes: bool = False

    def __post_init__(self):
        check_types(self, f"contributor kind {self.kind!r}")
        if not 0 <= self.mistake_rate <= 1:
            raise ValueError(f"mistake_rate must be a probability, got {self.mistake_rate}")
        if self.interval <= 0:
            raise ValueError(f"interval must be positive seconds, got {self.interval}")
        if not 0 <= self.replicates <= 1:
            raise ValueError(f"replicates must be a probability, got {self.replicates}")
        if self.wait_std is not None and self.wait_std < 0:
            raise ValueError(f"wait_std must be zero or more seconds (or left out for exponential waits), "
                             f"got {self.wait_std}")


# As in earlier work: honest agents deposit ~N(50, 10) every ~10 minutes; the adversary ~N(100, 3)
# hourly and flips every label. Noisy and lazy agents are variants. "good" and "bad" are the 2020
# simulation's two agents (Harris 2020): near-periodic turns, a good agent that almost never errs and works
# only while the model is good, a bad agent that flips every label.
KINDS = {
    "honest": Contributor("honest", mistake_rate=0.02, interval=10 * MINUTE, deposit_mean=50, deposit_std=10),
    "adversarial": Contributor("adversarial", mistake_rate=1.0, interval=HOUR, deposit_mean=100, deposit_std=3),
    "noisy": Contributor("noisy", mistake_rate=0.3, interval=10 * MINUTE, deposit_mean=50, deposit_std=10),
    "lazy": Contributor("lazy", mistake_rate=0.02, interval=10 * MINUTE, deposit_mean=50, deposit_std=10, claims=False),
    "good": Contributor("good", mistake_rate=0.0001, interval=10 * MINUTE, deposit_mean=50, deposit_std=10,
                        wait_std=1, accuracy_margin=0.15),
    "bad": Contributor("bad", mistake_rate=1.0, interval=HOUR, deposit_mean=100, deposit_std=3, wait_std=1),
    # Kinds that stress what the mechanisms pay for (data valuation, ``dcai_lab.valuation``): half the turns
    # of a replicator re-submit its own earlier data; a colluding ring adds wrong labels and reports them
    # for one another; a free rider adds nothing and reports.
    "replicator": Contributor("replicator", mistake_rate=0.02, interval=10 * MINUTE, deposit_mean=50, deposit_std=10,
                              replicates=0.5),
    "colluder": Contributor("colluder", mistake_rate=1.0, interval=HOUR, deposit_mean=50, deposit_std=10,
                            colludes=True),
    "free-rider": Contributor("free-rider", mistake_rate=0.0, interval=10 * MINUTE, deposit_mean=0, deposit_std=0,
                              contributes=False),
}
#: Kinds that count as acting in good faith, for reports that split contributors into good and bad.
GOOD_KINDS = ("honest", "good", "noisy", "lazy")


def make(kind: str, **overrides) -> Contributor:
    try:
        base = KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown contributor kind {kind!r}; choose one of {', '.join(KINDS)}") from None
    unknown = sorted(set(overrides) - set(base.__dict__))
    if unknown:
        raise ValueError(f"unknown contributor settings {unknown} for kind {kind!r}; known: "
                         f"{sorted(k for k in base.__dict__ if k != 'kind')} and count")
    return Contributor(**{**base.__dict__, **overrides})
