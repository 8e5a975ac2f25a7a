"""How a transaction travels: one class per way, behind one small interface.

:class:`~dcai_lab.chain.Chain` keeps what a user sees (accounts, deployment, the gas ledger, time); a
:class:`Transport` only carries a :class:`Tx` to an EVM and brings back its receipt, a call's return data,
the chain's time and its snapshots. Keeping the ways apart means each can be fast in its own way (straight
into py-evm, bare JSON-RPC) while :class:`Web3Path`, web3.py's ordinary request path, stays the reference
the fast ones are tested against, and :class:`NoChain` lets twin-only runs use the same Chain API with no
EVM at all.

- :class:`EmbeddedEVM` (``backend = "py-evm"``): straight into eth-tester's py-evm backend in this process.
- :class:`NodeRPC` (``"anvil"`` for a node it started, ``"rpc"`` for one at a URL): bare JSON-RPC through
  web3's HTTP provider, signed by the node or here with local keys.
- :class:`Web3Path` (``"web3"``): web3.py's request path, on the embedded chain or on a node.
- :class:`NoChain` (``"twin"``): nowhere; a clock and block numbers for twin-only runs.
"""
from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from eth_abi.exceptions import EncodingError
from eth_utils import to_bytes, to_canonical_address, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.datastructures import AttributeDict
from web3.providers.base import JSONBaseProvider

from . import abi, settings
from .anatomy import TRACING_BACKENDS, TracingUnsupported
from .errors import ContractRevert, NodeError, decode_revert, readable_reverts, rpc_error

BLOCK_GAS_LIMIT = 30_000_000
#: EIP-7825 (osaka on): no transaction may use more gas than this.
TX_GAS_CAP = 2**24
# Every chain starts at this time (2065) and each block is one second after the last unless the clock is
# moved: ahead of the wall clock, so no block takes the current time, and every run is reproducible to the
# gas (a timestamp in calldata costs 4 gas per zero byte, 16 per other).
GENESIS_TIME = 3_000_000_000
# Where twin-only clocks start (OffchainChain's start): twin-only results keep the times they always had.
TWIN_START = 1_700_000_000
# Generous fee cap: the embedded chain's base fee starts at 1 gwei and only falls with our small blocks.
MAX_FEE_PER_GAS = 100 * 10**9
RECEIPT_TIMEOUT = 120  # seconds a node may take to mine a transaction
_SNAKE = {"maxFeePerGas": "max_fee_per_gas", "maxPriorityFeePerGas": "max_priority_fee_per_gas",
          "gasPrice": "gas_price"}


# -- what travels -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tx:
    """One transaction or call as every transport sees it: plain values, already encoded.

    ``call`` is the web3 contract call it was encoded from, if any: :class:`Web3Path` lets web3 encode
    that again itself, so that the web3 path also checks this module's faster encoding.
    """

    sender: str
    to: str | None  # None creates a contract
    data: str  # 0x-prefixed calldata (or init code)
    value: int = 0
    gas: int = BLOCK_GAS_LIMIT
    call: object | None = None

    @classmethod
    def of(cls, call, *, sender: str, value: int = 0, gas: int = BLOCK_GAS_LIMIT) -> "Tx":
        """The transaction web3 would send for ``call`` (a contract function call or a constructor)."""
        if hasattr(call, "data_in_transaction"):  # a constructor: web3 encoded it when it was made
            return cls(sender, None, call.data_in_transaction, value, gas, call)
        return cls(sender, call.address, calldata(call), value, gas, call)


def calldata(call) -> str:
    """Selector and ABI-encoded arguments of a contract function call, as web3 would encode them.

    Plain values are encoded by :mod:`dcai_lab.abi` directly (integer arrays in one numpy step): web3's
    per-argument normalisation is a fifth of the client's time per transaction on anvil. Anything else (hex
    strings for bytes, ENS names, keyword arguments) goes through web3's own public encoder.
    """
    if not call.kwargs:
        try:
            return "0x" + abi.call_data(call.abi, call.args).hex()
        except (EncodingError, TypeError, ValueError, OverflowError):
            pass
    return web3_calldata(call)


