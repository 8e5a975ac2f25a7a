"""Incentive mechanisms: one spec per mechanism, and nothing else in the lab knows a mechanism by name.

A spec carries

- its contract (``contract_name``, ``constructor_args()``) and how to deploy it (:meth:`Mechanism.deploy`);
- its parameters (the dataclass fields);
- its exact rules in Python (:meth:`Mechanism.rules`): the contract's ``IIncentiveMechanism`` functions,
  checked in the contract's order and raising the contract's named errors as :class:`ContractRevert`,
  which twin-only runs play instead of the chain;
- the policy simulated contributors follow under it (:meth:`Mechanism.deposit_unit`,
  :meth:`Mechanism.worth_reporting`, :meth:`Mechanism.settled`).

A new mechanism is a contract implementing ``IIncentiveMechanism`` plus a subclass of :class:`Mechanism`
here (or anywhere: :func:`resolve` takes any spec object); registering it in :data:`MECHANISMS` lets
configs name it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from enum import IntEnum
from typing import ClassVar

from . import anatomy, market, system
from .errors import ContractRevert
from .fields import check_types

HOUR = 3600
DAY = 24 * HOUR
#: The longest wait a prediction market takes (its contract's MAX_WAIT): no phase may hold ether forever.
MAX_WAIT = 365 * DAY


class Mechanism:
    """What every mechanism spec provides. Subclasses are frozen dataclasses of their parameters."""

    def __post_init__(self):
        check_types(self, type(self).__name__)

    #: The compiled contract implementing the mechanism.
    contract_name: ClassVar[str]
    #: True when contributors settle in reward rounds after a reveal (the prediction market's protocol),
    #: False when each contribution is claimed on its own (refunds and reports through the trainer).
    settles_in_rounds: ClassVar[bool] = False
    #: Samples of the test split the mechanism needs as a hidden test set (0: none).
    hidden_test_size: ClassVar[int] = 0
    #: True when it pays in points (a point per validated contribution and per good report), not ether.
    pays_points: ClassVar[bool] = False
    #: True when a contribution pays for one report only (Points: the first reporter's point).
    reports_once: ClassVar[bool] = False

    def constructor_args(self) -> tuple:
        """Arguments of the contract's constructor."""
        raise NotImplementedError

    # -- deployment -----------------------------------------------------------------------------
    def deploy(self, chain, model, *, owner: str | None = None, name: str = "dcai-lab model", encoder=None,
               encoder_uri: str = "", test_set=None):
        """Deploy the model under this mechanism: a :class:`~dcai_lab.system.System` behind a
        CollaborativeTrainer."""
        return system.deploy_trainer(chain, model, self, owner=owner, name=name, encoder=encoder,
                                     encoder_uri=encoder_uri)

    # -- the contract's rules in Python --------------------------------------------------------
    def rules(self, *, owner: str, start: int) -> "Rules":
        """Fresh mechanism state with the contract's rules, as deployed by ``owner`` at time ``start``."""
        raise NotImplementedError(f"{type(self).__name__} has no Python rules: it runs on a chain only")

    @property
    def twin_only(self) -> bool:
        """Whether runs without a chain can play this mechanism (it has Python rules)."""
        return type(self).rules is not Mechanism.rules

    # -- what simulated contributors do ----------------------------------------------------------
    def deposit_unit(self) -> int:
        """Wei in one unit of a contributor's willingness to pay (see ``contributors``)."""
        return 1

    @property
    def claims_due_after(self) -> int:
        """Seconds after a contribution before anyone may claim from it."""
        return getattr(self, "refund_wait", 0)

    @property
    def sweep_after(self) -> int | None:
        """Seconds after a contribution when anyone but its author may take what is left of its deposit
        (None: never)."""
        return None

    def worth_reporting(self, left: int, reporter_valid) -> bool:
        """Whether a contributor reports a contribution the model disagrees with: ``left`` is what its
        record still holds, ``reporter_valid()`` the reporter's validated contributions (a call)."""
        return True

    def settled(self, left: int) -> bool:
        """Whether a contribution needs no more claims once everyone has had a turn at it."""
        return True

    def floor(self, operation: str, floor, system, contribution=None, sender: str | None = None) -> None:
        """Charge ``floor`` (a :class:`dcai_lab.floors.Floor`) with what this mechanism's rules cannot avoid in
        ``operation`` (``"add_data"``, ``"refund"`` of ``contribution``, ``"report"`` of it by ``sender``),
        read from the state the operation starts from: the mechanism's part of :mod:`dcai_lab.floors`."""
        raise NotImplementedError(f"{type(self).__name__} defines no floor for a trainer's operations")


