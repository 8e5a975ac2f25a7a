"""Transaction cost in money (dcai_lab.cost): the published fee formulas on worked examples computed by hand,
FastLZ against op-geth's vectors and a FastLZ decoder, the fee snapshot's provenance, and the ledger priced."""
import copy
import json
import re

import brotli
import pandas as pd
import pytest
import rlp
from hypothesis import given, settings
from hypothesis import strategies as st

from dcai_lab import cost
from dcai_lab.chain import Chain
from dcai_lab.transports import Tx


# -- EIP-7623 -------------------------------------------------------------------------------------------
def test_calldata_floor_binds_on_a_calldata_heavy_transaction():
    data = b"\xff" * 1000  # 1000 non-zero bytes: 4000 tokens
    # standard: 21,000 + 4 x 4000 + 5,000 of execution = 42,000; floor: 21,000 + 10 x 4000 = 61,000
    assert cost.calldata_tokens(data) == 4000
    assert cost.eip7623_gas_used(data, execution_gas=5_000) == 61_000


def test_calldata_floor_does_not_bind_when_execution_dominates():
    data = b"\x01" * 100 + b"\x00" * 50  # 400 + 50 = 450 tokens
    # standard: 21,000 + 4 x 450 + 50,000 = 72,800; floor: 21,000 + 10 x 450 = 25,500
    assert cost.eip7623_gas_used(data, execution_gas=50_000) == 72_800
    # a creation adds 32,000 and 2 per 32-byte word of init code (150 bytes: 5 words)
    assert cost.eip7623_gas_used(data, execution_gas=50_000, creation=True) == 72_800 + 32_000 + 10


def test_the_floor_is_applied_once_whatever_the_ledger_holds():
    data = b"\xff" * 1000
    assert cost.l1_gas(61_000, data) == 61_000  # a prague ledger already holds the floor
    assert cost.l1_gas(42_000, data) == 61_000  # a pre-prague one is raised to it
    assert cost.l1_gas(90_000, data) == 90_000


def test_the_embedded_chain_charges_the_floor_so_the_ledger_holds_it():
    chain = Chain()
    receipt, _ = chain.transport.send(Tx(chain.accounts[0], chain.accounts[2], "0x" + "ff" * 1000), "calldata")
    assert receipt["gasUsed"] == 61_000 == cost.calldata_floor_gas(b"\xff" * 1000)


# -- OP Stack, Fjord ------------------------------------------------------------------------------------
L1_BASE_FEE, L1_BLOB_BASE_FEE = 1_000_000_007, 10_000_003
# 5227 x 1,000,000,007 x 16 + 1,014,213 x 10,000,003 = 83,632,000,585,424 + 10,142,133,042,639
FEE_SCALED = 93_774_133_628_063


def test_fjord_fee_above_the_minimum_size_in_integers():
    # estimatedSize = -42,585,600 + 836,500 x 202 = 126,387,400 (above 100 x 1e6)
    # 126,387,400 x 93,774,133,628,063 = 11,851,868,936,503,449,606,200; // 1e12 drops 503,449,606,200
    fee = cost.fjord_l1_fee(202, L1_BASE_FEE, L1_BLOB_BASE_FEE, 5227, 1_014_213)
    assert fee == 11_851_868_936


def test_fjord_fee_at_the_minimum_size():
    # -42,585,600 + 836,500 x 31 = -16,654,100 < 100 x 1e6: the minimum binds
    # 100,000,000 x 93,774,133,628,063 // 1e12 = 9,377,413,362
    assert cost.fjord_l1_fee(31, L1_BASE_FEE, L1_BLOB_BASE_FEE, 5227, 1_014_213) == 9_377_413_362
    assert cost.fjord_l1_fee(0, L1_BASE_FEE, L1_BLOB_BASE_FEE, 5227, 1_014_213) == 9_377_413_362


