"""The chain: an embedded py-evm (eth-tester's, driven directly) or any JSON-RPC node (anvil started here, or a URL).

Accounts, deployment, transactions with readable reverts, time travel, snapshots and a gas ledger.
Knows nothing about machine learning.
"""
from __future__ import annotations

import ast
import os
import time
from contextlib import contextmanager
from datetime import timedelta
from functools import cached_property
from urllib.parse import urlsplit

from eth_abi import encode as abi_encode
from eth_abi.exceptions import EncodingError
from eth_utils import to_bytes, to_canonical_address
from eth_utils.abi import function_abi_to_4byte_selector, get_abi_input_types, get_abi_output_types
from web3 import Web3
from web3._utils.abi import map_abi_data
from web3._utils.method_formatters import get_result_formatters
from web3._utils.normalizers import BASE_RETURN_NORMALIZERS
from web3._utils.rpc_abi import RPC
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from . import artifacts
from .errors import ContractRevert, NodeError, decode_revert
from .gas import GasLedger

BLOCK_GAS_LIMIT = 30_000_000
# Every chain starts at this time (2065) and each block is one second after the last unless the clock is
# moved: ahead of the wall clock, so no block takes the current time, and every run is reproducible to the
# gas (a timestamp in calldata costs 4 gas per zero byte, 16 per other).
GENESIS_TIME = 3_000_000_000
# Generous fee cap: the embedded chain's base fee starts at 1 gwei and only falls with our small blocks.
MAX_FEE_PER_GAS = 100 * 10**9
RECEIPT_TIMEOUT = 120  # seconds a node may take to mine a transaction
_SNAKE = {"maxFeePerGas": "max_fee_per_gas", "maxPriorityFeePerGas": "max_priority_fee_per_gas", "gasPrice": "gas_price"}


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
        testnet). Default: the comma-separated keys in ``$DCAI_LAB_PRIVATE_KEYS`` if set, else the node's
        own accounts. Keep keys in the environment, never in a notebook or the repository.
    via_web3 : bool
        Send every transaction and call through web3.py's request path. By default the embedded chain's go
        to py-evm directly and a node's go as bare JSON-RPC requests through web3's provider: the same
        transactions, blocks, receipts and gas without web3's per-request formatting, validation and
        extra requests (``eth_chainId`` and block reads). web3's path is the reference the others are
        tested against.

    Attributes
    ----------
    w3 : web3.Web3
        The web3 connection, for anything this class does not cover.
    accounts : list of str
        Funded accounts; ``accounts[0]`` deploys and owns by default.
    gas : GasLedger
        Every transaction sent through :meth:`transact` or :meth:`deploy`.
    """

    def __init__(self, rpc_url: str | None = None, *, num_accounts: int = 10, block_gas_limit: int = BLOCK_GAS_LIMIT,
                 private_keys: list[str] | None = None, via_web3: bool = False):
        self._keys = {}
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
            self.w3 = Web3(Web3.HTTPProvider(rpc_url, session=_session_for(rpc_url)))
            if not self.w3.is_connected():
                raise ConnectionError(f"no JSON-RPC node answers at {rpc_url}: start one or check the URL")
            if private_keys is None and os.environ.get("DCAI_LAB_PRIVATE_KEYS"):
                private_keys = os.environ["DCAI_LAB_PRIVATE_KEYS"].split(",")
            self._keys = {key.address: key for key in map(_local_account, private_keys or [])}
        self.accounts: list[str] = list(self._keys) or list(self.w3.eth.accounts)
        if not self.accounts:
            raise ValueError("the node offers no unlocked accounts: start it with funded dev accounts, or put "
                             "the private keys of funded accounts in DCAI_LAB_PRIVATE_KEYS (comma-separated)")
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
        self.via_web3 = via_web3
        self._evm = self.tester.backend if self.tester is not None and not via_web3 else None
        self._rpc = self.w3.provider if self.tester is None and not via_web3 else None
        self._chain_id = self.w3.eth.chain_id if self._keys else None
        self._nonces: dict[str, int] = {}
        self._clock: int | None = None  # latest block time, kept only on a node this chain owns (see anvil())

    @classmethod
    def anvil(cls, *, num_accounts: int = 10, block_gas_limit: int = BLOCK_GAS_LIMIT, hardfork: str = "prague",
              via_web3: bool = False):
        """A chain on a local anvil node that this process starts (127.0.0.1, a free port) and stops on
        :meth:`close` or at exit. It uses the embedded chain's accounts (so contract addresses, and with
        them calldata and gas, are the same) and blocks one second apart unless the clock is moved, as on
        the embedded chain: the same experiment gives the same times, balances and gas."""
        from eth_tester.backends.pyevm.main import get_default_account_keys

        from .anvil import AnvilNode

        node = AnvilNode(num_accounts=num_accounts, block_gas_limit=block_gas_limit, hardfork=hardfork,
                         genesis_time=GENESIS_TIME)
        try:
            chain = cls(node.url, via_web3=via_web3)
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
        chain._clock = chain.w3.eth.get_block("latest")["timestamp"]  # only we mine here: keep time locally
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
        if self._evm is not None:
            receipt, block_time = self._transact_on_evm(call, tx)
        elif self._rpc is not None:
            receipt, block_time = self._transact_on_node(call, tx, operation)
        else:
            receipt, block_time = self._transact_via_web3(call, tx, operation)
        if self._clock is not None:
            self._clock = block_time
        self.gas.record(operation, receipt, block_time, sender)
        if receipt["status"] == 0:
            raise self._revert_reason(call, tx, receipt, operation)
        return receipt

    def _transact_via_web3(self, call, tx, operation):
        with _readable_reverts(operation):  # a node may reject a reverting transaction up front
            tx_hash = call.transact(tx)
        if self.tester is not None:
            receipt = self.w3.eth.get_transaction_receipt(tx_hash)
        else:  # a node may answer before it has mined the transaction
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT, poll_latency=0.002)
        return receipt, self.w3.eth.get_block(receipt["blockNumber"])["timestamp"]

    def _transact_on_evm(self, call, tx):
        """The transaction web3 would send, applied by py-evm and mined in a block of its own."""
        to, data = _target(call)
        raw = {"from": to_canonical_address(tx["from"]), "to": to_canonical_address(to) if to else b"",
               "data": to_bytes(hexstr=data), "value": tx["value"], "gas": tx["gas"],
               **{_SNAKE[k]: v for k, v in self._fees.items()}}
        tx_hash = self._evm.send_transaction(raw)
        self._evm.mine_blocks()
        receipt = self.w3.eth.get_transaction_receipt(tx_hash)
        return receipt, self._evm.chain.get_canonical_head().timestamp  # its block is the head

    def _transact_on_node(self, call, tx, operation):
        """eth_sendTransaction (or a locally signed raw transaction), then the receipt and the latest block
        in one batch, polled until the node has mined it."""
        to, data = _target(call)
        sender = tx["from"]
        fields = {**{k: v for k, v in tx.items() if k != "from"}, "data": data, **({"to": to} if to else {})}
        key = self._keys.get(sender)
        if key is None:  # the node signs
            request = {k: hex(v) if isinstance(v, int) else v for k, v in fields.items()}
            tx_hash = self._request(operation, "eth_sendTransaction", [{**request, "from": sender}])
        else:
            if sender not in self._nonces:
                self._nonces[sender] = int(self._request(operation, "eth_getTransactionCount", [sender, "pending"]), 16)
            signed = key.sign_transaction({**fields, "chainId": self._chain_id, "nonce": self._nonces[sender]})
            tx_hash = self._request(operation, "eth_sendRawTransaction", ["0x" + signed.raw_transaction.hex()])
            self._nonces[sender] += 1
        deadline, pause = time.monotonic() + RECEIPT_TIMEOUT, 0.0
        while True:
            responses = self._rpc.make_batch_request([("eth_getTransactionReceipt", [tx_hash]),
                                                      ("eth_getBlockByNumber", ["latest", False])])
            if isinstance(responses, dict):  # the node answered the batch with one error
                _result(operation, responses)
                raise NodeError(f"{operation}: the node did not answer a batch request: {responses}")
            found, latest = responses
            if _result(operation, found) is not None:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{operation}: transaction {tx_hash} was not mined within {RECEIPT_TIMEOUT} s")
            time.sleep(pause)
            pause = min(0.5, 2 * pause or 0.001)
        receipt = self._receipt_formatter(found["result"])
        block = _result(operation, latest)
        if int(block["number"], 16) != receipt["blockNumber"]:
            block = self._request(operation, "eth_getBlockByNumber", [hex(receipt["blockNumber"]), False])
        return receipt, int(block["timestamp"], 16)

    @cached_property
    def _receipt_formatter(self):
        """web3's own formatting of a JSON-RPC receipt (what ``w3.eth.get_transaction_receipt`` returns)."""
        return get_result_formatters(RPC.eth_getTransactionReceipt, self.w3.eth)

    def _request(self, operation: str, method: str, params: list):
        """One JSON-RPC request to the node; its result, or ContractRevert / NodeError."""
        return _result(operation, self._rpc.make_request(method, params))

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
        to, data = _target(call)
        request = {"from": tx["from"], "value": hex(tx["value"]), "data": data, **({"to": to} if to else {})}
        try:
            _result(operation, self.w3.provider.make_request("eth_call", [request, hex(receipt["blockNumber"] - 1)]))
        except ContractRevert as revert:
            return revert
        return ContractRevert(operation, "Revert", {"note": "the replay did not revert: the reason depended on "
                                                            "the block (time or state) it ran in"})

    def call(self, call, *, sender: str | None = None):
        """Run a view or pure function; raise ContractRevert with the reason on a revert."""
        sender = sender or self.accounts[0]
        operation = getattr(call, "fn_name", "call")
        if self.via_web3:
            with _readable_reverts(operation):
                return call.call({"from": sender})
        if self._evm is not None:
            with _readable_reverts(operation):
                raw = self._evm.call({"from": to_canonical_address(sender), "to": to_canonical_address(call.address),
                                      "data": to_bytes(hexstr=_calldata(call)), "value": 0,
                                      "gas": self.tx_gas}, "latest")
        else:
            raw = to_bytes(hexstr=self._request(operation, "eth_call", [
                {"from": sender, "to": call.address, "data": _calldata(call)}, "latest"]))
        types = get_abi_output_types(call.abi)  # decoded as web3 decodes a call's result
        values = map_abi_data(BASE_RETURN_NORMALIZERS, types, self.w3.codec.decode(types, raw))
        return values[0] if len(values) == 1 else values

    # -- time and state --------------------------------------------------------------------
    @property
    def now(self) -> int:
        """Timestamp of the latest block."""
        if self._evm is not None:
            return self._evm.chain.get_canonical_head().timestamp
        if self._clock is not None:
            return self._clock
        if self._rpc is not None:
            return int(self._request("now", "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
        return self.w3.eth.get_block("latest")["timestamp"]

    def time_travel(self, seconds: float = 0, **delta) -> int:
        """Move the clock: the next transaction runs ``seconds`` (plus ``days=``, ``hours=``, ``minutes=``)
        after the latest block. Returns that time."""
        step = int(seconds + timedelta(**delta).total_seconds())
        if step <= 0:
            raise ValueError(f"time only moves forward on a chain (asked for {step} s); "
                             "use snapshot()/revert() to go back")
        target = self.now + step
        if self._evm is not None:
            self._evm.time_travel(target)  # mines a block at target - 1; the next one is at target
        elif self.tester is not None:
            self.tester.time_travel(target)
        else:  # the same on a node: a block at target - 1, the next transaction at target
            self.w3.provider.make_request("evm_mine", [target - 1])
            if self._clock is None:  # our own anvil adds one second per block by itself
                self.w3.provider.make_request("evm_setNextBlockTimestamp", [target])
            else:
                self._clock = target - 1
        return target

    def snapshot(self):
        """Remember the chain's state; :meth:`revert` returns to it."""
        if self.tester is not None:
            return self.tester.take_snapshot()
        return self.w3.provider.make_request("evm_snapshot", [])["result"], self._clock

    def revert(self, snapshot_id) -> None:
        if self.tester is not None:
            self.tester.revert_to_snapshot(snapshot_id)
        else:
            self.w3.provider.make_request("evm_revert", [snapshot_id[0]])
            self._clock = snapshot_id[1]
            self._nonces.clear()

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


def _target(call) -> tuple[str | None, str]:
    """Address (None to create a contract) and calldata of a web3 contract call or constructor."""
    if hasattr(call, "data_in_transaction"):
        return None, call.data_in_transaction
    return call.address, _calldata(call)


def _calldata(call) -> str:
    """What ``call._encode_transaction_data()`` returns, without web3's per-argument normalisation (a fifth
    of the client's time per transaction on anvil) when the arguments are plain Python values already."""
    if not call.kwargs:
        try:
            return "0x" + (function_abi_to_4byte_selector(call.abi)
                           + abi_encode(get_abi_input_types(call.abi), call.args)).hex()
        except (EncodingError, TypeError, ValueError):  # web3 also takes hex strings for bytes, ENS names...
            pass
    return call._encode_transaction_data()


def _session_for(rpc_url: str):
    """A node on this machine needs no proxy settings: skip requests' reading of the environment on every
    request (a sixth of the client's time per transaction against anvil)."""
    import requests

    if urlsplit(rpc_url).hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    session = requests.Session()
    session.trust_env = False
    return session


def _local_account(key: str):
    from eth_account import Account

    try:
        return Account.from_key(key.strip())
    except Exception:
        raise ValueError("a private key in DCAI_LAB_PRIVATE_KEYS (or private_keys=) is not a 32-byte hex key; "
                         "give funded accounts' keys, comma-separated") from None


def _result(operation: str, response: dict):
    """The result of a JSON-RPC response, or its error as ContractRevert (a revert) or NodeError."""
    error = response.get("error")
    if error is None:
        return response.get("result")
    data, message = error.get("data"), str(error.get("message", ""))
    if isinstance(data, str) and data.startswith("0x") and len(data) > 2:
        raise decode_revert(operation, data)
    if "revert" in message:
        raise revert_from_exception(operation, ContractLogicError(message))
    raise NodeError(f"{operation}: the node refused the request: {message} (code {error.get('code')})")


@contextmanager
def _readable_reverts(operation: str):
    """Turn a revert raised by web3 or eth-tester into ContractRevert with the contract's reason."""
    try:
        yield
    except ContractRevert:
        raise
    except Exception as exc:
        revert = revert_from_exception(operation, exc)
        if revert is None:
            raise
        raise revert from None


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