def web3_calldata(call, contract_class=None) -> str:
    """web3's own encoding of a contract call, through its public API (``Contract.encode_abi``);
    ``contract_class`` is a contract class for the call's ABI, if the caller keeps one."""
    if hasattr(call, "data_in_transaction"):
        return call.data_in_transaction
    contract = contract_class or call.w3.eth.contract(abi=call.contract_abi)
    return contract.encode_abi(call.abi_element_identifier, call.args, call.kwargs)


# -- the interface ----------------------------------------------------------------------------------
class Transport(ABC):
    """How transactions reach an EVM. A Chain holds one and delegates every chain-facing step to it.

    Attributes
    ----------
    backend : str
        ``"py-evm"``, ``"anvil"``, ``"rpc"``, ``"web3"`` or ``"twin"``.
    fork : str or None
        The EVM's hardfork (``"prague"``), ``"node"`` for a node whose fork is not known here, None for
        no EVM.
    accounts : list of str
        Funded accounts to send from.
    block_gas_limit : int
        Gas limit of a block; every transaction is sent with this much gas.
    w3 : web3.Web3
        The web3 connection behind the transport, for anything the lab does not cover.
    node : AnvilNode or None
        The node process this transport started and stops on :meth:`close`.
    """

    backend: str
    fork: str | None
    accounts: list[str]
    block_gas_limit: int
    w3: Web3
    node = None

    @abstractmethod
    def send(self, tx: Tx, operation: str) -> tuple:
        """Send ``tx`` and wait until it is mined in a block of its own; return the receipt (web3's
        AttributeDict shape) and the block's time. A revert comes back as status 0 (explicit gas); a
        request the node refuses raises NodeError."""

    @abstractmethod
    def call(self, tx: Tx, operation: str) -> bytes:
        """Run ``tx`` as a call on the latest state; its return data, or ContractRevert."""

    @abstractmethod
    def now(self) -> int:
        """Timestamp of the latest block."""

    @abstractmethod
    def time_travel(self, target: int) -> None:
        """Mine a block at ``target - 1`` (unless the latest block is already there) so that the next
        transaction runs at ``target``."""

    @abstractmethod
    def snapshot(self):
        """An opaque handle to the current state, for :meth:`revert`."""

    @abstractmethod
    def revert(self, snapshot) -> None:
        """Return to the state of ``snapshot``."""

    @abstractmethod
    def balance(self, account: str) -> int:
        """Wei held by ``account``."""

    @abstractmethod
    def revert_reason(self, tx: Tx, receipt, operation: str) -> ContractRevert:
        """Why ``tx`` (mined with ``receipt``, status 0, not out of gas) reverted: with explicit gas a
        receipt carries no reason."""

    def saw_block(self, block_time: int) -> None:
        """A transaction sent past this transport (by :class:`Web3Path`) was mined at ``block_time``.
        Only a transport that keeps the clock itself needs to know."""

    def trace(self, tx_hash: str):
        """The mined transaction ``tx_hash`` replayed opcode by opcode (:class:`~dcai_lab.anatomy.Trace`), for
        :meth:`GasLedger.explain <dcai_lab.gas.GasLedger.explain>`. Raises TracingUnsupported where the
        backend cannot trace."""
        raise TracingUnsupported(f"the {self.backend} backend cannot trace transactions opcode by opcode; "
                                 f"backends that can: {', '.join(TRACING_BACKENDS)}")

    def engine_peak_memory(self) -> int | None:
        """Peak resident memory, in bytes, of an engine running in a process of its own (the edr engine's
        Node process); None when the engine runs in this process or its memory is not known here."""
        return None

    def close(self) -> None:
        """Release what the transport started (a node); nothing by default."""

    def __repr__(self):
        return f"<{type(self).__name__} {self.backend} fork={self.fork}>"


def fees_for(latest_block) -> dict:
    """Explicit fee fields for every transaction: estimating them costs extra requests each time."""
    if latest_block.get("baseFeePerGas") is not None:
        return {"maxFeePerGas": MAX_FEE_PER_GAS, "maxPriorityFeePerGas": 0}
    return {"gasPrice": 1}  # pre-London forks know only legacy gas prices


