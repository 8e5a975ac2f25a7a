"""One deployed CollaborativeTrainer with its model, data handler and incentive mechanism."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from eth_utils import keccak

from . import abi, inputs
from .deployed import DeployedModel, Payout, deploy_model
from .models import ChainModel


@dataclass(frozen=True)
class Contribution:
    """One AddData as the chain recorded it: everything needed to refund or report it. ``gas_used`` is the
    gas of the transaction that added it (None when rebuilt from logs)."""

    data: tuple[int, ...]
    label: int
    added_time: int
    author: str
    deposit: int
    gas_used: int | None = field(default=None, compare=False)

    @cached_property  # a frozen dataclass still has a __dict__ to cache in
    def key(self) -> bytes:
        """The data handler's record key: keccak256(abi.encode(data, label, addedTime, author))."""
        return keccak(abi.encode_arguments(["int64[]", "uint64", "uint256", "address"],
                             [list(self.data), self.label, self.added_time, self.author]))


class System:
    """A deployed trainer and its parts; use :func:`dcai_lab.deploy_system` (or ``chain.deploy_system``).

    ``trainer``, ``model_contract``, ``data_handler`` and ``mechanism_contract`` are web3 contracts;
    ``mechanism`` is the spec it was deployed with; ``twin()`` the model's current state in Python.
    """

    def __init__(self, chain, trainer, model: DeployedModel, data_handler, mechanism_contract, mechanism,
                 first_block: int = 0):
        self.chain = chain
        self.first_block = first_block  # the trainer's deployment: its events are not older
        self.trainer = trainer
        self.deployed = model
        self.data_handler = data_handler
        self.mechanism_contract = mechanism_contract
        self.mechanism = mechanism

    def __repr__(self):
        return (f"<System {self.chain.call(self.trainer.functions.name())!r} at {self.trainer.address}: "
                f"{self.deployed.twin_class.__name__} under {self.mechanism.contract_name}>")

    @property
    def model_contract(self):
        return self.deployed.model_contract

    @property
    def encoder(self):
        return self.deployed.encoder

    def deposit_required(self, at: int | None = None) -> int:
        """Deposit addData requires at time ``at``, by default in the next block.

        The deposit only falls while no one adds data, so this is enough for any later block too;
        the trainer returns whatever is sent beyond the deposit.
        """
        at = self.chain.now + 1 if at is None else at
        return self.chain.call(self.mechanism_contract.functions.depositRequired(at))

    def add_data(self, x, label: int, *, sender: str | None = None, value: int | None = None) -> Contribution:
        """Contribute one sample; pays the required deposit unless ``value`` says otherwise."""
        sender = sender or self.chain.accounts[0]
        value = self.deposit_required() if value is None else value
        receipt = self.chain.transact(self.trainer.functions.addData(self.deployed.encode(x), inputs.label(label)),
                                      sender=sender, value=value, operation="add_data")
        event = abi.event(self.trainer, "AddData", receipt)
        return Contribution(tuple(event["data"]), event["label"], event["addedTime"], event["author"],
                            event["deposit"], receipt["gasUsed"])

    def refund(self, contribution: Contribution, *, sender: str | None = None) -> Payout:
        """The author claims back their contribution; returns the amount paid."""
        c = contribution
        receipt = self.chain.transact(self.trainer.functions.refund(list(c.data), c.label, c.added_time),
                                      sender=sender or c.author, operation="refund")
        amount = abi.event(self.trainer, "Refund", receipt)["amount"]
        return Payout(amount, receipt["gasUsed"])

    def report(self, contribution: Contribution, *, sender: str) -> Payout:
        """``sender`` claims from someone else's contribution; returns the amount paid."""
        c = contribution
        receipt = self.chain.transact(self.trainer.functions.report(list(c.data), c.label, c.added_time, c.author),
                                      sender=sender, operation="report")
        amount = abi.event(self.trainer, "Report", receipt)["amount"]
        return Payout(amount, receipt["gasUsed"])

    def predict(self, x) -> int:
        """Free prediction by the contract (a call, no transaction)."""
        return self.deployed.predict(x)

    def evaluate(self, X, y) -> int:
        """Number of samples the contract classifies correctly (one call)."""
        return self.deployed.evaluate(X, y)

    @property
    def num_classes(self) -> int:
        return self.deployed.num_classes

    def twin(self, **params) -> ChainModel:
        """A Python twin holding the deployed model's current state."""
        return self.deployed.twin(**params)

    def claimable(self, contribution: Contribution) -> int:
        """What the contribution's record still holds."""
        return self.chain.call(self.data_handler.functions.records(contribution.key))[1]

    def has_claimed(self, contribution: Contribution, claimant: str) -> bool:
        return self.chain.call(self.data_handler.functions.hasClaimed(contribution.key, claimant, contribution.author))

    def num_valid(self, account: str) -> int:
        """Validated (refunded) contributions of ``account``."""
        return self.chain.call(self.mechanism_contract.functions.numValid(account))

    # -- points and badges (Points) -------------------------------------------------------------
    def points(self, account: str) -> int:
        """Points of ``account`` (Points only)."""
        require_badges(self.mechanism, "points()")
        return self.chain.call(self.mechanism_contract.functions.points(account))

    def badges(self, account: str) -> list[str]:
        """Names of the badges ``account`` holds, in badge id order (Points only): the contract's bitmap."""
        require_badges(self.mechanism, "badges()")
        return self.mechanism.badge_names(self.chain.call(self.mechanism_contract.functions.accountOf(account))[3])

    def badge_events(self) -> list[dict]:
        """Every badge awarded, in order, from the mechanism's EIP-1155 mint events (``TransferSingle`` from
        address 0): holder, badge id and name (Points only)."""
        require_badges(self.mechanism, "badge_events()")
        logs = self.mechanism_contract.events.TransferSingle().get_logs(from_block=self.first_block)
        return [{"holder": e.args.to, "badge": e.args.id, "name": self.mechanism.badge_name(e.args.id)}
                for e in logs if int(e.args["from"], 16) == 0]

    def leaderboard(self):
        """One row per address with points or badges (Points only), best first: points, badges (names),
        validated contributions, contributions added (from the trainer's AddData events), the validated
        share of them (NaN for an address that only reported) and the current streak. A DataFrame indexed
        by address."""
        require_badges(self.mechanism, "leaderboard()")
        logs = self.mechanism_contract.events.PointAwarded().get_logs(from_block=self.first_block)
        added = Counter(e.args.author for e in self.trainer.events.AddData().get_logs(from_block=self.first_block))
        rows = []
        for account in dict.fromkeys(e.args.to for e in logs):  # every address with a point, in first order
            points, valid, streak, badges = self.chain.call(self.mechanism_contract.functions.accountOf(account))
            rows.append({"address": account, "points": points, "badges": tuple(self.mechanism.badge_names(badges)),
                         "validated": valid, "contributions": added[account], "streak": streak})
        return leaderboard_frame(rows)

    def encoder_matches(self, encoder) -> bool:
        """Whether ``encoder`` is the one recorded in the trainer (keccak256 of its JSON)."""
        return keccak(text=encoder.to_json()) == self.chain.call(self.trainer.functions.encoderHash())

    def contributions(self, from_block: int | None = None) -> list[Contribution]:
        """Every contribution (since block ``from_block``, by default the trainer's deployment), rebuilt from
        the trainer's AddData events."""
        start = self.first_block if from_block is None else from_block
        logs = self.trainer.events.AddData().get_logs(from_block=start)
        return [Contribution(tuple(e.args.data), e.args.label, e.args.addedTime, e.args.author, e.args.deposit)
                for e in logs]