class Rules:
    """Mechanism state and the contract's ``IIncentiveMechanism`` functions, in Python.

    ``time`` is the block time the contract would see. Every rule raises what its contract reverts with.
    """

    def __init__(self, spec: Mechanism, owner: str, start: int):
        self.spec, self.owner = spec, owner
        self.num_valid: dict[str, int] = {}

    def deposit_required(self, time: int) -> int:
        return 0

    def handle_add_data(self, contributor: str, sent: int, time: int) -> int:
        return 0

    def handle_refund(self, author: str, deposit: int, claimable: int, added_time: int, agrees: bool,
                      time: int) -> int:
        raise NotImplementedError

    def handle_report(self, reporter: str, author: str, key: bytes, deposit: int, claimable: int,
                      added_time: int, agrees: bool, time: int) -> int:
        raise NotImplementedError

    def _check_wait(self, operation: str, added_time: int, time: int) -> None:
        available_at = added_time + self.spec.refund_wait
        if time < available_at:
            raise ContractRevert(operation, "ClaimTooEarly", {"availableAt": available_at, "nowTime": time})


@dataclass(frozen=True)
class DepositRefundTake(Mechanism):
    """Self-assessment: deposit, refund if the model agrees later, take from data it disagrees with.

    deposit = cost_weight * 3600 // isqrt(max(1, seconds since the last update)), in wei.
    With the default cost weight, a contribution ten minutes after the previous one deposits
    1e12 * 3600 // 24 = 1.5e14 wei (0.00015 ether).
    """

    cost_weight: int = 10**12
    refund_wait: int = DAY
    owner_claim_wait: int = 9 * DAY
    any_address_claim_wait: int = 10 * DAY

    contract_name: ClassVar[str] = "DepositRefundTake"

    def constructor_args(self) -> tuple:
        return (self.cost_weight, self.refund_wait, self.owner_claim_wait, self.any_address_claim_wait)

    def rules(self, *, owner: str, start: int) -> "DepositRefundTakeRules":
        return DepositRefundTakeRules(self, owner, start)

    @property
    def sweep_after(self) -> int:
        return self.any_address_claim_wait

    def deposit_unit(self) -> int:
        """The deposit asked an hour after the last update: 60 * cost_weight."""
        return max(1, 60 * self.cost_weight)

    def worth_reporting(self, left: int, reporter_valid) -> bool:
        """Reports pay only while the record holds something, and only reporters with a validated
        contribution of their own."""
        return left > 0 and reporter_valid() > 0

    def settled(self, left: int) -> bool:
        return left == 0

    def floor(self, operation, floor, system, contribution=None, sender=None):
        """add_data: the time of the last update, read to price the deposit, then changed. refund: the author's
        validated count (a new slot for their first) and the total, one more each; the payment. report: the
        reporter's and the total validated counts, read for the share; the payment."""
        if operation == "add_data":
            floor.slot(False, "the time of the last update: it prices the deposit, then becomes now")
        elif operation == "refund":
            floor.slot(system.num_valid(contribution.author) == 0, "the author's validated count, one more")
            floor.slot(False, "the total validated count, one more")
            floor.pay()
        else:
            floor.charge("storage read", 2 * anatomy.COLD_SLOAD, "the reporter's and the total validated counts "
                                                                 "(the share)")
            floor.pay()


