"""The chain: an embedded py-evm (web3.py + eth-tester) or any JSON-RPC node.

Accounts, deployment, transactions with readable reverts, time travel, snapshots and a gas ledger.
Knows nothing about machine learning.
"""
from __future__ import annotations

import ast
from datetime import timedelta

from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from . import artifacts
from .errors import ContractRevert, decode_revert
from .gas import GasLedger

BLOCK_GAS_LIMIT = 30_000_000
# Every chain starts at this time (2065) and each block is one second after the last unless the clock is
# moved: ahead of the wall clock, so no block takes the current time, and every run is reproducible to the
# gas (a timestamp in calldata costs 4 gas per zero byte, 16 per other).
GENESIS_TIME = 3_000_000_000
# Generous fee cap: the embedded chain's base fee starts at 1 gwei and only falls with our small blocks.
MAX_FEE_PER_GAS = 100 * 10**9


class Chain:
    """A chain to deploy and drive contracts on.

    Parameters
    ----------
    rpc_url : str, optional
        A JSON-RPC node (anvil, hardhat, geth). Default: an embedded py-evm chain in this process.
    num_accounts : int
        Funded accounts on the embedded chain (1,000,000 ether each).
    block_gas_limit : int
        Gas limit of every block on the embedded chain.

    Attributes
    ----------
    w3 : web3.Web3
        The web3 connection, for anything this class does not cover.
    accounts : list of str
        Funded accounts; ``accounts[0]`` deploys and owns by default.
    gas : GasLedger
        Every transaction sent through :meth:`transact` or :meth:`deploy`.
    """

    def __init__(self, rpc_url: str | None = None, *, num_accounts: int = 10, block_gas_limit: int = BLOCK_GAS_LIMIT):
        if rpc_url is None:
            from eth_tester import EthereumTester
            from web3 import EthereumTesterProvider

            backend = _recording_backend_class()
            params = backend.generate_genesis_params(overrides={"gas_limit": block_gas_limit,
                                                                 "timestamp": GENESIS_TIME})
            state = backend.generate_genesis_state(num_accounts=num_accounts)
            self.tester = EthereumTester(backend(genesis_parameters=params, genesis_state=state))
            self.w3 = Web3(EthereumTesterProvider(self.tester))
        else:
            self.tester = None
            self.w3 = Web3(Web3.HTTPProvider(rpc_url))
            if not self.w3.is_connected():
                raise ConnectionError(f"no JSON-RPC node answers at {rpc_url}: start one or check the URL")
        self.accounts: list[str] = list(self.w3.eth.accounts)
        if not self.accounts:
            raise ValueError("the node offers no unlocked accounts: start it with funded dev accounts")
        latest = self.w3.eth.get_block("latest")
        self.block_gas_limit = latest["gasLimit"]
        # Explicit gas and fees on every transaction: estimating each one costs a whole extra execution.
        self.tx_gas = self.block_gas_limit
        if latest.get("baseFeePerGas") is not None:
            self._fees = {"maxFeePerGas": MAX_FEE_PER_GAS, "maxPriorityFeePerGas": 0}
        else:  # pre-London forks know only legacy gas prices
            self._fees = {"gasPrice": 1}
        self.gas = GasLedger()
        self.fork = self._fork_name()

    @classmethod
    def anvil(cls, *, num_accounts: int = 10, block_gas_limit: int = BLOCK_GAS_LIMIT, hardfork: str = "prague"):
        """A chain on a local anvil node that this process starts (127.0.0.1, a free port) and stops on
        :meth:`close` or at exit. It uses the embedded chain's accounts (so contract addresses, and with
        them calldata and gas, are the same) and blocks one second apart unless the clock is moved, as on
        the embedded chain: the same experiment gives the same times, balances and gas."""
        from eth_tester.backends.pyevm.main import get_default_account_keys

        from .anvil import AnvilNode

        node = AnvilNode(num_accounts=num_accounts, block_gas_limit=block_gas_limit, hardfork=hardfork,
                         genesis_time=GENESIS_TIME)
        try:
            chain = cls(node.url)
            rpc = chain.w3.provider.make_request
            rpc("anvil_setBlockTimestampInterval", [1])
            chain.accounts = [key.public_key.to_checksum_address() for key in get_default_account_keys(num_accounts)]
            for account in chain.accounts:  # the node sends for them as for its own dev accounts
                rpc("anvil_impersonateAccount", [account])
                rpc("anvil_setBalance", [account, hex(10**24)])
        except Exception:
            node.stop()
            raise
        chain.node, chain.fork = node, hardfork
        return chain

    def close(self) -> None:
        """Stop the node this chain started (anvil); nothing to do for other chains."""
        node = getattr(self, "node", None)
        if node is not None:
            node.stop()

    def _fork_name(self) -> str:
        if self.tester is None:
            return "node"
        vm = self.tester.backend.chain.get_vm()
        return vm.fork

    # -- contracts -------------------------------------------------------------------------
    def contract(self, name: str, address: str) -> Contract:
        """A web3 contract object for the compiled contract ``name`` at ``address``."""
        return self.w3.eth.contract(address=address, abi=artifacts.load(name)["abi"])

    def deploy(self, name: str, *args, sender: str | None = None, operation: str | None = None, value: int = 0) -> Contract:
        """Deploy the compiled contract ``name`` with constructor ``args``; record its gas."""
        art = artifacts.load(name)
        if art["bytecode"] == "0x":
            raise ValueError(f"{name} is abstract or an interface: it cannot be deployed")
        factory = self.w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
        receipt = self.transact(factory.constructor(*args), sender=sender, value=value,
                                operation=operation or f"deploy:{name}")
        return self.contract(name, receipt["contractAddress"])

    def transact(self, call, *, sender: str | None = None, value: int = 0, operation: str | None = None):
        """Send a contract call as a transaction; return its receipt, or raise ContractRevert.

        ``call`` is a web3 contract function call or constructor, e.g. ``c.functions.f(1)``.
        """
        sender = sender or self.accounts[0]
        operation = operation or getattr(call, "fn_name", "transaction")
        tx = {"from": sender, "value": value, "gas": self.tx_gas, **self._fees}
        try:
            tx_hash = call.transact(tx)
        except Exception as exc:  # a node may reject a reverting transaction up front
            revert = revert_from_exception(operation, exc)
            if revert is None:
                raise
            raise revert from None
        if self.tester is not None:
            receipt = self.w3.eth.get_transaction_receipt(tx_hash)
        else:  # a node may answer before it has mined the transaction
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120, poll_latency=0.002)
        block_time = self.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
        self.gas.record(operation, receipt, block_time, sender)
        if receipt["status"] == 0:
            raise self._revert_reason(call, tx, receipt, operation)
        return receipt

    def _revert_reason(self, call, tx, receipt, operation) -> ContractRevert:
        """With explicit gas a revert comes back as status 0 with no reason: find the reason."""
        if receipt["gasUsed"] >= tx["gas"]:
            return ContractRevert(operation, "OutOfGas", {"gas": tx["gas"]})
        last = getattr(self.tester.backend, "last", None) if self.tester is not None else None
        if last is not None and last[0] == bytes(receipt["transactionHash"]):
            error = last[1].error
            if error.args and isinstance(error.args[0], bytes):
                return decode_revert(operation, error.args[0])
            return ContractRevert(operation, type(error).__name__)
        # A node keeps no revert data: replay the transaction as a call on the state before it.
        if hasattr(call, "data_in_transaction"):  # a constructor
            request = {"data": call.data_in_transaction}
        else:
            request = {"to": call.address, "data": call._encode_transaction_data()}
        request.update({k: v for k, v in tx.items() if k in ("from", "value")})
        try:
            self.w3.eth.call(request, block_identifier=receipt["blockNumber"] - 1)
        except Exception as exc:
            revert = revert_from_exception(operation, exc)
            if revert is not None:
                return revert
            raise
        return ContractRevert(operation, "Revert", {"note": "the replay did not revert: the reason depended on "
                                                            "the block (time or state) it ran in"})

    def call(self, call, *, sender: str | None = None):
        """Run a view or pure function; raise ContractRevert with the reason on a revert."""
        try:
            return call.call({"from": sender or self.accounts[0]})
        except Exception as exc:
            revert = revert_from_exception(getattr(call, "fn_name", "call"), exc)
            if revert is None:
                raise
            raise revert from None

    # -- time and state --------------------------------------------------------------------
    @property
    def now(self) -> int:
        """Timestamp of the latest block."""
        return self.w3.eth.get_block("latest")["timestamp"]

    def time_travel(self, seconds: float = 0, **delta) -> int:
        """Move the clock: the next transaction runs ``seconds`` (plus ``days=``, ``hours=``, ``minutes=``)
        after the latest block. Returns that time."""
        step = int(seconds + timedelta(**delta).total_seconds())
        if step <= 0:
            raise ValueError(f"time only moves forward on a chain (asked for {step} s); "
                             "use snapshot()/revert() to go back")
        target = self.now + step
        if self.tester is not None:
            self.tester.time_travel(target)  # mines a block at target - 1; the next one is at target
        else:  # the same on a node: a block at target - 1, the next transaction at target
            self.w3.provider.make_request("evm_mine", [target - 1])
            self.w3.provider.make_request("evm_setNextBlockTimestamp", [target])
        return target

    def snapshot(self):
        """Remember the chain's state; :meth:`revert` returns to it."""
        if self.tester is not None:
            return self.tester.take_snapshot()
        return self.w3.provider.make_request("evm_snapshot", [])["result"]

    def revert(self, snapshot_id) -> None:
        if self.tester is not None:
            self.tester.revert_to_snapshot(snapshot_id)
        else:
            self.w3.provider.make_request("evm_revert", [snapshot_id])

    def balance(self, account: str) -> int:
        return self.w3.eth.get_balance(account)

    def deploy_market(self, model, X_test, y_test, spec=None, **kwargs):
        """Deploy a prediction market as its provider; see :func:`dcai_lab.market.deploy_market`."""
        from .market import deploy_market

        return deploy_market(self, model, X_test, y_test, spec, **kwargs)

    def deploy_system(self, model, incentive="deposit-refund-take", **kwargs):
        """Deploy a whole CollaborativeTrainer system; see :func:`dcai_lab.system.deploy_system`."""
        from .system import deploy_system

        return deploy_system(self, model, incentive, **kwargs)