def test_fjord_fee_matches_op_gethS_own_example_with_its_minimum():
    # op-geth's TestFjordL1CostFunc (base fee 1000e6, blob base fee 10e6, scalars 2 and 3) at minimum size:
    # 100e6 x (2 x 1000e6 x 16 + 3 x 10e6) / 1e12 = 3,203,000 (op-geth's older test used 71e6: 2,274,130)
    assert cost.fjord_l1_fee(31, 1000 * 10**6, 10 * 10**6, 2, 3) == 3_203_000


def test_operator_fee():
    # 100,001 x 1,500,000 // 1e6 = 150,001 (150,001.5 truncated) + 7
    assert cost.operator_fee(100_001, 1_500_000, 7) == 150_008
    assert cost.operator_fee(100_001, 0, 0) == 0


# -- Arbitrum -------------------------------------------------------------------------------------------
def test_arbitrum_poster_gas_rounds_down():
    # 150 brotli bytes x 16 = 2,400 units x 615,648 wei = 1,477,555,200 wei; / 20,000,000 wei per gas = 73.88 -> 73
    assert cost.arbitrum_poster_gas(150, 615_648, 20_000_000) == 73


def test_brotli_length_is_nitros_setting():
    data = bytes(range(256)) * 4
    assert cost.brotli_compressed_length(data) == len(brotli.compress(data, quality=1, lgwin=22))
    assert cost.brotli_compressed_length(data, level=0) != cost.brotli_compressed_length(data, level=11)


# -- FastLZ ---------------------------------------------------------------------------------------------
CONTRACT_CALL_TX = bytes.fromhex(  # op-geth TestFlzCompressLen: an OP Mainnet contract call, 202 bytes compressed
    "02f901550a758302df1483be21b88304743f94f80e51afb613d764fa61751affd3313c190a86bb870151bd62fd12adb8e41ef24f3f"
    "000000000000000000000000000000000000000000000000000000000000006e000000000000000000000000af88d065e77c8cc2239"
    "327c5edb3a432268e5831000000000000000000000000000000000000000000000000000000000003c1e5000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000a0"
    "0000000000000000000000000000000000000000000000000000000000000000148c89ed219d02f1a5be012c689b4f5b731827bebe0"
    "00000000000000000000000c001a033fd89cb37c31b2cba46b6466e040c61fc9b2a3675a7f5f493ebd5ad77c497f8a07cdf65680e23"
    "8392693019b4092f610222e71b7cec06449cb922b93b6a12744e")
# op-geth's emptyTx: an unsigned legacy transaction to 0x095e..., all else zero
EMPTY_TX = rlp.encode([0, 0, 0, bytes.fromhex("095e7baea6a6c7c4c2dfeb977efac326af552d87"), 0, b"", 0, 0, 0])


@pytest.mark.parametrize("data, length", [(b"", 0), (b"\x01" * 1000, 21), (bytes(1000), 21), (EMPTY_TX, 31),
                                          (CONTRACT_CALL_TX, 202)])
def test_fastlz_length_matches_op_geth(data, length):
    assert cost.fastlz_compressed_length(data) == length


def test_fastlz_by_hand():
    # under 13 bytes nothing is searched: one literal run, its length byte and the bytes
    assert cost.fastlz_compress(b"abc") == b"\x02abc"
    # no 3-byte word repeats, so all literals, in runs of at most 32 each led by a byte: 40 = 32 + 8 -> 33 + 9
    assert cost.fastlz_compressed_length(bytes(range(40))) == 42
    assert cost.fastlz_compressed_length(bytes(range(70))) == 33 + 33 + 7


def fastlz_decompress(compressed: bytes) -> bytes:
    """FastLZ level 1, decoded from its format: a byte < 32 starts a run of that many + 1 literals; otherwise
    its top 3 bits minus 1 (plus a next byte when they are 7) are a match's length - 3 (bytes copied), and
    its low 5 bits with the following byte the distance back - 1."""
    out, i = bytearray(), 0
    while i < len(compressed):
        ctrl = compressed[i]
        i += 1
        if ctrl < 32:
            out += compressed[i:i + ctrl + 1]
            i += ctrl + 1
            continue
        length = (ctrl >> 5) - 1
        if length == 6:
            length += compressed[i]
            i += 1
        start = len(out) - ((ctrl & 31) << 8) - compressed[i] - 1
        i += 1
        assert start >= 0, "a match reaching before the start"
        for k in range(length + 3):
            out.append(out[start + k])
    return bytes(out)


