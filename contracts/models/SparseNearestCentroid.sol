// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Centroids} from "./Centroids.sol";
import {ClassCounts} from "./ClassCounts.sol";
import {SparseInput} from "./SparseInput.sol";

/// @title SparseNearestCentroid
/// @notice Nearest centroid over binary features given as sorted, unique indices; any number of
/// classes. Predicts the class whose centroid (mean of its samples) is nearest in Euclidean distance,
/// as scikit-learn's NearestCentroid; ties go to the lower class. Classes without samples are skipped.
/// @dev Keeps, per class, the feature sums S_cf (uint32 lanes, eight per word, feature-major: lane
/// f * numClasses + c), the sample count N_c and Q_c = sum_f S_cf^2. Adding x to class c adds
/// 2 S_cf + 1 to Q_c for each present f, so an update touches only the present features' words.
/// Bounds: S_cf < 2^32 (CountOverflow beyond), so Q_c < 2^96 and every product in the comparison fits.
contract SparseNearestCentroid is Centroids, ClassCounts {

    uint64 public immutable override numClasses;
    uint256 public immutable override numFeatures;
    uint256 public immutable maxInputLength;


    constructor(
        uint64 numClasses_,
        uint256 numFeatures_,
        uint256 maxInputLength_,
        uint256[] memory samples,
        uint256[] memory squaredNorms
    ) {
        if (numClasses_ < 2 || numClasses_ > type(uint16).max) revert InvalidParameter("numClasses");
        if (numFeatures_ == 0 || numFeatures_ * numClasses_ > type(uint32).max) revert InvalidParameter("numFeatures");
        if (maxInputLength_ == 0 || maxInputLength_ > numFeatures_) revert InvalidParameter("maxInputLength");
        _initTotals(samples, squaredNorms, numClasses_, 1 << 32, 1 << 96); // second total: Q_c
        numClasses = numClasses_;
        numFeatures = numFeatures_;
        maxInputLength = maxInputLength_;
    }

    function _classes() internal view override returns (uint256) {
        return numClasses;
    }

    function _numLanes() internal view override returns (uint256) {
        return numFeatures * numClasses;
    }

    function _centroidTotals(uint256 c) internal view override returns (uint256, uint256) {
        return classTotals(c);
    }

    function predict(int64[] calldata data) public view override returns (uint64) {
        SparseInput.check(data, numFeatures, maxInputLength, false);
        return _nearest(data, numClasses);
    }

    function update(int64[] calldata data, uint64 label) external override onlyTrainer {
        uint256 classes = numClasses;
        if (label >= classes) revert UnknownLabel(label, uint64(classes));
        SparseInput.check(data, numFeatures, maxInputLength, false);
        uint256 added = _addCounts(data, label, classes); // Q_c grows by 2 S_cf + 1 per feature
        (uint256 samples, uint256 squaredNorm) = classTotals(label);
        if (samples == (1 << 32) - 1) revert CountOverflow(type(uint256).max);
        _setTotals(label, ((samples + 1) << 128) | (squaredNorm + added));
    }

    /// @dev sum of S_cf over the present features f.
    function _dot(int64[] calldata data, uint256 c) internal view override returns (int256 dot) {
        uint256 classes = numClasses;
        uint256 base = WORDS_SLOT;
        assembly ("memory-safe") {
            let n := data.length
            let wordIndex := not(0)
            let word := 0
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let lane := add(mul(calldataload(add(data.offset, shl(5, i))), classes), c)
                let wi := shr(3, lane)
                if iszero(eq(wi, wordIndex)) {
                    wordIndex := wi
                    word := sload(add(base, wi))
                }
                dot := add(dot, and(shr(shl(5, and(lane, 7)), word), 0xffffffff))
            }
        }
    }
}