# -- py-evm in this process -------------------------------------------------------------------------
@cache
def recording_backend_class():
    """eth-tester's py-evm backend, keeping the last transaction's computation (imported on first use:
    py-evm is slow to import and twin-only or node runs never need it)."""
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

        def mine_blocks(self, num_blocks=1, coinbase=20 * b"\x00"):
            """eth-tester's, but each block's mix_hash (prevrandao) is derived from its number, not drawn
            from os.urandom: block hashes, and so a market's sample draw, repeat from run to run."""
            from eth.vm.forks import ParisVM, PragueVM
            from eth.vm.forks.cancun import get_total_blob_gas
            from eth_utils import keccak

            hashes = []
            for _ in range(num_blocks):
                pending, kwargs = self.chain.get_block(), {"coinbase": coinbase}
                if isinstance(self.chain.get_vm(), ParisVM):
                    kwargs["mix_hash"] = keccak(b"dcai-lab prevrandao" + pending.number.to_bytes(32, "big"))
                if isinstance(self.chain.get_vm(), PragueVM):
                    kwargs["blob_gas_used"] = sum(get_total_blob_gas(tx) for tx in pending.transactions)
                hashes.append(self.chain.mine_block(**kwargs).hash)
            return tuple(hashes)

    return RecordingPyEVMBackend


class EmbeddedEVM(Transport):
    """py-evm in this process, driven directly: the transaction web3 would send, applied by py-evm and
    mined in a block of its own, without web3's per-request formatting and validation.

    Parameters
    ----------
    num_accounts : int
        Funded accounts (1,000,000 ether each).
    block_gas_limit : int
        Gas limit of every block.
    genesis_time : int
        Timestamp of the genesis block.
    """

    backend = "py-evm"

    def __init__(self, num_accounts: int = 10, block_gas_limit: int = BLOCK_GAS_LIMIT,
                 genesis_time: int = GENESIS_TIME):
        from eth_tester import EthereumTester
        from web3 import EthereumTesterProvider

        backend = recording_backend_class()
        params = backend.generate_genesis_params(overrides={"gas_limit": block_gas_limit, "timestamp": genesis_time})
        state = backend.generate_genesis_state(num_accounts=num_accounts)
        self.tester = EthereumTester(backend(genesis_parameters=params, genesis_state=state))
        self.evm = self.tester.backend
        self.w3 = Web3(EthereumTesterProvider(self.tester))
        self.accounts = list(self.w3.eth.accounts)
        latest = self.w3.eth.get_block("latest")
        self.block_gas_limit = latest["gasLimit"]
        self.fees = fees_for(latest)
        self._raw_fees = {_SNAKE[k]: v for k, v in self.fees.items()}
        self.fork = self.evm.chain.get_vm().fork

    def send(self, tx, operation):
        raw = {"from": to_canonical_address(tx.sender), "to": to_canonical_address(tx.to) if tx.to else b"",
               "data": to_bytes(hexstr=tx.data), "value": tx.value, "gas": tx.gas, **self._raw_fees}
        tx_hash = self.evm.send_transaction(raw)
        self.evm.mine_blocks()
        receipt = self.w3.eth.get_transaction_receipt(tx_hash)
        return receipt, self.evm.chain.get_canonical_head().timestamp  # its block is the head

    def call(self, tx, operation):
        with readable_reverts(operation):
            return self.evm.call({"from": to_canonical_address(tx.sender), "to": to_canonical_address(tx.to),
                                  "data": to_bytes(hexstr=tx.data), "value": tx.value, "gas": tx.gas}, "latest")

    def now(self):
        return self.evm.chain.get_canonical_head().timestamp

    def time_travel(self, target):
        if target - 1 > self.now():  # else the next block is at target anyway
            self.evm.time_travel(target)  # mines a block at target - 1; the next one is at target

    def snapshot(self):
        return self.tester.take_snapshot()

    def revert(self, snapshot):
        self.tester.revert_to_snapshot(snapshot)

    def balance(self, account):
        return self.w3.eth.get_balance(account)

    def trace(self, tx_hash):
        from .tracing import pyevm_trace

        receipt = self.w3.eth.get_transaction_receipt(tx_hash if tx_hash.startswith("0x") else "0x" + tx_hash)
        return pyevm_trace(self.evm.chain, tx_hash, self.fork, receipt)

    def revert_reason(self, tx, receipt, operation):
        last = self.evm.last
        if last is not None and last[0] == bytes(receipt["transactionHash"]):
            error = last[1].error
            if error.args and isinstance(error.args[0], bytes):
                return decode_revert(operation, error.args[0])
            return ContractRevert(operation, type(error).__name__)

        def replay(request, block):  # not reached while every transaction is mined as it is sent
            with readable_reverts(operation):
                self.w3.eth.call(request, block)

        return _replayed_revert(operation, tx, receipt, replay)


