// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Classifier} from "./Classifier.sol";

/// @title ClassCounts
/// @notice Models that count features per class (Naive Bayes, sparse nearest centroid): uint32 lanes,
/// eight per word, feature-major (lane f * numClasses + c, so one token's counts for every class share a
/// word), and two totals per class in one slot: the class's sample count (high 128 bits) and a second
/// total (low 128 bits) whose meaning the model gives.
abstract contract ClassCounts is Classifier {
    uint256 internal constant MASK128 = (1 << 128) - 1;

    uint256[] internal _totals;

    error CountOverflow(uint256 feature);

    /// @dev Checks and stores the initial totals; each must stay below its limit.
    function _initTotals(uint256[] memory samples, uint256[] memory seconds_, uint256 classes, uint256 maxSamples, uint256 maxSecond)
        internal
    {
        if (samples.length != classes || seconds_.length != classes) revert InvalidParameter("class totals");
        for (uint256 c = 0; c < classes; ++c) {
            if (samples[c] >= maxSamples || seconds_[c] >= maxSecond) revert InvalidParameter("class totals");
            _totals.push((samples[c] << 128) | seconds_[c]);
        }
    }

    /// @dev The number of classes: `_totals` has one entry per class, always.
    function _classes() internal view virtual returns (uint256);

    /// @notice (samples, second total) of class c.
    function classTotals(uint256 c) public view returns (uint256 samples, uint256 total) {
        uint256 t = _loadSlot(_totalsSlot(c));
        return (t >> 128, t & MASK128);
    }

    function _setTotals(uint256 c, uint256 value) internal {
        _storeSlot(_totalsSlot(c), value);
    }

    function _totalsSlot(uint256 c) private view returns (uint256 slot) {
        uint256 arraySlot;
        assembly ("memory-safe") {
            arraySlot := _totals.slot
        }
        return _elementSlot(arraySlot, _classes(), c);
    }

    function _laneBits() internal pure override returns (uint256) {
        return 32;
    }

    function _extraState() internal view override returns (uint256[] memory) {
        return _totals;
    }

    function _setExtraState(uint256[] memory values) internal override {
        _totals = values;
    }

    /// @dev Adds 1 to class `label`'s count of every index in `data` (a repeated index adds again) and
    /// returns the sum of 2 * count + 1 over them, taken before each increment. Indices are checked and
    /// non-decreasing, so each word is read and written once. A count at 2^32 - 1 reverts CountOverflow.
    function _addCounts(int64[] calldata data, uint256 label, uint256 classes) internal returns (uint256 added) {
        uint256 base = WORDS_SLOT;
        uint256 overflow; // feature + 1 of a count that would pass 2^32 - 1
        assembly ("memory-safe") {
            let n := data.length
            let wordIndex := shr(3, add(mul(calldataload(data.offset), classes), label))
            let word := sload(add(base, wordIndex))
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let feature := calldataload(add(data.offset, shl(5, i)))
                let lane := add(mul(feature, classes), label)
                let wi := shr(3, lane)
                if iszero(eq(wi, wordIndex)) {
                    sstore(add(base, wordIndex), word)
                    wordIndex := wi
                    word := sload(add(base, wi))
                }
                let shift := shl(5, and(lane, 7))
                let count := and(shr(shift, word), 0xffffffff)
                if eq(count, 0xffffffff) {
                    overflow := add(feature, 1)
                    break
                }
                added := add(added, add(shl(1, count), 1))
                word := add(word, shl(shift, 1))
            }
            if iszero(overflow) { sstore(add(base, wordIndex), word) }
        }
        if (overflow != 0) revert CountOverflow(overflow - 1);
    }
}