def test_the_decoder_reads_a_hand_made_stream():
    # "abc" x 4: 3 literals, then a match 3 back copying 9 bytes (long form: top bits 7, then 9 - 3 - 6 = 0,
    # then the distance 3 - 1 = 2)
    assert fastlz_decompress(b"\x02abc" + bytes((224, 0, 2))) == b"abc" * 4
    with pytest.raises(AssertionError):
        fastlz_decompress(bytes((32, 5)))


repetitive = st.builds(lambda unit, times, tail: unit * times + tail, st.binary(min_size=1, max_size=40),
                       st.integers(1, 400), st.binary(max_size=30))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=3000), repetitive))
def test_fastlz_output_decodes_to_its_input(data):
    assert fastlz_decompress(cost.fastlz_compress(data)) == data


# -- signed transactions --------------------------------------------------------------------------------
def test_a_signed_transaction_carries_the_ledger_fields():
    raw = cost.signed_transaction(to="0x" + "22" * 20, data=b"\x01\x02", value=5, gas=50_000, nonce=3, chain_id=10,
                                  max_fee_per_gas=7, max_priority_fee_per_gas=1)
    assert raw[0] == 2  # EIP-1559
    chain_id, nonce, tip, max_fee, gas, to, value, data, access, *signature = rlp.decode(raw[1:])
    assert [int.from_bytes(x, "big") for x in (chain_id, nonce, tip, max_fee, gas, value)] == [10, 3, 1, 7, 50_000, 5]
    assert (to, data, access, len(signature)) == (b"\x22" * 20, b"\x01\x02", [], 3)
    created = cost.signed_transaction(to=None, data=b"\x60\x00", value=0, gas=60_000, nonce=0, chain_id=1,
                                      max_fee_per_gas=7, max_priority_fee_per_gas=0)
    assert rlp.decode(created[1:])[5] == b""


# -- the snapshot ---------------------------------------------------------------------------------------
def provenance_problems(raw: dict) -> list[str]:
    """Every number of a fee file without an ISO date, or without an https source, or marked estimate with
    no word on how; and scenarios lacking a parameter."""
    problems = []
    entries = [("eth_usd", raw["eth_usd"])] + [(f"{s}.{k}", e) for s, values in raw["scenarios"].items()
                                               for k, e in values.items()]
    for name, entry in entries:
        if not isinstance(entry.get("value"), (int, float)):
            problems.append(f"{name}: no number")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(entry.get("date", ""))):
            problems.append(f"{name}: no date")
        if not str(entry.get("source", "")).startswith("https://"):
            problems.append(f"{name}: no public source")
        if "estimate" in entry and len(str(entry["estimate"])) < 20:
            problems.append(f"{name}: an estimate that does not say how")
    for scenario, values in raw["scenarios"].items():
        problems += [f"{scenario}: lacks {p}" for p in cost.PARAMETERS if p not in values]
    return problems


def test_every_snapshot_number_has_a_date_and_a_source():
    raw = json.loads(cost.SNAPSHOT.read_text())
    assert provenance_problems(raw) == []
    assert set(raw["scenarios"]) == {"median", "high"}
    assert cost.Fees.snapshot().date == raw["date"]


def test_the_provenance_check_finds_what_is_missing():
    raw = json.loads(cost.SNAPSHOT.read_text())
    broken = copy.deepcopy(raw)
    del broken["scenarios"]["median"]["l1_base_fee_gwei"]["source"]
    broken["scenarios"]["high"]["arb_l2_base_fee_gwei"]["date"] = "recently"
    broken["scenarios"]["high"]["op_l2_base_fee_gwei"]["estimate"] = "guess"
    del broken["scenarios"]["high"]["op_base_fee_scalar"]
    assert provenance_problems(broken) == ["median.l1_base_fee_gwei: no public source",
                                           "high.op_l2_base_fee_gwei: an estimate that does not say how",
                                           "high.arb_l2_base_fee_gwei: no date",
                                           "high: lacks op_base_fee_scalar"]


