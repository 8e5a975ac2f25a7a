// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Perceptron} from "./Perceptron.sol";
import {SparseInput} from "./SparseInput.sol";

/// @title SparsePerceptron
/// @notice Binary perceptron over binary features given as sorted feature indices.
/// score = intercept + sum of the weights of the present features; class 1 when score > 0, else 0.
/// Unless the sample is strictly on its label's side (score > 0 for label 1, score < 0 for label 0),
/// every present weight and the intercept move by +step (label 1) or -step (label 0), the step being
/// learningRate or a decreasing one (see Perceptron): the classic rule y * score <= 0, as scikit-learn's Perceptron, so a score of exactly 0 updates too.
/// @dev Fixed point: weights, intercept and learning rate are integers meaning value / SCALE.
/// Storage: eight int32 weights per 256-bit word (feature f is lane f % 8 of word f / 8), so a
/// 1000-feature model initialises 125 slots and an update writes each touched word once. A weight
/// leaving the int32 range, or the intercept leaving int64, reverts with WeightOverflow: it never wraps.
contract SparsePerceptron is Perceptron {
    uint256 public constant SCALE = 1000;
    uint256 public constant WEIGHTS_PER_WORD = 8;

    uint256 public immutable maxInputLength;

    constructor(
        uint256 numFeatures_,
        uint256 maxInputLength_,
        int64 learningRate_,
        uint32 stepDecay_,
        uint32 seen_,
        int64 intercept_
    ) Perceptron(numFeatures_, type(uint32).max, learningRate_, stepDecay_, seen_, intercept_)
    {
        if (maxInputLength_ == 0 || maxInputLength_ > numFeatures_) revert InvalidParameter("maxInputLength");
        maxInputLength = maxInputLength_;
    }

    function _laneBits() internal pure override returns (uint256) {
        return 32;
    }

    function _interceptInput() internal pure override returns (int256) {
        return 1;
    }

    function _checkInput(int64[] calldata data) internal view override {
        SparseInput.check(data, numFeatures, maxInputLength, false);
    }

    function update(int64[] calldata data, uint64 label) external override onlyTrainer {
        int256 delta = _learn(data, label);
        if (delta == 0) return;

        uint256 overflow; // feature + 1 of the first weight leaving int32, 0 if none
        uint256 base = WORDS_SLOT;
        assembly ("memory-safe") {
            let n := data.length
            let wordIndex := shr(3, calldataload(data.offset))
            let word := sload(add(base, wordIndex))
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let feature := calldataload(add(data.offset, shl(5, i)))
                let wi := shr(3, feature)
                if iszero(eq(wi, wordIndex)) {
                    sstore(add(base, wordIndex), word)
                    wordIndex := wi
                    word := sload(add(base, wi))
                }
                let shift := shl(5, and(feature, 7))
                let w := add(signextend(3, shr(shift, word)), delta)
                if iszero(eq(signextend(3, w), w)) {
                    overflow := add(feature, 1)
                    break
                }
                word := or(and(word, not(shl(shift, 0xffffffff))), shl(shift, and(w, 0xffffffff)))
            }
            if iszero(overflow) { sstore(add(base, wordIndex), word) }
        }
        if (overflow != 0) revert WeightOverflow(overflow - 1);
    }

    /// @dev Indices are checked and increasing, so each storage word is read once however many of
    /// its lanes are used.
    function _score(int64[] calldata data) internal view override returns (int256 score) {
        score = intercept;
        uint256 base = WORDS_SLOT;
        assembly ("memory-safe") {
            let n := data.length
            let wordIndex := not(0)
            let word := 0
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let feature := calldataload(add(data.offset, shl(5, i)))
                let wi := shr(3, feature)
                if iszero(eq(wi, wordIndex)) {
                    wordIndex := wi
                    word := sload(add(base, wi))
                }
                score := add(score, signextend(3, shr(shl(5, and(feature, 7)), word)))
            }
        }
    }
}
