"""What a transaction costs in ether and US dollars on Ethereum (L1), an OP Stack rollup and Arbitrum One.

Gas is what the chain measures; money is gas times prices that change by the minute. This module prices the
gas ledger's transactions under fee parameters that say where each number came from (:class:`Fees`: a dated
snapshot shipped with the package, ``fee_snapshot.json``, with a median and a high scenario; a file; the
user's own values; or a node's ``eth_feeHistory``):

- **L1** (Ethereum mainnet, prague/osaka rules): gas used x (base fee + priority fee). Gas used is at least
  EIP-7623's calldata floor, 21,000 + 10 x tokens (tokens = zero bytes + 4 x other bytes). The ledger's gas
  already includes the floor when the chain runs prague or later (py-evm and edr apply it), and applying it
  again changes nothing (:func:`l1_gas`), so nothing is counted twice. Transactions above EIP-7825's 2**24
  gas cap (osaka) are flagged: osaka would refuse them.
- **OP Stack** (Fjord and later; :func:`fjord_l1_fee`): an L1 data fee from the FastLZ-compressed size of the
  signed transaction, plus L2 gas x L2 gas price, plus Isthmus's operator fee where set (:func:`operator_fee`).
- **Arbitrum** (Nitro; :func:`arbitrum_poster_gas`): the brotli-compressed size of the signed transaction
  x 16 units x the L1 price per unit, charged as extra L2 gas at the L2 base fee, plus L2 gas x L2 base fee
  (Arbitrum ignores tips).

The rollups price the signed transaction's bytes, so each ledger row is rebuilt as what a wallet would send:
an EIP-1559 (type 2) transaction with the row's recipient, calldata and value, gas limit = gas used, the
sender's running nonce, the chain's id, and fee caps from the scenario, signed with a throwaway key
(:func:`signed_transaction`). Its size, not its signature, is what matters.
"""
from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

from .anatomy import FLOOR_PER_TOKEN, TX_BASE, intrinsic
from .transports import TX_GAS_CAP

#: The fee snapshot shipped with the package.
SNAPSHOT = Path(__file__).with_name("fee_snapshot.json")
#: The chains priced, in the order tables show them.
CHAINS = ("l1", "op", "arbitrum")
CHAIN_NAMES = {"l1": "Ethereum L1", "op": "OP Stack", "arbitrum": "Arbitrum One"}
#: Chain ids signed into the transactions (their RLP size depends on them): Ethereum 1 (EIP-155), OP Mainnet 10
#: (superchain-registry, superchain/configs/mainnet/op.toml), Arbitrum One 42161 (Nitro's ArbitrumOneChainConfig).
CHAIN_IDS = {"l1": 1, "op": 10, "arbitrum": 42161}
#: How the 2019 paper priced gas: 4 gwei, 373 USD per ether.
PAPER_GAS_PRICE_GWEI, PAPER_ETH_USD = 4.0, 373.0

# -- Ethereum: EIP-7623 and EIP-7825: the intrinsic-gas rules are anatomy's, the cap the chain's ----------------
# -- OP Stack, Fjord (specs/protocol/fjord/exec-engine.md; op-geth core/types/rollup_cost.go) ---------------
FJORD_INTERCEPT = -42_585_600
FJORD_FASTLZ_COEF = 836_500
FJORD_MIN_TRANSACTION_SIZE = 100

# -- Arbitrum (Nitro arbos/l1pricing/l1pricing.go, arbos/arbosState/arbosstate.go) -------------------------
UNITS_PER_BYTE = 16  # params.TxDataNonZeroGasEIP2028
#: ArbOS 20 set the brotli level of the per-transaction estimate to 1 (from 0); the chain owner may change it.
ARBITRUM_BROTLI_LEVEL = 1
BROTLI_WINDOW = 22  # arbcompress.WINDOW_SIZE, BROTLI_DEFAULT_WINDOW

#: A throwaway signing key: only the signed transaction's size is used.
_THROWAWAY_KEY = "0x" + "11" * 32
GWEI = 10**9


# -- the formulas ---------------------------------------------------------------------------------------
def calldata_tokens(data: bytes) -> int:
    """EIP-7623's tokens: zero bytes count one, other bytes four."""
    return (intrinsic(data)["floor"] - TX_BASE) // FLOOR_PER_TOKEN


