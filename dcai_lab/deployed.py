"""A model contract on a chain, with its twin: what a trainer's :class:`~dcai_lab.system.System` and a
prediction :class:`~dcai_lab.market.Market` share."""
from __future__ import annotations

from . import inputs
from .models import ChainModel, registry


class DeployedModel:
    """A deployed model contract: free predictions and evaluations by the contract, its current state as a
    Python twin, and raw input (text) encoded with the encoder it was deployed with.

    ``model_contract`` is the web3 contract; ``twin()`` the Python model holding its state.
    """

    def __init__(self, chain, model_contract, twin_class: type[ChainModel], encoder=None):
        self.chain = chain
        self.model_contract = model_contract
        self.twin_class = twin_class
        self.encoder = encoder
        self.dense = registry.entry_for(twin_class).input_kind == registry.DENSE

    def encode(self, x, where: str = "sample") -> list[int]:
        """A sample as the contract takes it: raw text goes through the encoder; anything else must already
        be integers in int64 (:func:`dcai_lab.inputs.sample` refuses floats, NaN and out-of-range values)."""
        if isinstance(x, str):
            if self.encoder is None:
                raise TypeError("got raw text but this model has no encoder: pass encoder= when deploying, or "
                                "encode the sample first")
            x = self.encoder.encode_one(x)
        return inputs.sample(x, dense=self.dense, where=where)

    def predict(self, x) -> int:
        """Free prediction by the contract (a call, no transaction)."""
        return self.chain.call(self.model_contract.functions.predict(self.encode(x)))

    def evaluate(self, X, y) -> int:
        """Number of samples the contract classifies correctly (one call)."""
        return self.chain.call(self.model_contract.functions.evaluate(
            [self.encode(x, f"sample {i}") for i, x in enumerate(X)], inputs.labels(y)))

    @property
    def num_classes(self) -> int:
        return self.chain.call(self.model_contract.functions.numClasses())

    def twin(self, **params) -> ChainModel:
        """A Python twin holding the deployed model's current state."""
        return self.twin_class.from_chain(self.model_contract, **params)


class Payout(int):
    """An amount paid (wei; 0 under Points), carrying the gas of the transaction that paid it."""

    gas_used: int | None

    def __new__(cls, amount: int, gas_used: int | None = None):
        value = super().__new__(cls, amount)
        value.gas_used = gas_used
        return value

    def __repr__(self):
        return f"Payout({int(self)}, gas_used={self.gas_used})"


def deploy_model(chain, model: ChainModel, owner: str, phase: str = "deploy", encoder=None) -> DeployedModel:
    """Deploy ``model``'s contract with the twin's state as its initial state, in block-sized chunks."""
    if not isinstance(model, ChainModel):
        raise TypeError(f"model must be a dcai_lab.models twin, got {type(model).__name__}")
    contract = chain.deploy(model.contract_name, *model.constructor_args(), sender=owner, phase=phase)
    for call, name in model.init_calls(contract, chain.tx_gas_limit):
        chain.transact(call, sender=owner, operation=name, phase=phase)
    return DeployedModel(chain, contract, type(model), encoder)