def _recording_backend_class():
    from eth_tester import PyEVMBackend

    class RecordingPyEVMBackend(PyEVMBackend):
        """Keeps the computation of the last transaction: eth-tester drops its revert data, and a
        replay as a call would run at another block time, where the reason may differ."""

        last = None  # (transaction hash, computation)

        def send_transaction(self, transaction):
            signed = self._get_normalized_and_signed_evm_transaction(transaction)
            _, _, computation = self.chain.apply_transaction(signed)
            self.last = (signed.hash, computation)
            return signed.hash

    return RecordingPyEVMBackend


def revert_from_exception(operation: str, exc: Exception) -> ContractRevert | None:
    """The ContractRevert inside a web3 or eth-tester exception, or None if it is something else."""
    if isinstance(exc, ContractLogicError) and exc.data:
        return decode_revert(operation, exc.data)
    message = str(exc.args[0]) if exc.args else ""
    if type(exc).__name__ != "TransactionFailed" and not isinstance(exc, ContractLogicError):
        return None
    detail = message.removeprefix("execution reverted: ").removeprefix("execution reverted")
    if detail.startswith(("b'", 'b"')):  # eth-tester passes raw revert data as the repr of bytes
        return decode_revert(operation, ast.literal_eval(detail))
    if detail:
        return ContractRevert(operation, "Error", {"reason": detail})
    return ContractRevert(operation, "Revert")
