// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Classifier} from "./Classifier.sol";
import {SparseInput} from "./SparseInput.sol";

/// @title SparsePerceptron
/// @notice Binary perceptron over binary features given as sorted feature indices.
/// score = intercept + sum of the weights of the present features; class 1 when score > 0, else 0.
/// Unless the sample is strictly on its label's side (score > 0 for label 1, score < 0 for label 0),
/// every present weight and the intercept move by +learningRate (label 1) or -learningRate (label 0):
/// the classic rule y * score <= 0, as scikit-learn's Perceptron, so a score of exactly 0 updates too.
/// @dev Fixed point: weights, intercept and learning rate are integers meaning value / SCALE.
/// Storage: eight int32 weights per 256-bit word (feature f is lane f % 8 of word f / 8), so a
/// 1000-feature model initialises 125 slots and an update writes each touched word once. A weight
/// leaving the int32 range, or the intercept leaving int64, reverts with WeightOverflow: it never wraps.
contract SparsePerceptron is Classifier {
    /// @notice Packed beside `trainer`, so the hot path reads one slot for both.
    int64 public intercept;

    uint256 public constant SCALE = 1000;
    uint256 public constant WEIGHTS_PER_WORD = 8;

    uint256 public immutable override numFeatures;
    uint256 public immutable maxInputLength;
    int64 public immutable learningRate;


    error WeightOverflow(uint256 feature);

    constructor(uint256 numFeatures_, uint256 maxInputLength_, int64 learningRate_, int64 intercept_) {
        if (numFeatures_ == 0 || numFeatures_ > type(uint32).max) revert InvalidParameter("numFeatures");
        if (maxInputLength_ == 0 || maxInputLength_ > numFeatures_) revert InvalidParameter("maxInputLength");
        if (learningRate_ <= 0 || learningRate_ > type(int32).max) revert InvalidParameter("learningRate");
        numFeatures = numFeatures_;
        maxInputLength = maxInputLength_;
        learningRate = learningRate_;
        intercept = intercept_;
    }

    function numClasses() external pure override returns (uint64) {
        return 2;
    }

    function _numLanes() internal view override returns (uint256) {
        return numFeatures;
    }

    function _laneBits() internal pure override returns (uint256) {
        return 32;
    }

    function predict(int64[] calldata data) public view override returns (uint64) {
        SparseInput.check(data, numFeatures, maxInputLength, false);
        return _score(data) > 0 ? 1 : 0;
    }

    function update(int64[] calldata data, uint64 label) external override onlyTrainer {
        if (label > 1) revert UnknownLabel(label, 2);
        SparseInput.check(data, numFeatures, maxInputLength, false);
        int256 score = _score(data);
        if (label == 1 ? score > 0 : score < 0) return; // strictly on its label's side: no update

        int256 delta = label == 1 ? int256(learningRate) : -int256(learningRate);
        int256 b = int256(intercept) + delta;
        if (b < type(int64).min || b > type(int64).max) revert WeightOverflow(type(uint256).max);
        intercept = int64(b);

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
    function _score(int64[] calldata data) internal view returns (int256 score) {
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