def test_the_snapshots_derived_estimates_follow_their_rules():
    fees = cost.Fees.snapshot()
    for s in fees.scenarios:
        base, blob = fees.value(s, "l1_base_fee_gwei"), fees.value(s, "l1_blob_base_fee_gwei")
        assert blob == pytest.approx(base / 16)  # EIP-7918's reserve price
        per_byte = (16 * fees.value(s, "op_base_fee_scalar") * base + fees.value(s, "op_blob_base_fee_scalar") * blob)
        assert fees.value(s, "arb_l1_price_per_unit_gwei") == pytest.approx(per_byte / 1e6 / 16, rel=1e-5)


def test_fees_can_be_replaced_loaded_and_read_from_a_node(tmp_path):
    fees = cost.Fees.snapshot().replace("high", eth_usd=3000, l1_base_fee_gwei=1.5)
    assert (fees.eth_usd, fees.value("high", "l1_base_fee_gwei")) == (3000, 1.5)
    assert fees.value("median", "l1_base_fee_gwei") == cost.Fees.snapshot().value("median", "l1_base_fee_gwei")
    assert fees.raw["scenarios"]["high"]["l1_base_fee_gwei"]["source"] == "set by the user"
    with pytest.raises(ValueError, match="unknown fee parameters"):
        fees.replace(l1_base_fee=1)
    path = tmp_path / "fees.json"
    path.write_text(json.dumps(fees.raw))
    assert cost.Fees.load(path).value("high", "l1_base_fee_gwei") == 1.5

    class Node:  # what web3's eth.fee_history returns, for 4 blocks
        class eth:
            @staticmethod
            def fee_history(blocks, newest, percentiles):
                assert (blocks, newest, percentiles) == (1024, "latest", [50, 90])
                return {"oldestBlock": 100, "baseFeePerGas": [1e9, 2e9, 3e9, 4e9, 5e9],
                        "reward": [[1e8, 9e8], [2e8, 8e8], [3e8, 7e8], [4e8, 6e8]],
                        "baseFeePerBlobGas": [1, 1, 1, 1, 1]}

    read = cost.Fees.from_node(Node())
    assert read.value("median", "l1_base_fee_gwei") == 3.0
    assert read.value("median", "l1_priority_fee_gwei") == pytest.approx(0.25)
    assert read.value("high", "l1_priority_fee_gwei") == pytest.approx(0.75)
    assert read.value("high", "l1_base_fee_gwei") == pytest.approx(4.6)
    assert read.raw["scenarios"]["high"]["l1_base_fee_gwei"]["source"] == "eth_feeHistory of blocks 100-103 of the node"
    assert read.value("high", "arb_l2_base_fee_gwei") == cost.Fees.snapshot().value("high", "arb_l2_base_fee_gwei")


# -- the ledger priced ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ledger():
    chain = Chain()
    handler = chain.deploy("DataHandler")
    chain.transact(handler.functions.add(b"\x01" * 32, 5), operation="add")  # its creator is its trainer
    return chain.gas.to_pandas(sent=True)


def test_the_ledger_keeps_what_each_transaction_sent_out_of_plain_tables(ledger):
    assert ledger["creation"].tolist() == [True, False]
    assert ledger["data"].str.startswith("0x").all()
    assert "data" not in Chain.twin_only().gas.to_pandas().columns


