"""One deployed CollaborativeTrainer with its model, data handler and incentive mechanism."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from eth_abi import encode
from eth_utils import keccak
from web3.logs import DISCARD

from . import incentives
from .chain import Chain
from .models import ChainModel


@dataclass(frozen=True)
class Contribution:
    """One AddData as the chain recorded it: everything needed to refund or report it."""

    data: tuple[int, ...]
    label: int
    added_time: int
    author: str
    deposit: int

    @cached_property  # a frozen dataclass still has a __dict__ to cache in
    def key(self) -> bytes:
        """The data handler's record key: keccak256(abi.encode(data, label, addedTime, author))."""
        return keccak(encode(["int64[]", "uint64", "uint256", "address"],
                             [list(self.data), self.label, self.added_time, self.author]))


class System:
    """A deployed trainer and its parts; use :func:`deploy_system` (or ``chain.deploy_system``).

    Attributes ``trainer``, ``model``, ``data_handler`` and ``incentive_mechanism`` are web3 contracts.
    """

    def __init__(self, chain: Chain, trainer, model, data_handler, incentive_mechanism, twin_class,
                 incentive, encoder=None):
        self.chain = chain
        self.trainer = trainer
        self.model = model
        self.data_handler = data_handler
        self.incentive_mechanism = incentive_mechanism
        self.twin_class = twin_class
        self.incentive = incentive
        self.encoder = encoder

    def __repr__(self):
        return (f"<System {self.chain.call(self.trainer.functions.name())!r} at {self.trainer.address}: "
                f"{self.twin_class.__name__} under {self.incentive.contract_name}>")

    def _data(self, x) -> list[int]:
        if isinstance(x, str):
            if self.encoder is None:
                raise TypeError("got raw text but this system has no encoder: pass encoder= to deploy_system "
                                "or encode the sample first")
            x = self.encoder.encode_one(x)
        return [int(v) for v in x]

    def deposit_required(self, at: int | None = None) -> int:
        """Deposit addData requires at time ``at``, by default in the next block.

        The deposit only falls while no one adds data, so this is enough for any later block too;
        the trainer returns whatever is sent beyond the deposit.
        """
        at = self.chain.now + 1 if at is None else at
        return self.chain.call(self.incentive_mechanism.functions.depositRequired(at))

    def add_data(self, x, label: int, *, sender: str | None = None, value: int | None = None) -> Contribution:
        """Contribute one sample; pays the required deposit unless ``value`` says otherwise."""
        sender = sender or self.chain.accounts[0]
        value = self.deposit_required() if value is None else value
        receipt = self.chain.transact(self.trainer.functions.addData(self._data(x), int(label)), sender=sender,
                                      value=value, operation="add_data")
        event = self.trainer.events.AddData().process_receipt(receipt, errors=DISCARD)[0]["args"]
        return Contribution(tuple(event["data"]), event["label"], event["addedTime"], event["author"], event["deposit"])

    def refund(self, contribution: Contribution, *, sender: str | None = None) -> int:
        """The author claims back their contribution; returns the amount paid."""
        c = contribution
        receipt = self.chain.transact(self.trainer.functions.refund(list(c.data), c.label, c.added_time),
                                      sender=sender or c.author, operation="refund")
        return self.trainer.events.Refund().process_receipt(receipt, errors=DISCARD)[0]["args"]["amount"]

    def report(self, contribution: Contribution, *, sender: str) -> int:
        """``sender`` claims from someone else's contribution; returns the amount paid."""
        c = contribution
        receipt = self.chain.transact(self.trainer.functions.report(list(c.data), c.label, c.added_time, c.author),
                                      sender=sender, operation="report")
        return self.trainer.events.Report().process_receipt(receipt, errors=DISCARD)[0]["args"]["amount"]

    def predict(self, x) -> int:
        """Free prediction by the contract (a call, no transaction)."""
        return self.chain.call(self.trainer.functions.predict(self._data(x)))

    def evaluate(self, X, y) -> int:
        """Number of samples the contract classifies correctly (one call)."""
        return self.chain.call(self.model.functions.evaluate([self._data(x) for x in X], [int(v) for v in y]))

    @property
    def num_classes(self) -> int:
        return self.chain.call(self.model.functions.numClasses())

    def claimable(self, contribution: Contribution) -> int:
        """What the contribution's record still holds."""
        return self.chain.call(self.data_handler.functions.records(contribution.key))[1]

    def has_claimed(self, contribution: Contribution, claimant: str) -> bool:
        return self.chain.call(self.data_handler.functions.hasClaimed(contribution.key, claimant, contribution.author))

    def num_valid(self, account: str) -> int:
        """Validated (refunded) contributions of ``account`` under Deposit-Refund-Take."""
        return self.chain.call(self.incentive_mechanism.functions.numValid(account))

    def encoder_matches(self, encoder) -> bool:
        """Whether ``encoder`` is the one recorded in the trainer (keccak256 of its JSON)."""
        return keccak(text=encoder.to_json()) == self.chain.call(self.trainer.functions.encoderHash())

    def twin(self, **params) -> ChainModel:
        """A Python twin holding the deployed model's current state."""
        return self.twin_class.from_chain(self.model, **params)

    def contributions(self, from_block: int = 0) -> list[Contribution]:
        """Every contribution, rebuilt from the trainer's AddData events."""
        logs = self.trainer.events.AddData().get_logs(from_block=from_block)
        return [Contribution(tuple(e.args.data), e.args.label, e.args.addedTime, e.args.author, e.args.deposit)
                for e in logs]