def calldata_floor_gas(data: bytes) -> int:
    """EIP-7623's floor on a transaction's gas used: 21,000 + 10 x tokens."""
    return intrinsic(data)["floor"]


def eip7623_gas_used(data: bytes, execution_gas: int, creation: bool = False) -> int:
    """Gas used under EIP-7623: max(21,000 + 4 x tokens (+ creation costs) + execution, the floor), where
    ``execution_gas`` is what the EVM spent after refunds."""
    parts = intrinsic(data, create=creation)
    return max(parts["base"] + parts["calldata"] + parts["init code"] + execution_gas, parts["floor"])


def l1_gas(gas_used: int, data: bytes) -> int:
    """The gas a transaction uses on an EIP-7623 chain, from its gas used on the chain that ran it: the same
    if that chain already applied the floor (prague and later), raised to the floor if not."""
    return max(gas_used, calldata_floor_gas(data))


def fjord_l1_fee(fastlz_size: int, l1_base_fee: int, l1_blob_base_fee: int, base_fee_scalar: int,
                 blob_base_fee_scalar: int) -> int:
    """An OP Stack transaction's L1 data fee in wei (Fjord), in integers as op-geth computes it:
    max(minTransactionSize x 1e6, intercept + fastlzCoef x fastlzSize) x
    (baseFeeScalar x l1BaseFee x 16 + blobBaseFeeScalar x l1BlobBaseFee) // 1e12."""
    estimated_size = max(FJORD_MIN_TRANSACTION_SIZE * 10**6, FJORD_INTERCEPT + FJORD_FASTLZ_COEF * fastlz_size)
    fee_scaled = base_fee_scalar * l1_base_fee * 16 + blob_base_fee_scalar * l1_blob_base_fee
    return estimated_size * fee_scaled // 10**12


def operator_fee(gas_used: int, scalar: int, constant: int) -> int:
    """Isthmus's operator fee in wei: gas used x operatorFeeScalar // 1e6 + operatorFeeConstant (0 when both
    are unset). Jovian changes how the scalar is applied; with both at 0, as in the snapshot, neither matters."""
    return gas_used * scalar // 10**6 + constant


def arbitrum_poster_gas(compressed_size: int, price_per_unit: int, l2_base_fee: int) -> int:
    """The L2 gas Arbitrum charges for posting a transaction to L1: units = brotli size x 16; poster cost =
    units x L1 price per unit (wei); in gas, poster cost // L2 base fee (Nitro rounds down)."""
    return compressed_size * UNITS_PER_BYTE * price_per_unit // l2_base_fee


# -- compression ----------------------------------------------------------------------------------------
def fastlz_compress(data: bytes) -> bytes:
    """FastLZ level 1 as the OP Stack prices it: op-geth's FlzCompressLen and Solady's LibZip.flzCompress
    (a 13-bit hash of 3-byte words, matches up to 8,191 bytes back, literal runs of up to 32 bytes). The
    output decompresses with FastLZ level 1; :func:`fastlz_compressed_length` is its length."""
    n = len(data)
    out = bytearray()
    table = [0] * 8192
    limit = n - 13 if n >= 13 else 0

    def word(i):
        return data[i] | data[i + 1] << 8 | data[i + 2] << 16

    def slot(v):
        return ((2654435769 * v) & 0xFFFFFFFF) >> 19 & 0x1FFF

    def literals(start, count):
        while count >= 32:
            out.append(31)
            out.extend(data[start:start + 32])
            start, count = start + 32, count - 32
        if count:
            out.append(count - 1)
            out.extend(data[start:start + count])

    anchor, ip = 0, 2
    while ip < limit:
        while True:  # find a 3-byte word seen within 8,191 bytes
            s = word(ip)
            h = slot(s)
            ref = table[h]
            table[h] = ip
            distance = ip - ref
            if ip >= limit:
                break
            ip += 1
            if distance <= 0x1FFF and s == word(ref):
                break
        if ip >= limit:
            break
        ip -= 1
        if ip > anchor:
            literals(anchor, ip - anchor)
        # extend the match past its first 3 bytes; as in op-geth, l ends one past the first mismatch
        p, q, end = ref + 3, ip + 3, limit + 9 - (ip + 3)
        length = 0
        while length < end:
            if data[p + length] != data[q + length]:
                end = 0
            length += 1
        ip += length
        offset = distance - 1
        while length > 262:  # a match copies length + 2 bytes, at most 264 per instruction
            out += bytes((224 + (offset >> 8), 253, offset & 255))
            length -= 262
        if length < 7:
            out += bytes(((length << 5) + (offset >> 8), offset & 255))
        else:
            out += bytes((224 + (offset >> 8), length - 7, offset & 255))
        table[slot(word(ip))] = ip
        ip += 1
        table[slot(word(ip))] = ip
        ip += 1
        anchor = ip
    literals(anchor, n - anchor)
    return bytes(out)


