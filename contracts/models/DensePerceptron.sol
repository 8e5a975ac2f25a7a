// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Classifier} from "./Classifier.sol";
import {DenseInput} from "./DenseInput.sol";

/// @title DensePerceptron
/// @notice Binary perceptron over fixed-point vectors (DenseInput.ONE = 1.0).
/// score = sum_d w_d x_d + intercept * ONE; class 1 when score > 0, else 0. Unless the sample is strictly
/// on its label's side (y * score > 0, as scikit-learn's Perceptron), each weight moves by
/// +-learningRate * x_d and the intercept by +-learningRate * ONE (the bias is a weight on a constant
/// input of 1.0), + for label 1 and - for label 0.
/// @dev Weights and intercept are int64, fixed point with the inputs' scale (value / ONE); four weights
/// per word. A weight leaving int64 reverts with WeightOverflow, never wraps. |x_d| <= maxAbsValue < 2^31.
contract DensePerceptron is Classifier {
    /// @notice Packed beside `trainer`: one cold read for both.
    int64 public intercept;

    uint256 public constant WEIGHTS_PER_WORD = 4;

    uint256 public immutable override numFeatures;
    int64 public immutable maxAbsValue;
    int64 public immutable learningRate;

    error WeightOverflow(uint256 feature);

    constructor(uint256 numFeatures_, int64 maxAbsValue_, int64 learningRate_, int64 intercept_) {
        if (numFeatures_ == 0 || numFeatures_ > type(uint16).max) revert InvalidParameter("numFeatures");
        if (maxAbsValue_ <= 0 || maxAbsValue_ > type(int32).max) revert InvalidParameter("maxAbsValue");
        if (learningRate_ <= 0 || learningRate_ > type(int32).max) revert InvalidParameter("learningRate");
        numFeatures = numFeatures_;
        maxAbsValue = maxAbsValue_;
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
        return 64;
    }

    function predict(int64[] calldata data) public view override returns (uint64) {
        DenseInput.check(data, numFeatures, maxAbsValue);
        return _score(data) > 0 ? 1 : 0;
    }

    function update(int64[] calldata data, uint64 label) external override onlyTrainer {
        if (label > 1) revert UnknownLabel(label, 2);
        DenseInput.check(data, numFeatures, maxAbsValue);
        int256 score = _score(data);
        if (label == 1 ? score > 0 : score < 0) return; // strictly on its label's side: no update
        int256 rate = label == 1 ? int256(learningRate) : -int256(learningRate);
        int256 b = int256(intercept) + rate * DenseInput.ONE;
        if (b > type(int64).max || b < type(int64).min) revert WeightOverflow(type(uint256).max);
        intercept = int64(b);
        uint256 word;
        for (uint256 d = 0; d < data.length; ++d) {
            if (d % WEIGHTS_PER_WORD == 0) word = _loadWord(d / WEIGHTS_PER_WORD);
            int256 w = int256(_int64Lane(word, d)) + rate * data[d];
            if (w > type(int64).max || w < type(int64).min) revert WeightOverflow(d);
            word = _withInt64Lane(word, d, int64(w));
            if (d % WEIGHTS_PER_WORD == WEIGHTS_PER_WORD - 1 || d == data.length - 1) _storeWord(d / WEIGHTS_PER_WORD, word);
        }
    }

    function _score(int64[] calldata data) internal view returns (int256 score) {
        score = int256(intercept) * DenseInput.ONE;
        uint256 word;
        for (uint256 d = 0; d < data.length; ++d) {
            if (d % WEIGHTS_PER_WORD == 0) word = _loadWord(d / WEIGHTS_PER_WORD);
            score += int256(_int64Lane(word, d)) * data[d];
        }
    }
}