def _replayed_revert(operation, tx, receipt, replay) -> ContractRevert:
    """A node keeps no revert data: replay the transaction as a call on the state before its block."""
    request = {"from": tx.sender, "value": tx.value, "data": tx.data, **({"to": tx.to} if tx.to else {})}
    try:
        replay(request, receipt["blockNumber"] - 1)
    except ContractRevert as revert:
        return revert
    return ContractRevert(operation, "Revert", {"note": "the replay did not revert: the reason depended on "
                                                        "the block (time or state) it ran in"})


# -- a JSON-RPC node --------------------------------------------------------------------------------
def connect(rpc_url: str) -> Web3:
    """web3 on ``rpc_url``, or ConnectionError if nothing answers there."""
    w3 = Web3(Web3.HTTPProvider(rpc_url, session=_session_for(rpc_url)))
    if not w3.is_connected():
        raise ConnectionError(f"no JSON-RPC node answers at {rpc_url}: start one or check the URL")
    return w3


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
        raise ValueError(f"a private key in {settings.PRIVATE_KEYS} (or private_keys=) is not a 32-byte hex key; "
                         "give funded accounts' keys, comma-separated") from None


def result(operation: str, response: dict):
    """The result of a JSON-RPC response, or its error as ContractRevert (a revert) or NodeError."""
    error = response.get("error")
    if error is None:
        return response.get("result")
    raise rpc_error(operation, error)


def _integer(value):
    return int(value, 16) if isinstance(value, str) else value


def _hexbytes_or_none(value):
    return None if value is None else HexBytes(value)


def _address_or_none(value):
    return to_checksum_address(value) if value else value


_LOG_FIELDS = {"blockHash": _hexbytes_or_none, "blockNumber": _integer, "transactionIndex": _integer,
               "transactionHash": _hexbytes_or_none, "logIndex": _integer, "address": to_checksum_address,
               "topics": lambda topics: [HexBytes(t) for t in topics], "data": HexBytes}
_RECEIPT_FIELDS = {"blockHash": _hexbytes_or_none, "blockNumber": _integer, "transactionIndex": _integer,
                   "transactionHash": HexBytes, "cumulativeGasUsed": _integer, "status": _integer, "gasUsed": _integer,
                   "contractAddress": _address_or_none, "logsBloom": HexBytes, "from": _address_or_none,
                   "to": _address_or_none, "effectiveGasPrice": _integer, "type": _integer,
                   "blobGasPrice": _integer, "blobGasUsed": _integer,
                   "logs": lambda logs: [AttributeDict(_formatted(_LOG_FIELDS, log)) for log in logs]}


def _formatted(fields: dict, raw: dict) -> dict:
    return {k: fields[k](v) if k in fields else v for k, v in raw.items()}


def format_receipt(raw: dict) -> AttributeDict:
    """A JSON-RPC receipt as ``w3.eth.get_transaction_receipt`` returns it: ints, HexBytes, checksummed
    addresses, logs that ``contract.events.X().process_receipt`` reads; fields web3 does not format
    (a node's extras) stay as the node sent them, as in web3."""
    return AttributeDict(_formatted(_RECEIPT_FIELDS, raw))


