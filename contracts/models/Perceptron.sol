// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Classifier} from "./Classifier.sol";

/// @title Perceptron
/// @notice What the sparse and dense perceptrons share: two classes, class 1 when the score is positive,
/// and the classic update rule: unless the sample is strictly on its label's side (score > 0 for label 1,
/// score < 0 for label 0, i.e. y * score > 0 as in scikit-learn), the weights of its features and the
/// intercept move towards the label by learningRate.
abstract contract Perceptron is Classifier {
    /// @notice Packed beside `trainer`, so the hot path reads one slot for both.
    int64 public intercept;

    uint256 public immutable override numFeatures;
    int64 public immutable learningRate;

    error WeightOverflow(uint256 feature);

    constructor(uint256 numFeatures_, uint256 maxFeatures, int64 learningRate_, int64 intercept_) {
        if (numFeatures_ == 0 || numFeatures_ > maxFeatures) revert InvalidParameter("numFeatures");
        if (learningRate_ <= 0 || learningRate_ > type(int32).max) revert InvalidParameter("learningRate");
        numFeatures = numFeatures_;
        learningRate = learningRate_;
        intercept = intercept_;
    }

    function numClasses() external pure override returns (uint64) {
        return 2;
    }

    function _numLanes() internal view override returns (uint256) {
        return numFeatures;
    }

    function _extraState() internal view override returns (uint256[] memory values) {
        values = new uint256[](1);
        values[0] = uint256(uint64(intercept));
    }

    function _setExtraState(uint256[] memory values) internal override {
        intercept = int64(uint64(values[0]));
    }

    function predict(int64[] calldata data) public view override returns (uint64) {
        _checkInput(data);
        return _score(data) > 0 ? 1 : 0;
    }

    function _checkInput(int64[] calldata data) internal view virtual;

    function _score(int64[] calldata data) internal view virtual returns (int256);

    /// @dev The intercept's step per unit of learning rate (its constant input).
    function _interceptInput() internal pure virtual returns (int256);

    /// @dev Checks the sample, applies the rule to the intercept and returns the signed step for the
    /// weights (per unit of input), or 0 when the sample needs no update.
    function _learn(int64[] calldata data, uint64 label) internal returns (int256 rate) {
        if (label > 1) revert UnknownLabel(label, 2);
        _checkInput(data);
        int256 score = _score(data);
        if (label == 1 ? score > 0 : score < 0) return 0;
        rate = label == 1 ? int256(learningRate) : -int256(learningRate);
        int256 b = int256(intercept) + rate * _interceptInput();
        if (b < type(int64).min || b > type(int64).max) revert WeightOverflow(type(uint256).max);
        intercept = int64(b);
    }
}