def test_each_chain_prices_by_its_formula(ledger):
    fees = cost.Fees.snapshot()
    priced = cost.transaction_costs(ledger, fees, scenarios=["median"]).set_index(["name", "chain"])
    v = {p: fees.value("median", p) for p in cost.PARAMETERS}
    gwei = 10**9
    for tx in ledger.itertuples():
        data = bytes.fromhex(tx.data[2:])
        l1 = priced.loc[(tx.name, "l1")]
        assert l1.fee_wei == tx.gas_used * round((v["l1_base_fee_gwei"] + v["l1_priority_fee_gwei"]) * gwei)
        raw = cost.signed_transaction(to=None if tx.creation else tx.to, data=data, value=0, gas=tx.gas_used,
                                      nonce=tx.Index, chain_id=10, max_priority_fee_per_gas=0,
                                      max_fee_per_gas=2 * round(v["op_l2_base_fee_gwei"] * gwei))
        op = priced.loc[(tx.name, "op")]
        assert op.compressed_bytes == cost.fastlz_compressed_length(raw)
        assert op.fee_wei == (tx.gas_used * round(v["op_l2_base_fee_gwei"] * gwei)
                              + cost.fjord_l1_fee(op.compressed_bytes, round(v["l1_base_fee_gwei"] * gwei),
                                                  round(v["l1_blob_base_fee_gwei"] * gwei), 5227, 1_014_213))
        arb = priced.loc[(tx.name, "arbitrum")]
        base = round(v["arb_l2_base_fee_gwei"] * gwei)
        per_unit = round(v["arb_l1_price_per_unit_gwei"] * gwei)
        assert arb.gas == tx.gas_used + arb.compressed_bytes * 16 * per_unit // base
        assert arb.fee_wei == arb.gas * base
    assert (priced["usd"] == priced["eth"] * fees.eth_usd).all()


def test_operations_sum_a_deployment_and_average_the_rest(ledger):
    twice = pd.concat([ledger, ledger.iloc[[1]]], ignore_index=True)
    per_tx = cost.transaction_costs(twice, chains=["l1"], scenarios=["median"])
    per_op = cost.operation_costs(twice, chains=["l1"], scenarios=["median"]).set_index("operation")
    assert per_op.loc["add", "transactions"] == 2
    assert per_op.loc["add", "usd"] == pytest.approx(per_tx.loc[per_tx.operation == "add", "usd"].mean())
    assert per_op.loc["deploy", "usd"] == pytest.approx(per_tx.loc[per_tx.operation == "deploy", "usd"].sum())


def test_osakas_cap_is_flagged_and_estimates_cannot_be_priced(ledger):
    big = ledger.iloc[[1]].assign(gas_used=2**24 + 1)
    assert cost.transaction_costs(big, chains=["l1"], scenarios=["median"])["above_tx_cap"].tolist() == [True]
    twin = Chain.twin_only()
    twin.record_estimate("add_data", twin.accounts[1], 90_000)
    with pytest.raises(ValueError, match="no recorded calldata"):
        cost.transaction_costs(twin.gas.to_pandas(sent=True))
    with pytest.raises(ValueError, match="sent=True"):
        cost.transaction_costs(ledger.drop(columns=["data"]))
    with pytest.raises(ValueError, match="unknown chains"):
        cost.transaction_costs(ledger, chains=["polygon"])


def test_paper_pricing_reuses_the_results_formula():
    assert cost.paper_usd(1_000_000) == pytest.approx(1_000_000 * 4e-9 * 373)


def test_gas_table_prints_costs_with_the_snapshots_date(capsys):
    from dcai_lab import cli

    args = ["gas-table", "--dataset", "fitness_synthetic", "--models", "perceptron", "--samples", "2"]
    assert cli.main(args + ["--cost", "l1,arbitrum"]) == 0
    out = capsys.readouterr().out
    assert "Ethereum L1, median" in out and "Arbitrum One, high" in out and "OP Stack" not in out
    assert f"fees of {cost.Fees.snapshot().date}" in out and "| perceptron | add_data |" in out
    assert cli.main(args + ["--cost", "op", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert {r["operation"] for r in rows} >= {"deploy", "add_data", "refund"}
    assert all(r["fees_date"] == cost.Fees.snapshot().date and r["usd_op_median"] > 0 for r in rows)
    assert cli.main(args + ["--cost", "solana"]) == 2