class NodeRPC(Transport):
    """A JSON-RPC node driven with bare requests through web3's provider: the same transactions, blocks,
    receipts and gas as web3's path without its per-request formatting, validation and extra requests
    (``eth_chainId`` and block reads). The receipt and the latest block come back in one batch.

    Parameters
    ----------
    rpc_url : str
        The node (anvil, hardhat, geth, a testnet).
    private_keys : list of str, optional
        Keys of funded accounts to sign with here, for nodes that hold no unlocked accounts (a testnet);
        without them the node signs for its own accounts.
    """

    backend = "rpc"
    fork = "node"

    def __init__(self, rpc_url: str, private_keys: list[str] | None = None):
        self.url = rpc_url
        self.w3 = connect(rpc_url)
        self.rpc = self.w3.provider
        self.keys = {key.address: key for key in map(_local_account, private_keys or [])}
        self.accounts = list(self.keys) or list(self.w3.eth.accounts)
        if not self.accounts:
            raise ValueError("the node offers no unlocked accounts: start it with funded dev accounts, or put the "
                             f"private keys of funded accounts in {settings.PRIVATE_KEYS} (comma-separated)")
        latest = self.w3.eth.get_block("latest")
        self.block_gas_limit = latest["gasLimit"]
        self.fees = fees_for(latest)
        self._chain_id = self.w3.eth.chain_id if self.keys else None
        self._nonces: dict[str, int] = {}
        # Latest block time, kept here only on a node no one else mines on (see on_anvil): one request less
        # per time_travel and per reading of the time.
        self._clock: int | None = None

    @classmethod
    def start_anvil(cls, *, num_accounts: int = 10, block_gas_limit: int = BLOCK_GAS_LIMIT, hardfork: str = "prague",
                    genesis_time: int = GENESIS_TIME, tracing: bool = False) -> "NodeRPC":
        """Start a local anvil node (127.0.0.1, a free port) and own it: see :meth:`on_anvil`. With ``tracing``
        it records every step (``--steps-tracing``), so that transactions can be traced."""
        from .anvil import AnvilNode

        node = AnvilNode(num_accounts=num_accounts, block_gas_limit=block_gas_limit, hardfork=hardfork,
                         genesis_time=genesis_time, tracing=tracing)
        return cls.on_anvil(node, num_accounts=num_accounts, hardfork=hardfork)

    @classmethod
    def on_anvil(cls, node, *, num_accounts: int = 10, hardfork: str = "prague") -> "NodeRPC":
        """A transport owning ``node`` (an :class:`~dcai_lab.anvil.AnvilNode`), set up as the embedded chain
        is: its accounts (so contract addresses, and with them calldata and gas, are the same) and blocks
        one second apart unless the clock is moved. Stops the node if the set-up fails."""
        from eth_tester.backends.pyevm.main import get_default_account_keys

        try:
            transport = cls(node.url, private_keys=[])
            transport._request("anvil", "anvil_setBlockTimestampInterval", [1])
            transport.accounts = [key.public_key.to_checksum_address()
                                  for key in get_default_account_keys(num_accounts)]
            for account in transport.accounts:  # the node sends for them as for its own dev accounts
                transport._request("anvil", "anvil_impersonateAccount", [account])
                transport._request("anvil", "anvil_setBalance", [account, hex(10**24)])
            transport._clock = int(transport._request("anvil", "eth_getBlockByNumber",
                                                      ["latest", False])["timestamp"], 16)
        except Exception:
            node.stop()
            raise
        transport.node, transport.fork, transport.backend = node, hardfork, "anvil"
        return transport

    def _request(self, operation: str, method: str, params: list):
        """One JSON-RPC request to the node; its result, or ContractRevert / NodeError."""
        return result(operation, self.rpc.make_request(method, params))

    def send(self, tx, operation):
        """eth_sendTransaction (or a locally signed raw transaction), then the receipt and the latest block
        in one batch, polled until the node has mined it."""
        fields = {"value": tx.value, "gas": tx.gas, **self.fees, "data": tx.data, **({"to": tx.to} if tx.to else {})}
        key = self.keys.get(tx.sender)
        if key is None:  # the node signs
            request = {k: hex(v) if isinstance(v, int) else v for k, v in fields.items()}
            tx_hash = self._request(operation, "eth_sendTransaction", [{**request, "from": tx.sender}])
        else:
            if tx.sender not in self._nonces:
                self._nonces[tx.sender] = int(self._request(operation, "eth_getTransactionCount",
                                                            [tx.sender, "pending"]), 16)
            signed = key.sign_transaction({**fields, "chainId": self._chain_id, "nonce": self._nonces[tx.sender]})
            tx_hash = self._request(operation, "eth_sendRawTransaction", ["0x" + signed.raw_transaction.hex()])
            self._nonces[tx.sender] += 1
        deadline, pause = time.monotonic() + RECEIPT_TIMEOUT, 0.0
        while True:
            responses = self.rpc.make_batch_request([("eth_getTransactionReceipt", [tx_hash]),
                                                     ("eth_getBlockByNumber", ["latest", False])])
            if isinstance(responses, dict):  # the node answered the batch with one error
                result(operation, responses)
                raise NodeError(f"{operation}: the node did not answer a batch request: {responses}")
            found, latest = responses
            if result(operation, found) is not None:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{operation}: transaction {tx_hash} was not mined within {RECEIPT_TIMEOUT} s")
            time.sleep(pause)
            pause = min(0.5, 2 * pause or 0.001)
        receipt = format_receipt(found["result"])
        block = result(operation, latest)
        if int(block["number"], 16) != receipt["blockNumber"]:
            block = self._request(operation, "eth_getBlockByNumber", [hex(receipt["blockNumber"]), False])
        block_time = int(block["timestamp"], 16)
        self.saw_block(block_time)
        return receipt, block_time

    def call(self, tx, operation):
        request = {"from": tx.sender, "to": tx.to, "data": tx.data, **({"value": hex(tx.value)} if tx.value else {})}
        return to_bytes(hexstr=self._request(operation, "eth_call", [request, "latest"]))

    def saw_block(self, block_time):
        if self._clock is not None:
            self._clock = block_time

    def now(self):
        if self._clock is not None:
            return self._clock
        return int(self._request("now", "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def time_travel(self, target):
        if target - 1 > self.now():  # as on the embedded chain: a block at target - 1
            self._request("time_travel", "evm_mine", [target - 1])
        if self._clock is None:
            self._request("time_travel", "evm_setNextBlockTimestamp", [target])
        else:  # our own anvil adds one second per block by itself
            self._clock = max(self._clock, target - 1)

    def snapshot(self):
        return self._request("snapshot", "evm_snapshot", []), self._clock

    def revert(self, snapshot):
        self._request("revert", "evm_revert", [snapshot[0]])
        self._clock = snapshot[1]
        self._nonces.clear()  # the node forgot the transactions since: count again

    def balance(self, account):
        return int(self._request("balance", "eth_getBalance", [account, "latest"]), 16)

    def trace(self, tx_hash):
        """``debug_traceTransaction`` (geth's struct logger): the edr engine and anvil answer it."""
        from .tracing import node_trace

        def request(method, params):
            try:
                return self._request("trace", method, params)
            except NodeError as error:
                if method == "debug_traceTransaction":
                    raise TracingUnsupported(f"the node did not trace the transaction ({error}); backends that "
                                             f"trace: {', '.join(TRACING_BACKENDS)}") from error
                raise

        return node_trace(request, tx_hash, self.fork)

    def revert_reason(self, tx, receipt, operation):
        def replay(request, block):
            request = {k: hex(v) if isinstance(v, int) else v for k, v in request.items()}
            self._request(operation, "eth_call", [request, hex(block)])

        return _replayed_revert(operation, tx, receipt, replay)

    def close(self):
        if self.node is not None:
            self.node.stop()


class EdrRPC(NodeRPC):
    """The fast engine (:mod:`dcai_lab.edr`): EDR in a Node process, spoken to over a pipe, set up as the
    embedded chain is. The lab sets every block's time (the latest block's plus one second, unless the
    clock is moved), so runs do not depend on the wall clock; the time, the transaction and its receipt
    travel in one round trip (the bridge's ``lab_sendWithTime``)."""

    backend = "edr"

    def __init__(self, *, num_accounts: int = 10, block_gas_limit: int = BLOCK_GAS_LIMIT, hardfork: str = "prague",
                 genesis_time: int = GENESIS_TIME):
        from eth_tester.backends.pyevm.main import get_default_account_keys

        from .edr import EdrNode

        keys = get_default_account_keys(num_accounts)
        self.accounts = [key.public_key.to_checksum_address() for key in keys]
        cap = TX_GAS_CAP if hardfork == "osaka" else None
        self.node = EdrNode(keys=[key.to_hex() for key in keys], accounts=self.accounts,
                            block_gas_limit=block_gas_limit, hardfork=hardfork, genesis_time=genesis_time,
                            transaction_gas_cap=cap)
        try:
            self.url, self.rpc = "edr", _PipeProvider(self.node)
            self.w3 = Web3(self.rpc)
            self.keys, self._chain_id, self._nonces = {}, None, {}
            latest = self._request("edr", "eth_getBlockByNumber", ["latest", False])
            self.block_gas_limit = int(latest["gasLimit"], 16)
            self.fees = fees_for({"baseFeePerGas": latest.get("baseFeePerGas")})
            self._clock = int(latest["timestamp"], 16)
            self.fork = hardfork
        except Exception:
            self.node.stop()
            raise

    def send(self, tx, operation):
        fields = {"from": tx.sender, "value": tx.value, "gas": tx.gas, **self.fees, "data": tx.data,
                  **({"to": tx.to} if tx.to else {})}
        request = {k: hex(v) if isinstance(v, int) else v for k, v in fields.items()}
        receipt = format_receipt(self._request(operation, "lab_sendWithTime", [hex(self._clock + 1), request]))
        self._clock += 1
        return receipt, self._clock

    def engine_peak_memory(self):
        return self.node.memory()["peakRss"] if self.node.process.poll() is None else None

    def time_travel(self, target):
        """As on the embedded chain, a block at ``target - 1``; mined with the next request, in its round trip."""
        if target - 1 > self._clock:
            self.node.defer("evm_mine", [target - 1])
            self._clock = target - 1


class _PipeProvider(JSONBaseProvider):
    """web3's JSON-RPC provider over an :class:`~dcai_lab.edr.EdrNode`'s pipe (web3's own encoding)."""

    def __init__(self, node):
        super().__init__()
        self.node = node

    def make_request(self, method, params):
        return self.node.request(self._line(method, params))

    def make_batch_request(self, requests):
        return self.node.request([(m, p) for m, p in requests])

    def _line(self, method, params) -> dict:
        import json

        return json.loads(self.encode_rpc_request(method, params))

    def is_connected(self, show_traceback: bool = False) -> bool:
        return self.node.process.poll() is None


# -- web3's own path --------------------------------------------------------------------------------
class Web3Path(Transport):
    """Every transaction and call through web3.py's request path (its encoding, formatting, validation),
    on the embedded chain or on a node: the reference the direct transports are tested against.

    Parameters
    ----------
    place : EmbeddedEVM or NodeRPC
        Where the chain is. Time, snapshots, balances and revert reasons are the place's own (they are
        not part of a transaction's path); a node's local keys sign through web3's signing middleware.
    """

    backend = "web3"

    def __init__(self, place: EmbeddedEVM | NodeRPC):
        from web3.middleware import SignAndSendRawMiddlewareBuilder

        self.place = place
        self.w3 = place.w3
        self.accounts, self.block_gas_limit, self.fork, self.node = (place.accounts, place.block_gas_limit,
                                                                      place.fork, place.node)
        self.fees = place.fees
        keys = list(getattr(place, "keys", {}).values())
        if keys:
            self.w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(keys), layer=0)
        # eth-tester mines as it accepts a transaction; a node may answer before it has mined it.
        self._mined_on_send = isinstance(place, EmbeddedEVM)
        self._contracts: dict[int, tuple] = {}  # id(ABI) -> (ABI, contract class): making one per call is slow

    def send(self, tx, operation):
        request = {"from": tx.sender, "value": tx.value, "gas": tx.gas, **self.fees, **self._target(tx)}
        with readable_reverts(operation):  # a node may reject a reverting transaction up front
            tx_hash = self.w3.eth.send_transaction(request)
        if self._mined_on_send:
            receipt = self.w3.eth.get_transaction_receipt(tx_hash)
        else:
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT, poll_latency=0.002)
        block_time = self.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
        self.place.saw_block(block_time)
        return receipt, block_time

    def call(self, tx, operation):
        with readable_reverts(operation):
            return bytes(self.w3.eth.call({"from": tx.sender, **self._target(tx)}, "latest"))

    def _target(self, tx) -> dict:
        """Recipient and calldata, encoded by web3 itself when the transaction came from a contract call."""
        data = tx.data
        if tx.call is not None:
            contract_abi = getattr(tx.call, "contract_abi", None)
            entry = self._contracts.get(id(contract_abi))
            if entry is None or entry[0] is not contract_abi:
                entry = self._contracts[id(contract_abi)] = ((contract_abi, self.w3.eth.contract(abi=contract_abi))
                                                             if contract_abi else (contract_abi, None))
            data = web3_calldata(tx.call, entry[1])
        return {"data": data, **({"to": tx.to} if tx.to else {})}

    def now(self):
        return self.place.now()

    def time_travel(self, target):
        self.place.time_travel(target)

    def snapshot(self):
        return self.place.snapshot()

    def revert(self, snapshot):
        self.place.revert(snapshot)

    def balance(self, account):
        return self.w3.eth.get_balance(account)

    def revert_reason(self, tx, receipt, operation):
        return self.place.revert_reason(tx, receipt, operation)

    def trace(self, tx_hash):
        return self.place.trace(tx_hash)

    def close(self):
        self.place.close()