class DepositRefundTakeRules(Rules):
    spec: DepositRefundTake

    def __init__(self, spec: DepositRefundTake, owner: str, start: int):
        super().__init__(spec, owner, start)
        self.last_update = start
        self.total_valid = 0

    def deposit_required(self, time: int) -> int:
        elapsed = time - self.last_update if time > self.last_update else 1
        return self.spec.cost_weight * 3600 // math.isqrt(elapsed)

    def handle_add_data(self, contributor: str, sent: int, time: int) -> int:
        deposit = self.deposit_required(time)
        if sent < deposit:
            raise ContractRevert("add_data", "DepositTooSmall", {"required": deposit, "sent": sent})
        self.last_update = time
        return deposit

    def handle_refund(self, author, deposit, claimable, added_time, agrees, time) -> int:
        self._check_wait("refund", added_time, time)
        if not agrees:
            raise ContractRevert("refund", "ModelDisagrees")
        if claimable == 0:
            raise ContractRevert("refund", "NothingLeftToClaim")
        self.num_valid[author] = self.num_valid.get(author, 0) + 1
        self.total_valid += 1
        return claimable

    def handle_report(self, reporter, author, key, deposit, claimable, added_time, agrees, time) -> int:
        spec = self.spec
        if reporter == author:
            raise ContractRevert("report", "CannotReportOwnData")
        if claimable == 0:
            raise ContractRevert("report", "NothingLeftToClaim")
        age = time - added_time
        if age >= spec.any_address_claim_wait or (reporter == self.owner and age >= spec.owner_claim_wait):
            return claimable
        self._check_wait("report", added_time, time)
        if agrees:
            raise ContractRevert("report", "ModelAgrees")
        valid = self.num_valid.get(reporter, 0)
        if valid == 0:
            raise ContractRevert("report", "NoValidContributions", {"reporter": reporter})
        share = deposit * valid // self.total_valid
        if share == 0:
            raise ContractRevert("report", "ShareRoundsToZero",
                                 {"deposit": deposit, "reporterValid": valid, "totalValid": self.total_valid})
        return min(share, claimable)


class Badge(IntEnum):
    """Points' badges: each value is the badge's EIP-1155 token id in the Points contract (its bit in an
    address's badge bitmap)."""

    FIRST_VALIDATED = 0  #: the author's first validated (refunded) contribution
    VALIDATED_FEW = 1  #: its ``validated_few``-th validated contribution
    VALIDATED_MANY = 2  #: its ``validated_many``-th
    FIRST_REPORT = 3  #: the reporter's first report that earns a point
    STREAK = 4  #: ``streak_length`` refunds in a row, none of the author's contributions reported in between


@dataclass(frozen=True)
class Points(Mechanism):
    """Gamified: free to add; validated contributions and good reports earn points, and milestones earn
    badges (:class:`Badge`): the first validated contribution, the ``validated_few``-th and
    ``validated_many``-th, the first good report, and a streak of ``streak_length`` validated contributions.

    An address's streak counts its refunds since the last report of any of its contributions (a report
    that earns a point sets it to zero), in the order of transactions. Each badge is awarded once per
    address, in the transaction that reaches it, as a soulbound EIP-1155 token of the Points contract.
    """

    refund_wait: int = DAY
    validated_few: int = 10
    validated_many: int = 100
    streak_length: int = 5

    contract_name: ClassVar[str] = "Points"
    pays_points: ClassVar[bool] = True
    reports_once: ClassVar[bool] = True

    def __post_init__(self):
        super().__post_init__()
        # the constructor's checks, with its names
        for name, ok in (("validatedFew < 2", self.validated_few >= 2),
                         ("validatedMany <= validatedFew", self.validated_many > self.validated_few),
                         ("streakLength < 2", self.streak_length >= 2),
                         ("validatedMany >= 2**64", self.validated_many < 2**64),
                         ("streakLength >= 2**64", self.streak_length < 2**64)):
            if not ok:
                raise ValueError(f"Points: {name} (validated_few={self.validated_few}, validated_many="
                                 f"{self.validated_many}, streak_length={self.streak_length})")

    def constructor_args(self) -> tuple:
        return (self.refund_wait, self.validated_few, self.validated_many, self.streak_length)

    def rules(self, *, owner: str, start: int) -> "PointsRules":
        return PointsRules(self, owner, start)

    def badge_name(self, badge: int) -> str:
        """The contract's ``badgeName(id)``: ``first-validated``, ``validated-10``, ``validated-100``,
        ``first-report``, ``streak-5`` with the default thresholds."""
        return {Badge.FIRST_VALIDATED: "first-validated", Badge.VALIDATED_FEW: f"validated-{self.validated_few}",
                Badge.VALIDATED_MANY: f"validated-{self.validated_many}", Badge.FIRST_REPORT: "first-report",
                Badge.STREAK: f"streak-{self.streak_length}"}[Badge(badge)]

    def badge_names(self, bitmap: int) -> list[str]:
        """Names of the badges set in ``bitmap`` (bit ``id``: badge ``id``), in id order."""
        return [self.badge_name(b) for b in Badge if bitmap >> b & 1]

    def floor(self, operation, floor, system, contribution=None, sender=None):
        """add_data: nothing (no deposit, no book). refund: the author's book (points, validated count, streak
        and badges in one slot: new for their first claim), PointAwarded and a TransferSingle per badge the
        refund awards. report: the contribution's report point (a new slot), the reporter's book, the author's
        book read (a streak to end?) and changed when its streak ends, PointAwarded, TransferSingle per badge.
        No ether moves."""
        if operation == "add_data":
            return
        c = contribution
        who = c.author if operation == "refund" else sender
        book = tuple(system.chain.call(system.mechanism_contract.functions.accountOf(who)))
        if operation == "report":
            floor.slot(True, "the contribution's report point, checked not to exist")
        floor.slot(not any(book), ("the author's" if operation == "refund" else "the reporter's")
                   + " book: points, validated count, streak, badges")
        if operation == "report":
            floor.charge("storage read", anatomy.COLD_SLOAD, "the author's book: a streak to end?")
            streak = system.chain.call(system.mechanism_contract.functions.accountOf(c.author))[2]
            floor.charge("storage write", anatomy.SSTORE_RESET if streak else 0, "the author's streak ends")
        floor.charge("logs", anatomy.log_cost(2, 32), "PointAwarded(to indexed; total)")
        # which badges: this spec's own rules, from the account's book
        rules = self.rules(owner=system.chain.accounts[0], start=0)
        rules.points[who], rules.num_valid[who], rules.streak[who], rules.badges[who] = book
        time = c.added_time + self.refund_wait
        if operation == "refund":
            rules.handle_refund(who, c.deposit, c.deposit, c.added_time, True, time)
        else:
            rules.handle_report(who, c.author, c.key, c.deposit, c.deposit, c.added_time, False, time)
        badges = len(rules.badge_events)
        floor.charge("logs", badges * anatomy.log_cost(4, 64), f"TransferSingle for {badges} badge(s) awarded")