def fastlz_compressed_length(data: bytes) -> int:
    """The OP Stack's ``fastlzSize`` of ``data``."""
    return len(fastlz_compress(data))


def brotli_compressed_length(data: bytes, level: int = ARBITRUM_BROTLI_LEVEL) -> int:
    """Length of ``data`` brotli-compressed as Nitro's arbcompress does it (generic mode, window 22)."""
    import brotli

    return len(brotli.compress(data, mode=brotli.MODE_GENERIC, quality=level, lgwin=BROTLI_WINDOW))


# -- signed transactions --------------------------------------------------------------------------------
def signed_transaction(*, to: str | None, data: bytes, value: int, gas: int, nonce: int, chain_id: int,
                       max_fee_per_gas: int, max_priority_fee_per_gas: int) -> bytes:
    """The raw bytes of an EIP-1559 (type 2) transaction with these fields, signed with a throwaway key."""
    from eth_account import Account

    fields = {"type": 2, "chainId": chain_id, "nonce": nonce, "gas": gas, "value": value, "data": data,
              "maxFeePerGas": max_fee_per_gas, "maxPriorityFeePerGas": max_priority_fee_per_gas,
              "accessList": []}
    if to:
        fields["to"] = to
    return bytes(Account.sign_transaction(fields, _THROWAWAY_KEY).raw_transaction)


