"""The chain: accounts, deployment, transactions with readable reverts, time travel, snapshots and a gas ledger.

How a transaction travels (straight into an embedded py-evm, as bare JSON-RPC to a node, through web3.py's
request path, or nowhere for twin-only runs) is a :class:`~dcai_lab.transports.Transport`'s business; a
:class:`Chain` holds one and offers the same API over all of them. Knows nothing about machine learning.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from eth_abi.exceptions import DecodingError
from eth_utils.abi import get_abi_output_types
from web3.contract import Contract
from web3.exceptions import BadFunctionCallOutput

from . import abi, artifacts, settings
from .errors import ContractRevert
from .gas import GasLedger, GasRecord
from .gas import label as gas_label
from .transports import (BLOCK_GAS_LIMIT, GENESIS_TIME, TWIN_START, TX_GAS_CAP, EdrRPC, EmbeddedEVM, NoChain,
                         NodeRPC, Transport, Tx, Web3Path)

__all__ = ["BACKENDS", "BLOCK_GAS_LIMIT", "GENESIS_TIME", "TX_GAS_CAP", "Chain", "fastest_backend"]

#: Backends a config can name, and how each builds its chain (a node's URL is a backend too).
BACKENDS = {
    "py-evm": lambda cls, hardfork: cls(),
    "anvil": lambda cls, hardfork: cls.anvil(hardfork=hardfork),
    "edr": lambda cls, hardfork: cls.edr(hardfork=hardfork),
    "rpc": None,  # the node at $DCAI_LAB_RPC_URL: see Chain.for_backend
    "twin": lambda cls, hardfork: cls.twin_only(),
}



def check_backend(backend: str) -> None:
    """Refuse a backend name that cannot run here, with the fix."""
    if backend.startswith(("http://", "https://")):
        return
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}, or give the http(s) "
                         "URL of a development node that can move time (anvil, hardhat)")
    if backend == "edr":
        from . import edr

        if not edr.available():
            raise ValueError(edr.INSTALL_HINT)
    if backend == "rpc" and settings.rpc_url() is None:
        raise ValueError(f"backend 'rpc' runs on the node at ${settings.RPC_URL}, which is not set: export it "
                         "(e.g. http://127.0.0.1:8545), keeping any API key in the URL out of configs")


def fastest_backend() -> str:
    """``"edr"`` when this machine can run the fast engine (Node and its npm package), else ``"py-evm"``,
    which needs nothing. Both give the same gas, accuracy and balances for the same seeded run: this
    chooses only how long it takes. Notebooks use it for their full settings."""
    from . import edr

    return "edr" if edr.available() else "py-evm"


class Chain:
    """A chain to deploy and drive contracts on.

    Parameters
    ----------
    rpc_url : str, optional
        A JSON-RPC node (anvil, hardhat, geth, a testnet). Default: an embedded py-evm chain in this process.
    num_accounts : int
        Funded accounts on the embedded chain (1,000,000 ether each).
    block_gas_limit : int
        Gas limit of every block on the embedded chain.
    private_keys : list of str, optional
        Node only: keys of funded accounts to sign with here, for nodes that hold no unlocked accounts (a
        testnet). Default: :func:`dcai_lab.settings.private_keys` (``$DCAI_LAB_PRIVATE_KEYS``), else the
        node's own accounts. Keep keys in the environment, never in a notebook or the repository.
    via_web3 : bool
        Send every transaction and call through web3.py's request path (:class:`~dcai_lab.transports.Web3Path`).
        By default the embedded chain's go to py-evm directly and a node's go as bare JSON-RPC requests
        through web3's provider: the same transactions, blocks, receipts and gas without web3's per-request
        formatting, validation and extra requests. web3's path is the reference the others are tested against.

    Attributes
    ----------
    transport : Transport
        How transactions travel; :meth:`on` builds a Chain on any transport.
    gas : GasLedger
        Every transaction sent through :meth:`transact` or :meth:`deploy` (or, twin-only, every
        :meth:`record_estimate`).
    """

    def __init__(self, rpc_url: str | None = None, *, num_accounts: int = 10, block_gas_limit: int = BLOCK_GAS_LIMIT,
                 private_keys: list[str] | None = None, via_web3: bool = False):
        if rpc_url is None:
            transport = EmbeddedEVM(num_accounts=num_accounts, block_gas_limit=block_gas_limit,
                                    genesis_time=GENESIS_TIME)
        else:
            transport = NodeRPC(rpc_url, settings.private_keys() if private_keys is None else private_keys)
        self._attach(Web3Path(transport) if via_web3 else transport)

    def _attach(self, transport: Transport) -> None:
        self.transport = transport
        self.gas = GasLedger(tracer=transport.trace)

    @classmethod
    def on(cls, transport: Transport) -> "Chain":
        """A chain on ``transport``: for transports built by hand (a node with special set-up, a new way)."""
        chain = cls.__new__(cls)
        chain._attach(transport)
        return chain

    @classmethod
    def anvil(cls, *, num_accounts: int = 10, block_gas_limit: int = BLOCK_GAS_LIMIT, hardfork: str = "prague",
              via_web3: bool = False, tracing: bool = False) -> "Chain":
        """A chain on a local anvil node that this process starts (127.0.0.1, a free port) and stops on
        :meth:`close` or at exit. It uses the embedded chain's accounts (so contract addresses, and with
        them calldata and gas, are the same) and blocks one second apart unless the clock is moved, as on
        the embedded chain: the same experiment gives the same times, balances and gas. With ``tracing`` anvil
        records every step (``--steps-tracing``) so that ``chain.gas.explain`` can trace its transactions."""
        transport = NodeRPC.start_anvil(num_accounts=num_accounts, block_gas_limit=block_gas_limit,
                                        hardfork=hardfork, genesis_time=GENESIS_TIME, tracing=tracing)
        try:
            return cls.on(Web3Path(transport) if via_web3 else transport)
        except Exception:
            transport.close()
            raise

    @classmethod
    def edr(cls, *, num_accounts: int = 10, block_gas_limit: int = BLOCK_GAS_LIMIT, hardfork: str = "prague",
            via_web3: bool = False) -> "Chain":
        """A chain on the fast engine (:mod:`dcai_lab.edr`: Hardhat's Rust EVM in a Node process this one
        starts and stops), set up as the embedded chain is: the same accounts, genesis, fees and block
        times, so the same experiment gives the same gas, blocks and balances, much faster. Needs Node and
        the npm package (``npm ci`` in a checkout); hardforks ``prague`` and ``osaka`` (with its 2**24 gas
        cap per transaction)."""
        transport = EdrRPC(num_accounts=num_accounts, block_gas_limit=block_gas_limit, hardfork=hardfork)
        try:
            return cls.on(Web3Path(transport) if via_web3 else transport)
        except Exception:
            transport.close()
            raise

    @classmethod
    def twin_only(cls, num_accounts: int = 10, start: int = TWIN_START) -> "Chain":
        """A chain with no EVM, for twin-only runs: a clock, accounts, block numbers and a ledger of
        estimated gas (:meth:`record_estimate`). Contracts, transactions and balances raise NoChainError."""
        return cls.on(NoChain(num_accounts=num_accounts, start=start))

    @classmethod
    def for_backend(cls, backend: str, *, hardfork: str = "prague") -> "Chain":
        """The chain a config's ``backend`` names: ``"py-evm"`` (embedded), ``"anvil"`` (a local node started
        here), ``"rpc"`` (the node at ``$DCAI_LAB_RPC_URL``), ``"twin"`` (no EVM) or a node's http(s) URL."""
        check_backend(backend)
        if backend.startswith(("http://", "https://")):
            return cls(backend)
        if backend == "rpc":
            return cls(settings.rpc_url())
        return BACKENDS[backend](cls, hardfork)

    def close(self) -> None:
        """Stop the node this chain started (anvil); nothing to do for other chains."""
        self.transport.close()

    def __repr__(self):
        return f"<Chain {self.backend} fork={self.fork}, {len(self.accounts)} accounts, {len(self.gas)} transactions>"

    # -- what the transport knows --------------------------------------------------------------------
    @property
    def w3(self):
        """The web3 connection, for anything this class does not cover (none on a twin-only chain)."""
        return self.transport.w3

    @property
    def accounts(self) -> list[str]:
        """Funded accounts; ``accounts[0]`` deploys and owns by default."""
        return self.transport.accounts

    @property
    def block_gas_limit(self) -> int:
        return self.transport.block_gas_limit

    @property
    def tx_gas_limit(self) -> int:
        """The most gas one transaction may use: the block's limit, and from osaka on at most 2**24
        (EIP-7825). Transactions are sent with it, and set-up work is chunked under it."""
        return min(self.block_gas_limit, TX_GAS_CAP) if self.fork == "osaka" else self.block_gas_limit

    @property
    def backend(self) -> str:
        """How transactions travel: ``"py-evm"``, ``"anvil"``, ``"rpc"``, ``"web3"`` or ``"twin"``."""
        return self.transport.backend

    @property
    def fork(self) -> str | None:
        """The EVM's hardfork (``"prague"``); ``"node"`` on a node given by URL; None twin-only."""
        return self.transport.fork

    @property
    def node(self):
        """The anvil process this chain started (:meth:`anvil`), else None."""
        return self.transport.node

    # -- contracts -------------------------------------------------------------------------
    def contract(self, name: str, address: str) -> Contract:
        """A web3 contract object for the compiled contract ``name`` at ``address``."""
        return self.w3.eth.contract(address=address, abi=artifacts.load(name)["abi"])

    def deploy(self, name: str, *args, sender: str | None = None, operation: str | None = None,
               phase: str = "deploy", value: int = 0) -> Contract:
        """Deploy the compiled contract ``name`` with constructor ``args``; record its gas.

        The ledger row has phase ``phase`` and name ``operation`` (default: the contract's name), so that
        a system's whole deployment adds up under one phase and each contract stays visible in it.
        """
        art = artifacts.load(name)
        if art["bytecode"] == "0x":
            raise ValueError(f"{name} is abstract or an interface: it cannot be deployed")
        factory = self.w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
        receipt = self.transact(factory.constructor(*args), sender=sender, value=value, operation=operation or name,
                                phase=phase)
        return self.contract(name, receipt["contractAddress"])

    def transact(self, call, *, sender: str | None = None, value: int = 0, operation: str | None = None,
                 phase: str = "", gas: int | None = None):
        """Send a contract call as a transaction; return its receipt, or raise ContractRevert.

        Parameters
        ----------
        call : web3 contract function call or constructor
            E.g. ``c.functions.f(1)``.
        sender : str, optional
            Default ``accounts[0]``.
        value : int
            Wei sent along.
        operation : str, optional
            The ledger row's name; default the function's name.
        phase : str
            The ledger row's phase (``"deploy"``, ``"market"``; empty for everyday operations).
        gas : int, optional
            The transaction's gas limit; default the block's.

        Returns
        -------
        AttributeDict
            The receipt, as ``w3.eth.get_transaction_receipt`` returns it. A reverted transaction is
            recorded in the ledger too (it cost gas) before ContractRevert is raised.
        """
        sender = sender or self.accounts[0]
        name = operation or getattr(call, "fn_name", "transaction")
        label = gas_label(phase, name)
        tx = Tx.of(call, sender=sender, value=value, gas=gas or self.tx_gas_limit)
        receipt, block_time = self.transport.send(tx, label)
        self.gas.record(name, receipt, block_time, sender, phase, data=tx.data, value=tx.value)
        if receipt["status"] == 0:
            revert = self._revert_reason(tx, receipt, label)
            revert.gas_used = receipt["gasUsed"]  # a reverted transaction still costs its sender
            raise revert
        return receipt

    def _revert_reason(self, tx: Tx, receipt, operation: str) -> ContractRevert:
        """With explicit gas a revert comes back as status 0 with no reason: find the reason."""
        if receipt["gasUsed"] >= tx.gas:
            return ContractRevert(operation, "OutOfGas", {"gas": tx.gas})
        return self.transport.revert_reason(tx, receipt, operation)

    def call(self, call, *, sender: str | None = None):
        """Run a view or pure function; raise ContractRevert with the reason on a revert.

        Returns what web3's ``call.call()`` returns: one value, or a list of them; addresses
        checksummed, arrays as lists, structs as tuples.
        """
        operation = getattr(call, "fn_name", "call")
        tx = Tx.of(call, sender=sender or self.accounts[0], gas=self.tx_gas_limit)
        raw = self.transport.call(tx, operation)
        types = get_abi_output_types(call.abi)
        try:
            values = self.w3.codec.decode(types, raw)
        except DecodingError as exc:
            raise BadFunctionCallOutput(f"{operation}: could not decode the return data {raw.hex() or '(none)'} as "
                                        f"{types}: is a contract of this kind deployed at {tx.to}?") from exc
        values = [abi.as_web3(t, v) for t, v in zip(types, values)]
        return values[0] if len(values) == 1 else values

    # -- time and state --------------------------------------------------------------------
    @property
    def now(self) -> int:
        """Timestamp of the latest block."""
        return self.transport.now()

    @property
    def next_block_time(self) -> int:
        """The time the next transaction will have: every block is one second after the latest (time travel
        mines a block just before its target)."""
        return self.now + 1

    def time_travel(self, seconds: float = 0, **delta) -> int:
        """Move the clock: the next transaction runs exactly ``seconds`` (plus ``days=``, ``hours=``,
        ``minutes=``) after the latest block (``chain.now``), in whole seconds, at least 1 (the next block
        is always at least a second later). Returns that time."""
        asked = seconds + timedelta(**delta).total_seconds()
        step = int(asked)
        if step != asked or step < 1:
            raise ValueError(f"time_travel moves the clock by whole seconds, at least 1, after the latest block: "
                             f"asked for {asked:g} s with the clock at {self.now} (the next transaction runs at "
                             f"{self.next_block_time} without time travel); to go back use snapshot()/revert() "
                             "or anchor()")
        target = self.now + step
        self.transport.time_travel(target)
        return target

    def snapshot(self):
        """Remember the chain's state; :meth:`revert` returns to it. The gas ledger is not part of it
        (see :meth:`anchor`)."""
        return self.transport.snapshot()

    def revert(self, snapshot) -> None:
        """Return to the state of ``snapshot`` (from :meth:`snapshot`)."""
        self.transport.revert(snapshot)

    @contextmanager
    def anchor(self):
        """Everything inside the block is undone at its end, gas ledger included (titanoboa's
        ``boa.env.anchor()``): try something out, or run a test, on a deployment without redeploying it.

        ``with chain.anchor(): system.refund(c)``
        """
        snapshot, recorded = self.snapshot(), len(self.gas.records)
        try:
            yield self
        finally:
            self.revert(snapshot)
            del self.gas.records[recorded:]

    def balance(self, account: str) -> int:
        """Wei held by ``account``."""
        return self.transport.balance(account)

    # -- twin-only runs --------------------------------------------------------------------
    def record_estimate(self, name: str, sender: str, gas: int, phase: str = "", status: int = 1) -> GasRecord:
        """Twin-only: one operation as one block (the clock moves as for a transaction) and a ledger row of
        its estimated ``gas`` (``status`` 0 for one that reverted: on a chain it is mined all the same).
        The row reads as a chain run's row for the same operation."""
        if not isinstance(self.transport, NoChain):
            raise TypeError(f"record_estimate is for twin-only chains (Chain.twin_only()); this chain runs on "
                            f"{self.backend}: send real transactions with transact()")
        block, block_time = self.transport.mine()
        receipt = {"gasUsed": int(gas), "blockNumber": block, "to": None, "contractAddress": None, "status": status,
                   "transactionHash": block.to_bytes(32, "big")}
        return self.gas.record(name, receipt, block_time, sender, phase)

    # -- conveniences for notebooks: the mechanism spec decides what is deployed ---------------
    def deploy_system(self, model, incentive="deposit-refund-take", **kwargs):
        """Deploy ``model`` under ``incentive`` (a name or a spec); see :func:`dcai_lab.deploy_system`."""
        from .incentives import deploy_system  # the upper floor, asked only when called

        return deploy_system(self, model, incentive, **kwargs)

    def deploy_market(self, model, X_test, y_test, mechanism=None, **kwargs):
        """Deploy a prediction market as its provider; see :func:`dcai_lab.deploy_market`."""
        from .incentives import deploy_market

        return deploy_market(self, model, X_test, y_test, mechanism, **kwargs)