class PointsRules(Rules):
    """Points' contract in Python: per address its points, validated count, streak and badge bitmap, and
    every badge awarded as (holder, badge id) in the contract's event order."""

    spec: Points

    def __init__(self, spec: Points, owner: str, start: int):
        super().__init__(spec, owner, start)
        self.points: dict[str, int] = {}
        self.streak: dict[str, int] = {}
        self.badges: dict[str, int] = {}
        self.badge_events: list[tuple[str, int]] = []
        self.reported: set[bytes] = set()

    def handle_refund(self, author, deposit, claimable, added_time, agrees, time) -> int:
        self._check_wait("refund", added_time, time)
        if not agrees:
            raise ContractRevert("refund", "ModelDisagrees")
        spec = self.spec
        self.points[author] = self.points.get(author, 0) + 1
        valid = self.num_valid[author] = self.num_valid.get(author, 0) + 1
        streak = self.streak[author] = self.streak.get(author, 0) + 1
        earned = ((valid == 1) << Badge.FIRST_VALIDATED | (valid == spec.validated_few) << Badge.VALIDATED_FEW
                  | (valid == spec.validated_many) << Badge.VALIDATED_MANY
                  | (streak == spec.streak_length) << Badge.STREAK)
        self._award(author, earned)
        return 0

    def handle_report(self, reporter, author, key, deposit, claimable, added_time, agrees, time) -> int:
        if reporter == author:
            raise ContractRevert("report", "CannotReportOwnData")
        self._check_wait("report", added_time, time)
        if agrees:
            raise ContractRevert("report", "ModelAgrees")
        if key in self.reported:
            raise ContractRevert("report", "AlreadyReported", {"key": "0x" + bytes(key).hex()})
        self.reported.add(key)
        self.points[reporter] = self.points.get(reporter, 0) + 1
        self._award(reporter, 1 << Badge.FIRST_REPORT)
        if self.streak.get(author):
            self.streak[author] = 0
        return 0

    def _award(self, to: str, earned: int) -> None:
        """The badges of ``earned`` that ``to`` does not hold yet, with their events, lowest id first."""
        held = self.badges.get(to, 0)
        earned &= ~held
        if earned:
            self.badges[to] = held | earned
            self.badge_events += [(to, b) for b in Badge if earned >> b & 1]