# -- fee parameters -------------------------------------------------------------------------------------
class Fees:
    """Fee parameters by scenario, each with its date and source.

    ``raw`` has the shape of ``fee_snapshot.json``: ``eth_usd`` and ``scenarios`` (name -> parameter ->
    ``{"value", "date", "source" or "estimate", ...}``). Parameters: ``l1_base_fee_gwei``,
    ``l1_priority_fee_gwei``, ``l1_blob_base_fee_gwei``, ``op_base_fee_scalar``, ``op_blob_base_fee_scalar``,
    ``op_l2_base_fee_gwei``, ``op_l2_priority_fee_gwei``, ``op_operator_fee_scalar``,
    ``op_operator_fee_constant_wei``, ``arb_l1_price_per_unit_gwei``, ``arb_l2_base_fee_gwei``.
    """

    def __init__(self, raw: dict):
        self.raw = raw
        for name, values in raw["scenarios"].items():
            missing = sorted(set(PARAMETERS) - set(values))
            if missing:
                raise ValueError(f"fee scenario {name!r} lacks {', '.join(missing)}")

    @classmethod
    def snapshot(cls) -> "Fees":
        """The snapshot shipped with the package (``dcai_lab/fee_snapshot.json``)."""
        return cls.load(SNAPSHOT)

    @classmethod
    def load(cls, path) -> "Fees":
        """Fees from a JSON file shaped like the shipped snapshot."""
        return cls(json.loads(Path(path).read_text()))

    @property
    def date(self) -> str:
        """When the snapshot's values held (a range: each value has its own date)."""
        return self.raw.get("date", "")

    @property
    def scenarios(self) -> list[str]:
        return list(self.raw["scenarios"])

    @property
    def eth_usd(self) -> float:
        return float(self.raw["eth_usd"]["value"])

    def value(self, scenario: str, name: str) -> float:
        return self.raw["scenarios"][scenario][name]["value"]

    def describe(self) -> str:
        """One line: when, and the ether price's date and source."""
        usd = self.raw["eth_usd"]
        return (f"fees of {self.date} ({', '.join(self.scenarios)}), ETH at {usd['value']:,.2f} USD on {usd['date']} "
                f"({usd.get('source', 'set by the user')})")

    def replace(self, scenario: str | None = None, *, eth_usd: float | None = None, source: str = "set by the user",
                **values) -> "Fees":
        """A copy with ``values`` (parameter names as keyword arguments) set in ``scenario`` (every scenario by
        default) and/or the ether price set, each marked as coming from ``source`` with today's date."""
        unknown = sorted(set(values) - set(PARAMETERS))
        if unknown:
            raise ValueError(f"unknown fee parameters {unknown}; known: {', '.join(PARAMETERS)}")
        raw = copy.deepcopy(self.raw)
        today = datetime.now(timezone.utc).date().isoformat()
        if eth_usd is not None:
            raw["eth_usd"] = {"value": float(eth_usd), "unit": "USD per ETH", "date": today, "source": source}
        for name in [scenario] if scenario else list(raw["scenarios"]):
            for key, value in values.items():
                raw["scenarios"][name][key] = {"value": value, "date": today, "source": source}
        return Fees(raw)

    @classmethod
    def from_node(cls, node, base: "Fees | None" = None, blocks: int = 1024, percentiles=(50, 90)) -> "Fees":
        """L1 fees read from a node (a :class:`~dcai_lab.Chain` on a node, or a web3 connection) by
        ``eth_feeHistory`` over the latest ``blocks`` blocks: the median scenario takes the median base fee,
        blob base fee and tip (the 50th-percentile tip of each block, its median), the high one the 90th
        percentiles; every other value stays as in ``base`` (default: the snapshot). The L2 values of a rollup
        still come from ``base``: its own node would be needed for them."""
        import numpy as np

        w3 = getattr(node, "w3", node)
        history = w3.eth.fee_history(blocks, "latest", list(percentiles))
        base_fees = np.array(history["baseFeePerGas"], dtype=float)
        tips = np.array(history.get("reward") or [[0] * len(percentiles)], dtype=float)
        blob_fees = np.array(history.get("baseFeePerBlobGas") or [0], dtype=float)
        oldest = int(history["oldestBlock"])
        source = f"eth_feeHistory of blocks {oldest}-{oldest + len(base_fees) - 2} of the node"
        fees = base or cls.snapshot()
        for name, q, column in zip(("median", "high"), percentiles, range(len(percentiles))):
            if name in fees.raw["scenarios"]:
                fees = fees.replace(name, source=source,
                                    l1_base_fee_gwei=float(np.percentile(base_fees, q)) / GWEI,
                                    l1_priority_fee_gwei=float(np.median(tips[:, column])) / GWEI,
                                    l1_blob_base_fee_gwei=float(np.percentile(blob_fees, q)) / GWEI)
        return fees


PARAMETERS = ("l1_base_fee_gwei", "l1_priority_fee_gwei", "l1_blob_base_fee_gwei", "op_base_fee_scalar",
              "op_blob_base_fee_scalar", "op_l2_base_fee_gwei", "op_l2_priority_fee_gwei", "op_operator_fee_scalar",
              "op_operator_fee_constant_wei", "arb_l1_price_per_unit_gwei", "arb_l2_base_fee_gwei")


def _wei(gwei: float) -> int:
    return round(gwei * GWEI)


# -- pricing the ledger ---------------------------------------------------------------------------------
def transaction_costs(gas, fees: Fees | None = None, chains=CHAINS, scenarios=None):
    """The cost of every transaction of ``gas`` (a gas ledger's ``to_pandas(sent=True)``, with the calldata
    and value each transaction sent) on each of ``chains`` under each fee scenario: one row per transaction,
    chain and scenario, with the gas charged (L1: at least EIP-7623's floor; Arbitrum: plus the poster's gas),
    the compressed size the rollup priced, the fee in wei and ether, its US dollars, and ``above_tx_cap``
    (L1 only: more gas than EIP-7825 lets one osaka transaction use)."""
    import pandas as pd

    fees = fees or Fees.snapshot()
    unknown = [c for c in chains if c not in CHAINS]
    if unknown:
        raise ValueError(f"unknown chains {unknown}; choose from {', '.join(CHAINS)}")
    if "data" not in gas:
        raise ValueError("pricing needs the calldata each transaction sent: pass chain.gas.to_pandas(sent=True)")
    rows = []
    nonces: dict[str, int] = {}
    for tx in gas.itertuples(index=False):
        nonce = nonces.get(tx.sender, 0)
        nonces[tx.sender] = nonce + 1
        if not isinstance(tx.data, str) or not tx.data.startswith("0x"):
            raise ValueError(f"transaction {tx.name!r} has no recorded calldata (a twin-only estimate?): what it "
                             "costs to post cannot be computed")
        data = bytes.fromhex(tx.data[2:])
        for scenario in scenarios or fees.scenarios:
            v = {name: fees.value(scenario, name) for name in PARAMETERS}
            for chain in chains:
                rows.append({"operation": tx.operation, "name": tx.name, "status": tx.status, "chain": chain,
                             "scenario": scenario, **_price(chain, tx, data, nonce, v)})
    frame = pd.DataFrame(rows)
    frame["eth"] = frame["fee_wei"].astype(float) / 1e18
    frame["usd"] = frame["eth"] * fees.eth_usd
    return frame


