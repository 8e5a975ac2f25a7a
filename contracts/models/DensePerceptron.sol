// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Perceptron} from "./Perceptron.sol";
import {DenseInput} from "./DenseInput.sol";

/// @title DensePerceptron
/// @notice Binary perceptron over fixed-point vectors (DenseInput.ONE = 1.0).
/// score = sum_d w_d x_d + intercept * ONE; class 1 when score > 0, else 0. Unless the sample is strictly
/// on its label's side (y * score > 0, as scikit-learn's Perceptron), each weight moves by
/// +-step * x_d and the intercept by +-step * ONE (step: see Perceptron) (the bias is a weight on a constant
/// input of 1.0), + for label 1 and - for label 0.
/// @dev Weights and intercept are int64, fixed point with the inputs' scale (value / ONE); four weights
/// per word. A weight leaving int64 reverts with WeightOverflow, never wraps. |x_d| <= maxAbsValue < 2^31.
contract DensePerceptron is Perceptron {
    uint256 public constant WEIGHTS_PER_WORD = 4;

    int64 public immutable maxAbsValue;

    constructor(
        uint256 numFeatures_,
        int64 maxAbsValue_,
        int64 learningRate_,
        uint32 stepDecay_,
        uint32 seen_,
        int64 intercept_
    ) Perceptron(numFeatures_, type(uint16).max, learningRate_, stepDecay_, seen_, intercept_)
    {
        if (maxAbsValue_ <= 0 || maxAbsValue_ > type(int32).max) revert InvalidParameter("maxAbsValue");
        maxAbsValue = maxAbsValue_;
    }

    function _laneBits() internal pure override returns (uint256) {
        return 64;
    }

    function _interceptInput() internal pure override returns (int256) {
        return DenseInput.ONE;
    }

    function _checkInput(int64[] calldata data) internal view override {
        DenseInput.check(data, numFeatures, maxAbsValue);
    }

    function update(int64[] calldata data, uint64 label) external override onlyTrainer {
        int256 rate = _learn(data, label);
        if (rate == 0) return;
        uint256 word;
        for (uint256 d = 0; d < data.length; ++d) {
            if (d % WEIGHTS_PER_WORD == 0) word = _loadWord(d / WEIGHTS_PER_WORD);
            int256 w = int256(_int64Lane(word, d)) + rate * data[d];
            if (w > type(int64).max || w < type(int64).min) revert WeightOverflow(d);
            word = _withInt64Lane(word, d, int64(w));
            if (d % WEIGHTS_PER_WORD == WEIGHTS_PER_WORD - 1 || d == data.length - 1) _storeWord(d / WEIGHTS_PER_WORD, word);
        }
    }

    function _score(int64[] calldata data) internal view override returns (int256 score) {
        score = int256(intercept) * DenseInput.ONE;
        uint256 word;
        for (uint256 d = 0; d < data.length; ++d) {
            if (d % WEIGHTS_PER_WORD == 0) word = _loadWord(d / WEIGHTS_PER_WORD);
            score += int256(_int64Lane(word, d)) * data[d];
        }
    }
}
