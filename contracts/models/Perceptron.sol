// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Classifier} from "./Classifier.sol";

/// @title Perceptron
/// @notice What the sparse and dense perceptrons share: two classes, class 1 when the score is positive,
/// and the classic update rule: unless the sample is strictly on its label's side (score > 0 for label 1,
/// score < 0 for label 0, i.e. y * score > 0 as in scikit-learn), the weights of its features and the
/// intercept move towards the label by the step.
/// The step is learningRate, or, with stepDecay = t0 > 0, floor(learningRate * t0 / (t0 + seen)) but at
/// least 1, where `seen` counts the samples learnt from: a step that shrinks like scikit-learn's
/// learning_rate="optimal" (1 / (alpha (t0 + t))), in integers, so that the twin reproduces it exactly.
abstract contract Perceptron is Classifier {
    /// @notice Packed beside `trainer`, so the hot path reads one slot for all three.
    int64 public intercept;
    /// @notice Samples learnt from, counted only when the step decays (saturates at 2^32 - 1).
    uint32 public seen;

    uint256 public immutable override numFeatures;
    int64 public immutable learningRate;
    /// @notice t0 of the decreasing step; 0 keeps the step constant (and `seen` at its initial value).
    uint32 public immutable stepDecay;

    error WeightOverflow(uint256 feature);

    constructor(
        uint256 numFeatures_,
        uint256 maxFeatures,
        int64 learningRate_,
        uint32 stepDecay_,
        uint32 seen_,
        int64 intercept_
    ) {
        if (numFeatures_ == 0 || numFeatures_ > maxFeatures) revert InvalidParameter("numFeatures");
        if (learningRate_ <= 0 || learningRate_ > type(int32).max) revert InvalidParameter("learningRate");
        numFeatures = numFeatures_;
        learningRate = learningRate_;
        stepDecay = stepDecay_;
        seen = seen_;
        intercept = intercept_;
    }

    /// @notice The step the next sample would be learnt with.
    function step() public view returns (int256) {
        if (stepDecay == 0) return learningRate;
        int256 s = (int256(learningRate) * int256(uint256(stepDecay))) / (int256(uint256(stepDecay)) + int256(uint256(seen)));
        return s == 0 ? int256(1) : s;
    }

    function numClasses() external pure override returns (uint64) {
        return 2;
    }

    function _numLanes() internal view override returns (uint256) {
        return numFeatures;
    }

    /// @dev `seen` is state only when the step decays, so a constant-step model saves one slot less.
    function _extraState() internal view override returns (uint256[] memory values) {
        values = new uint256[](stepDecay == 0 ? 1 : 2);
        values[0] = uint256(uint64(intercept));
        if (stepDecay != 0) values[1] = seen;
    }

    function _setExtraState(uint256[] memory values) internal override {
        intercept = int64(uint64(values[0]));
        if (stepDecay != 0) seen = uint32(values[1]);
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
        int256 size = learningRate;
        if (stepDecay != 0) {
            size = step();
            if (seen != type(uint32).max) ++seen;
        }
        if (label == 1 ? score > 0 : score < 0) return 0;
        rate = label == 1 ? size : -size;
        int256 b = int256(intercept) + rate * _interceptInput();
        if (b < type(int64).min || b > type(int64).max) revert WeightOverflow(type(uint256).max);
        intercept = int64(b);
    }
}