def _price(chain: str, tx, data: bytes, nonce: int, v: dict) -> dict:
    gas_used = int(tx.gas_used)
    if chain == "l1":
        gas = l1_gas(gas_used, data)
        price = _wei(v["l1_base_fee_gwei"]) + _wei(v["l1_priority_fee_gwei"])
        return {"gas": gas, "compressed_bytes": None, "fee_wei": gas * price, "above_tx_cap": gas > TX_GAS_CAP}
    if chain == "op":  # Isthmus brought EIP-7623 to the OP Stack too
        gas_used = l1_gas(gas_used, data)
        base, tip = _wei(v["op_l2_base_fee_gwei"]), _wei(v["op_l2_priority_fee_gwei"])
        raw = _signed(tx, data, nonce, chain, base, tip)
        size = fastlz_compressed_length(raw)
        l1_fee = fjord_l1_fee(size, _wei(v["l1_base_fee_gwei"]), _wei(v["l1_blob_base_fee_gwei"]),
                              int(v["op_base_fee_scalar"]), int(v["op_blob_base_fee_scalar"]))
        fee = gas_used * (base + tip) + l1_fee + operator_fee(gas_used, int(v["op_operator_fee_scalar"]),
                                                              int(v["op_operator_fee_constant_wei"]))
        return {"gas": gas_used, "compressed_bytes": size, "fee_wei": fee, "above_tx_cap": False}
    base = _wei(v["arb_l2_base_fee_gwei"])
    raw = _signed(tx, data, nonce, chain, base, 0)
    size = brotli_compressed_length(raw)
    gas = gas_used + arbitrum_poster_gas(size, _wei(v["arb_l1_price_per_unit_gwei"]), base)
    return {"gas": gas, "compressed_bytes": size, "fee_wei": gas * base, "above_tx_cap": False}


def _signed(tx, data: bytes, nonce: int, chain: str, base_fee: int, tip: int) -> bytes:
    """The transaction as a wallet would sign it: gas limit = gas used, max fee = 2 x base fee + tip."""
    return signed_transaction(to=None if tx.creation else tx.to, data=data, value=int(tx.value or 0),
                              gas=int(tx.gas_used), nonce=nonce, chain_id=CHAIN_IDS[chain],
                              max_fee_per_gas=2 * base_fee + tip, max_priority_fee_per_gas=tip)


def operation_costs(gas, fees: Fees | None = None, chains=CHAINS, scenarios=None):
    """:func:`transaction_costs` per operation, as :func:`dcai_lab.results.gas_table` counts gas: a
    deployment summed over its transactions, any other operation the mean per transaction (successful ones
    only). One row per operation, chain and scenario: ether, US dollars, and whether any transaction of the
    operation is above EIP-7825's cap."""
    from .gas import DEPLOY

    costs = transaction_costs(gas[gas["status"] == 1], fees, chains, scenarios)
    grouped = costs.groupby(["operation", "chain", "scenario"], sort=False)
    table = grouped.agg(eth=("eth", "mean"), usd=("usd", "mean"), transactions=("eth", "size"),
                        above_tx_cap=("above_tx_cap", "any"))
    totals = grouped[["eth", "usd"]].sum()
    deploy = table.index.get_level_values("operation") == DEPLOY
    table.loc[deploy, ["eth", "usd"]] = totals.loc[deploy].to_numpy()
    return table.reset_index()


def paper_usd(gas):
    """US dollars of ``gas`` as the 2019 paper priced it (4 gwei, 373 USD per ether)."""
    from .results import usd

    return usd(gas, PAPER_GAS_PRICE_GWEI, PAPER_ETH_USD)