@dataclass(frozen=True)
class PredictionMarket(Mechanism):
    """Prediction market: a provider's bounty pays for data by how much it improves the model on a test
    set committed in ``pieces`` hashed pieces and revealed after participation (see
    ``contracts/incentives/PredictionMarket.sol`` and :mod:`dcai_lab.market`).

    Participation ends after ``min_contributions`` contributions or ``min_duration`` seconds, whichever
    comes first; the provider then has ``reveal_wait`` seconds to reveal, and anyone ``reward_wait`` seconds
    after the reveal to process the rewards before anyone may cancel (each wait at most a year, so that no
    phase holds ether forever). ``test_size`` is how many
    samples of the test split an experiment uses as the provider's hidden test set (the rest measures
    accuracy). Amounts in wei. Its payouts without a chain: :func:`dcai_lab.market.settle`.
    """

    bounty: int = 10**18
    min_stake: int = 10**16
    pieces: int = 4
    test_size: int = 100
    min_contributions: int = 2**64
    min_duration: int = DAY
    reveal_wait: int = DAY
    reward_wait: int = 7 * DAY
    claim_wait: int = 7 * DAY

    contract_name: ClassVar[str] = "PredictionMarket"
    settles_in_rounds: ClassVar[bool] = True

    def __post_init__(self):
        super().__post_init__()
        if self.pieces < 2:
            raise ValueError("a prediction market needs at least 2 test-set pieces (one is revealed at the start)")
        if self.test_size < self.pieces:
            raise ValueError(f"test_size {self.test_size} is smaller than the {self.pieces} pieces")
        if self.bounty <= 0 or self.min_stake <= 0:
            raise ValueError("bounty and min_stake must be positive (wei)")
        if self.pieces > 256:
            raise ValueError(f"a prediction market takes at most 256 test-set pieces, got {self.pieces}")
        for name, low in (("min_duration", 0), ("reveal_wait", 1), ("reward_wait", 1), ("claim_wait", 0)):
            value = getattr(self, name)
            if not low <= value <= MAX_WAIT:
                raise ValueError(f"{name} must be {low} to {MAX_WAIT} s (at most a year: no phase may hold ether "
                                 f"forever), got {value}")

    @property
    def hidden_test_size(self) -> int:
        return self.test_size

    def constructor_args(self, piece_hashes, seed_commitment: bytes) -> tuple:
        return (list(piece_hashes), self.min_stake, self.min_contributions, self.min_duration, self.reveal_wait,
                self.reward_wait, self.claim_wait, seed_commitment)

    def deploy(self, chain, model, *, owner: str | None = None, name: str = "", encoder=None, encoder_uri: str = "",
               test_set=None):
        """Deploy a market as its provider; ``test_set`` is the hidden ``(X_test, y_test)``."""
        if test_set is None:
            raise ValueError("the prediction market needs the provider's hidden test set: pass test_set=(X, y) "
                             "(or use dcai_lab.deploy_market)")
        return market.deploy_market(chain, model, *test_set, self, owner=owner, encoder=encoder)

    def deposit_unit(self) -> int:
        return self.min_stake


MECHANISMS: dict[str, type[Mechanism]] = {"deposit-refund-take": DepositRefundTake, "points": Points,
                                          "prediction-market": PredictionMarket}


def resolve(incentive) -> Mechanism:
    """A mechanism spec from a spec or a name (``"deposit-refund-take"``, ``"points"``,
    ``"prediction-market"``)."""
    if isinstance(incentive, str):
        try:
            return MECHANISMS[incentive.lower().replace("_", "-")]()
        except KeyError:
            raise ValueError(f"unknown incentive mechanism {incentive!r}; choose one of {sorted(MECHANISMS)}") from None
    if not hasattr(incentive, "contract_name") or not hasattr(incentive, "deploy"):
        raise TypeError(f"{incentive!r} is not an incentive mechanism spec: pass a name or e.g. DepositRefundTake()")
    return incentive


def build(incentive, params: dict | None = None) -> Mechanism:
    """The spec named ``incentive`` with ``params`` (a config's ``incentive_params``), checked."""
    spec = resolve(incentive)
    if not params:
        return spec
    known = [f.name for f in fields(spec)]
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ValueError(f"unknown parameters {unknown} for {type(spec).__name__}; it takes {known}")
    return type(spec)(**params)


def deploy_system(chain, model, incentive="deposit-refund-take", **kwargs):
    """Deploy ``model`` (a twin, whose state becomes the contract's initial state) under ``incentive`` (a
    name or a spec): the spec decides what is deployed. See :meth:`Mechanism.deploy`."""
    return resolve(incentive).deploy(chain, model, **kwargs)


def deploy_market(chain, model, X_test, y_test, mechanism=None, **kwargs):
    """Deploy a prediction market as its provider, with ``mechanism`` (default settings if None); see
    :func:`dcai_lab.market.deploy_market`."""
    mechanism = PredictionMarket() if mechanism is None else resolve(mechanism)
    return mechanism.deploy(chain, model, test_set=(X_test, y_test), **kwargs)
