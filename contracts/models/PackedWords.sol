// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {TrainerBound} from "../TrainerBound.sol";

/// @title PackedWords
/// @notice A model's parameters as an array of 256-bit words, each packing several small integers
/// (lanes). The owner loads the initial words in chunks that fit in a block, before the model is bound
/// to its trainer; after that only the model's own update changes them.
/// @dev Word i lives at slot WORDS_SLOT + i: a fixed array at a hashed base, addressed without a
/// keccak per access. Models read and write lanes in assembly loops over their sorted inputs.
abstract contract PackedWords is TrainerBound {
    uint256 internal constant WORDS_SLOT = uint256(keccak256("dcai-lab.PackedWords.words"));
    /// @dev A saved copy of the words (see _saveState), and of the rest of the state (its length, then
    /// its values), each at its own hashed base: no sequential slot is taken, so derived contracts keep
    /// packing their hot state beside `trainer`.
    uint256 internal constant SAVED_SLOT = uint256(keccak256("dcai-lab.PackedWords.saved"));
    uint256 internal constant SAVED_EXTRA_SLOT = uint256(keccak256("dcai-lab.PackedWords.savedExtra"));

    error InitialisationClosed();
    error WordOutOfRange(uint256 end, uint256 numWords);
    error UnusedLanesNotZero(uint256 word);

    /// @dev Number of lanes (parameters) and the bits of each: 256 / bits lanes share a word.
    function _numLanes() internal view virtual returns (uint256);

    function _laneBits() internal pure virtual returns (uint256);

    /// @notice Number of parameter words.
    function numWords() public view virtual returns (uint256) {
        uint256 perWord = 256 / _laneBits();
        return (_numLanes() + perWord - 1) / perWord;
    }

    /// @dev Bits of the last word that hold lanes (256 when it is full); the rest must stay zero.
    function _lastWordBits() internal view returns (uint256) {
        uint256 used = _numLanes() % (256 / _laneBits());
        return used == 0 ? 256 : used * _laneBits();
    }

    modifier whileInitialising() {
        if (trainer != address(0)) revert InitialisationClosed();
        _;
    }

    function setWords(uint256 firstWord, uint256[] calldata words) external onlyOwner whileInitialising {
        uint256 end = firstWord + words.length;
        uint256 total = numWords();
        if (end > total) revert WordOutOfRange(end, total);
        uint256 bits = _lastWordBits();
        if (end == total && bits < 256 && words.length > 0 && words[words.length - 1] >> bits != 0) {
            revert UnusedLanesNotZero(end - 1);
        }
        uint256 slot = WORDS_SLOT + firstWord;
        for (uint256 i = 0; i < words.length; ++i) {
            uint256 word = words[i];
            assembly ("memory-safe") {
                sstore(add(slot, i), word)
            }
        }
    }

    /// @dev State beyond the words (an intercept, class totals) that saveState and restoreState carry.
    function _extraState() internal view virtual returns (uint256[] memory);

    function _setExtraState(uint256[] memory values) internal virtual;

    /// @dev Save words [firstWord, firstWord + count) (and, with word 0, the rest of the state), so that
    /// _restoreState can return the model to this state. In chunks, so that a large model fits in blocks.
    function _saveState(uint256 firstWord, uint256 count) internal {
        _copyWords(WORDS_SLOT, SAVED_SLOT, firstWord, count);
        if (firstWord != 0) return;
        uint256[] memory values = _extraState();
        uint256 base = SAVED_EXTRA_SLOT;
        assembly ("memory-safe") {
            let n := mload(values)
            sstore(base, n)
            for { let i := 1 } iszero(gt(i, n)) { i := add(i, 1) } {
                sstore(add(base, i), mload(add(values, shl(5, i))))
            }
        }
    }

    function _restoreState(uint256 firstWord, uint256 count) internal {
        _copyWords(SAVED_SLOT, WORDS_SLOT, firstWord, count);
        if (firstWord != 0) return;
        uint256 base = SAVED_EXTRA_SLOT;
        uint256 n;
        assembly ("memory-safe") {
            n := sload(base)
        }
        uint256[] memory values = new uint256[](n);
        assembly ("memory-safe") {
            for { let i := 1 } iszero(gt(i, n)) { i := add(i, 1) } {
                mstore(add(values, shl(5, i)), sload(add(base, i)))
            }
        }
        _setExtraState(values);
    }

    function _copyWords(uint256 from, uint256 to, uint256 firstWord, uint256 count) private {
        uint256 end = firstWord + count;
        uint256 total = numWords();
        if (end > total) revert WordOutOfRange(end, total);
        assembly ("memory-safe") {
            for { let i := firstWord } lt(i, end) { i := add(i, 1) } {
                sstore(add(to, i), sload(add(from, i)))
            }
        }
    }

    /// @dev Slot of element i of the dynamic storage array at `arraySlot` whose length the caller knows to be
    /// `length` (kept equal to an immutable), with the bounds check an array access makes (Panic 0x32):
    /// reading the length from storage would cost a cold slot.
    function _elementSlot(uint256 arraySlot, uint256 length, uint256 i) internal pure returns (uint256 slot) {
        assembly ("memory-safe") {
            if iszero(lt(i, length)) {
                mstore(0, shl(224, 0x4e487b71))
                mstore(4, 0x32)
                revert(0, 0x24)
            }
            mstore(0, arraySlot)
            slot := add(keccak256(0, 0x20), i)
        }
    }

    function _loadSlot(uint256 slot) internal view returns (uint256 value) {
        assembly ("memory-safe") {
            value := sload(slot)
        }
    }

    function _storeSlot(uint256 slot, uint256 value) internal {
        assembly ("memory-safe") {
            sstore(slot, value)
        }
    }

    function _loadWord(uint256 i) internal view returns (uint256 word) {
        uint256 slot = WORDS_SLOT + i;
        assembly ("memory-safe") {
            word := sload(slot)
        }
    }

    function _storeWord(uint256 i, uint256 word) internal {
        uint256 slot = WORDS_SLOT + i;
        assembly ("memory-safe") {
            sstore(slot, word)
        }
    }

    /// @dev Lane `lane` of 64-bit signed lanes, four per word.
    function _int64Lane(uint256 word, uint256 lane) internal pure returns (int64) {
        return int64(uint64(word >> ((lane % 4) * 64)));
    }

    function _withInt64Lane(uint256 word, uint256 lane, int64 value) internal pure returns (uint256) {
        uint256 shift = (lane % 4) * 64;
        return (word & ~(uint256(type(uint64).max) << shift)) | (uint256(uint64(value)) << shift);
    }

    function getWords(uint256 firstWord, uint256 count) external view returns (uint256[] memory words) {
        words = new uint256[](count);
        uint256 slot = WORDS_SLOT + firstWord;
        for (uint256 i = 0; i < count; ++i) {
            uint256 word;
            assembly ("memory-safe") {
                word := sload(add(slot, i))
            }
            words[i] = word;
        }
    }
}