# -- no EVM at all ----------------------------------------------------------------------------------
class NoChainError(RuntimeError):
    """A twin-only chain was asked for something only an EVM has (a contract, a transaction, a balance)."""


class NoChain(Transport):
    """Twin-only runs: no EVM, only what the simulation needs from a chain — a clock, accounts and block
    numbers. Every recorded operation is one block, one second after the last unless the clock was moved,
    exactly as on the embedded chain, so that a twin-only run sees the times a chain run would.

    Parameters
    ----------
    num_accounts : int
        Accounts to hand out (addresses 0x…01, 0x…02, …: nothing is funded, nothing is signed).
    start : int
        Time of the latest block at the start.
    block_gas_limit : int
        What the twins assume a block holds (they size deployments by it).
    """

    backend = "twin"
    fork = None

    def __init__(self, num_accounts: int = 10, start: int = TWIN_START, block_gas_limit: int = BLOCK_GAS_LIMIT):
        self.accounts = [f"0x{i + 1:040x}" for i in range(num_accounts)]
        self.block_gas_limit = block_gas_limit
        self._now = start
        self.block = 0

    @property
    def w3(self):
        raise NoChainError("a twin-only chain has no EVM, and so no web3 connection: use Chain() or Chain.anvil() "
                           "for contracts")

    def _refuse(self, what: str):
        raise NoChainError(f"a twin-only chain has no EVM: it cannot {what}. Twin-only runs record estimated "
                           "gas with chain.record_estimate(...); use Chain() or Chain.anvil() to run contracts")

    def send(self, tx, operation):
        self._refuse(f"send a transaction ({operation})")

    def call(self, tx, operation):
        self._refuse(f"call a contract ({operation})")

    def balance(self, account):
        self._refuse("hold balances")

    def revert_reason(self, tx, receipt, operation):
        self._refuse("explain a revert")

    def trace(self, tx_hash):
        raise TracingUnsupported("a twin-only chain runs no EVM: its gas is estimated, there is no transaction to "
                                 f"trace; backends that trace: {', '.join(TRACING_BACKENDS)}")

    def now(self):
        return self._now

    def time_travel(self, target):
        # A block just before the target unless the clock is already past it, so the next one is at the
        # target (or, past it, one second after the latest, as on a chain).
        self._now = max(self._now, target - 1)

    def mine(self) -> tuple[int, int]:
        """One block for one operation, one second after the latest: its number and time."""
        self._now += 1
        self.block += 1
        return self.block, self._now

    def snapshot(self):
        return self._now, self.block

    def revert(self, snapshot):
        self._now, self.block = snapshot
