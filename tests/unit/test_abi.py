"""The fast ABI path (dcai_lab.abi) gives exactly what eth-abi and web3 give, and leaves to eth-abi what it
does not cover, so that eth-abi's errors are kept."""
import numpy as np
import pytest
from eth_abi import encode as abi_encode
from eth_abi.exceptions import EncodingError
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st
from web3.logs import DISCARD

from dcai_lab import abi

from helpers import SAMPLE

INT_TYPES = ["uint8", "uint32", "uint64", "int8", "int64", "int128", "int256", "uint256"]


def _bounds(abi_type):
    bits = int(abi_type.lstrip("uint"))
    return (0, 2**bits - 1) if abi_type.startswith("u") else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


@st.composite
def typed_value(draw):
    kind = draw(st.sampled_from(["int", "array", "address", "bool", "bytes32"]))
    if kind in ("int", "array"):
        abi_type = draw(st.sampled_from(INT_TYPES))
        low, high = _bounds(abi_type)
        # Mostly in range, sometimes just outside it: eth-abi must then refuse as it always did.
        ints = st.one_of(st.integers(low, high), st.sampled_from([low, high, low - 1, high + 1]))
        if kind == "int":
            return abi_type, draw(ints)
        values = draw(st.lists(ints, max_size=30))
        if values and draw(st.booleans()) and all(-(2**63) <= v < 2**63 for v in values):
            values = np.array(values, dtype=np.int64)
        return abi_type + "[]", values
    if kind == "address":
        return "address", "0x" + draw(st.binary(min_size=20, max_size=20)).hex()
    if kind == "bool":
        return "bool", draw(st.booleans())
    return "bytes32", draw(st.binary(min_size=32, max_size=32))


@settings(max_examples=400, deadline=None)
@given(st.lists(typed_value(), max_size=5))
def test_encoding_matches_eth_abi(pairs):
    types = [t for t, _ in pairs]
    args = [v.tolist() if isinstance(v, np.ndarray) else v for _, v in pairs]
    ours_args = [v for _, v in pairs]
    try:
        expected = abi_encode(types, args)
    except EncodingError as refused:
        with pytest.raises(type(refused)):
            abi.encode_arguments(types, ours_args)
        return
    assert abi.encode_arguments(types, ours_args) == expected


@pytest.mark.parametrize("values", [[True, 1], [1.0, 2], ["1"]])
def test_values_eth_abi_refuses_are_refused(values):
    with pytest.raises(EncodingError):
        abi.encode_arguments(["int64[]"], [values])


@settings(max_examples=300, deadline=None)
@given(st.lists(typed_value(), max_size=5), st.booleans())
def test_event_data_decodes_as_eth_abi(pairs, nested):
    """The fast path for event data (integer arrays, scalars) and eth-abi's for the rest (nested arrays)."""
    pairs = [(t, v.tolist() if isinstance(v, np.ndarray) else v) for t, v in pairs]
    if nested:
        pairs.append(("int64[][]", [[1, -2], [], [3]]))
    types = [t for t, _ in pairs]
    try:
        data = abi_encode(types, [v for _, v in pairs])
    except EncodingError:
        return
    event = abi._Event({"name": "E", "inputs": [{"name": f"a{k}", "type": t} for k, t in enumerate(types)]})
    assert not (nested and event.fast)  # a nested array always goes to eth-abi
    decoded = abi._decode_data(event.data, data, event.fast)
    for k, (abi_type, value) in enumerate(pairs):
        got = decoded[f"a{k}"]
        if abi_type == "address":
            assert got == to_checksum_address(value)
        elif abi_type.endswith("]"):
            assert got == [list(v) for v in value] if abi_type.endswith("[][]") else got == list(value)
        else:
            assert got == value


@pytest.mark.parametrize("values", [[True, 1], [1.0, 2], ["1"]])
def test_values_eth_abi_refuses_are_refused(values):
    with pytest.raises(EncodingError):
        abi.encode_arguments(["int64[]"], [values])


def test_events_match_web3_on_real_receipts(chain, system, accounts):
    """AddData (an int64[] sample, an indexed address), Refund (indexed bytes32) as web3 reads them."""
    first = system.add_data(SAMPLE, 1, sender=accounts["alice"])
    assert first.data == tuple(SAMPLE) and first.author == accounts["alice"]
    call = system.trainer.functions.addData([1, 2, 3, 999], 0)
    receipt = chain.transact(call, sender=accounts["bob"], value=system.deposit_required(), operation="add_data")
    expected = [dict(e["args"]) for e in system.trainer.events.AddData().process_receipt(receipt, errors=DISCARD)]
    assert abi.events(system.trainer, "AddData", receipt) == expected
    assert expected[0]["data"] == [1, 2, 3, 999]
    chain.time_travel(days=2)
    refund = chain.transact(system.trainer.functions.refund(list(first.data), first.label, first.added_time),
                            sender=accounts["alice"], operation="refund")
    expected = [dict(e["args"]) for e in system.trainer.events.Refund().process_receipt(refund, errors=DISCARD)]
    assert abi.events(system.trainer, "Refund", refund) == expected and expected[0]["amount"] > 0
    assert abi.events(system.trainer, "Report", refund) == []  # another event of the same contract
    assert abi.events(system.trainer.__class__(address=system.data_handler.address), "Refund", refund) == []
    with pytest.raises(ValueError, match="not an event"):
        abi.events(system.trainer, "NoSuchEvent", refund)
    with pytest.raises(ValueError, match="emitted no Report event"):
        abi.event(system.trainer, "Report", refund)