def deploy_model(chain: Chain, model: ChainModel, owner: str, operation: str = "deploy") -> object:
    """Deploy ``model``'s contract with the twin's state as its initial state, in block-sized chunks."""
    if not isinstance(model, ChainModel):
        raise TypeError(f"model must be a dcai_lab.models twin, got {type(model).__name__}")
    contract = chain.deploy(model.contract_name, *model.constructor_args(), sender=owner,
                            operation=f"{operation}:{model.contract_name}")
    for call, name in model.init_calls(contract, chain.block_gas_limit):
        chain.transact(call, sender=owner, operation=name.replace("deploy", operation, 1))
    return contract


def deploy_system(chain: Chain, model: ChainModel, incentive="deposit-refund-take", *, owner: str | None = None,
                  name: str = "dcai-lab model", encoder=None, encoder_uri: str = "") -> System:
    """Deploy model (with its initial parameters), data handler, mechanism and trainer, and bind them.

    ``model`` is a twin (fitted or not) whose state becomes the contract's initial state.
    ``incentive`` is ``"deposit-refund-take"``, ``"points"`` or a spec from :mod:`dcai_lab.incentives`.
    Every transaction is named ``deploy:...`` in the gas ledger; initialisation is chunked so that
    each fits in a block.
    """
    spec = incentives.resolve(incentive)
    if spec.contract_name == "PredictionMarket":
        raise ValueError("the prediction market is its own entry point: use dcai_lab.market.deploy_market "
                         "(it needs the provider's hidden test set)")
    owner = owner or chain.accounts[0]
    model_contract = deploy_model(chain, model, owner)
    data_handler = chain.deploy("DataHandler", sender=owner, operation="deploy:DataHandler")
    mechanism = chain.deploy(spec.contract_name, *spec.constructor_args(), sender=owner,
                             operation=f"deploy:{spec.contract_name}")
    encoder_hash = keccak(text=encoder.to_json()) if encoder is not None else bytes(32)
    trainer = chain.deploy("CollaborativeTrainer", name, model_contract.address, data_handler.address,
                           mechanism.address, encoder_hash, encoder_uri, sender=owner,
                           operation="deploy:CollaborativeTrainer")
    for part in (model_contract, data_handler, mechanism):
        chain.transact(part.functions.setTrainer(trainer.address), sender=owner, operation="deploy:bind")
    return System(chain, trainer, model_contract, data_handler, mechanism, type(model), spec, encoder)