def require_badges(mechanism, what: str) -> None:
    """Refuse ``what`` (a method) on a system whose mechanism awards no points and badges."""
    if not hasattr(mechanism, "badge_names"):
        raise TypeError(f"{what} reads points and badges, which only Points awards; this system runs "
                        f"{mechanism.contract_name}, which awards neither (its contributors' validated "
                        "contributions: system.num_valid(account))")


LEADERBOARD_COLUMNS = ["points", "badges", "validated", "contributions", "validated_share", "streak"]


def leaderboard_frame(rows: list[dict]):
    """The leaderboard's DataFrame from rows of address, points, badges, validated, contributions and
    streak: the validated share added, sorted by points, then badges, then validated (address breaks ties)."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=["address", "points", "badges", "validated", "contributions", "streak"])
    added = frame["contributions"].where(frame["contributions"] > 0)  # NaN: nothing added, no share
    frame["validated_share"] = (frame["validated"] / added).astype(float)
    frame["badge_count"] = frame["badges"].map(len)
    frame = frame.sort_values(["points", "badge_count", "validated", "address"],
                              ascending=[False, False, False, True])
    return frame.set_index("address")[LEADERBOARD_COLUMNS]


def deploy_trainer(chain, model: ChainModel, mechanism, *, owner: str | None = None, name: str = "dcai-lab model",
                   encoder=None, encoder_uri: str = "") -> System:
    """Deploy model (with its initial parameters), the mechanism's contract and a trainer (which creates its data
    handler), and bind model and mechanism to the trainer. ``mechanism`` is a spec (:mod:`dcai_lab.incentives`): its contract and constructor arguments.

    Every transaction is in the gas ledger's ``deploy`` phase; initialisation is chunked so that each fits in
    a block.
    """
    owner = owner or chain.accounts[0]
    deployed = deploy_model(chain, model, owner, encoder=encoder)
    mechanism_contract = chain.deploy(mechanism.contract_name, *mechanism.constructor_args(), sender=owner)
    encoder_hash = keccak(text=encoder.to_json()) if encoder is not None else bytes(32)
    trainer = chain.deploy("CollaborativeTrainer", name, deployed.model_contract.address,
                           mechanism_contract.address, encoder_hash, encoder_uri, sender=owner)
    first_block = chain.gas.records[-1].block_number
    data_handler = chain.contract("DataHandler", chain.call(trainer.functions.dataHandler()))
    for part in (deployed.model_contract, mechanism_contract):
        chain.transact(part.functions.setTrainer(trainer.address), sender=owner, operation="bind", phase="deploy")
    return System(chain, trainer, deployed, data_handler, mechanism_contract, mechanism, first_block)
