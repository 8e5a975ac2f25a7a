// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {Centroids} from "./Centroids.sol";
import {DenseInput} from "./DenseInput.sol";

/// @title DenseNearestCentroid
/// @notice Nearest centroid over fixed-point vectors (DenseInput.ONE = 1.0; normalise the data
/// off chain, e.g. to unit length or standard scores); any number of classes. Predicts the class whose
/// centroid is nearest in Euclidean distance, as scikit-learn's NearestCentroid; ties go to the lower
/// class. Classes without samples are skipped.
/// @dev Keeps per class the sums S_cd (int64 lanes, four per word, feature-major: lane d * numClasses + c),
/// the sample count N_c and Q_c = |S_c|^2, updated as Q_c += 2 x.S_c + |x|^2. Bounds: |x_d| <= maxAbsValue
/// < 2^31, |S_cd| < 2^63 (SumOverflow beyond), numFeatures <= 2^16, N_c < 2^32: every product fits in int256.
contract DenseNearestCentroid is Centroids {
    uint256 public constant LANES_PER_WORD = 4;

    uint64 public immutable override numClasses;
    uint256 public immutable override numFeatures;
    int64 public immutable maxAbsValue;

    uint256[] private _samples;
    uint256[] private _squaredNorms;

    error SumOverflow(uint256 feature);

    constructor(
        uint64 numClasses_,
        uint256 numFeatures_,
        int64 maxAbsValue_,
        uint256[] memory samples,
        uint256[] memory squaredNorms
    ) {
        if (numClasses_ < 2 || numClasses_ > type(uint16).max) revert InvalidParameter("numClasses");
        if (numFeatures_ == 0 || numFeatures_ > type(uint16).max) revert InvalidParameter("numFeatures");
        if (maxAbsValue_ <= 0 || maxAbsValue_ > type(int32).max) revert InvalidParameter("maxAbsValue");
        if (samples.length != numClasses_ || squaredNorms.length != numClasses_) revert InvalidParameter("class totals");
        for (uint256 c = 0; c < numClasses_; ++c) {
            if (samples[c] >= 1 << 32 || squaredNorms[c] >= 1 << 160) revert InvalidParameter("class totals");
        }
        numClasses = numClasses_;
        numFeatures = numFeatures_;
        maxAbsValue = maxAbsValue_;
        _samples = samples;
        _squaredNorms = squaredNorms;
    }

    function _numLanes() internal view override returns (uint256) {
        return numFeatures * numClasses;
    }

    function _laneBits() internal pure override returns (uint256) {
        return 64;
    }

    function _extraState() internal view override returns (uint256[] memory values) {
        uint256 classes = numClasses;
        values = new uint256[](2 * classes);
        for (uint256 c = 0; c < classes; ++c) {
            (values[c], values[classes + c]) = (_samples[c], _squaredNorms[c]);
        }
    }

    function _setExtraState(uint256[] memory values) internal override {
        uint256 classes = numClasses;
        for (uint256 c = 0; c < classes; ++c) {
            (_samples[c], _squaredNorms[c]) = (values[c], values[classes + c]);
        }
    }

    function _centroidTotals(uint256 c) internal view override returns (uint256, uint256) {
        return (_loadSlot(_samplesSlot(c)), _loadSlot(_squaredNormSlot(c)));
    }

    function classTotals(uint256 c) external view returns (uint256 samples, uint256 squaredNorm) {
        return _centroidTotals(c);
    }

    /// @dev Slots of class c's sample count and squared norm: both arrays have one entry per class, always.
    function _samplesSlot(uint256 c) private view returns (uint256) {
        uint256 arraySlot;
        assembly ("memory-safe") {
            arraySlot := _samples.slot
        }
        return _elementSlot(arraySlot, numClasses, c);
    }

    function _squaredNormSlot(uint256 c) private view returns (uint256) {
        uint256 arraySlot;
        assembly ("memory-safe") {
            arraySlot := _squaredNorms.slot
        }
        return _elementSlot(arraySlot, numClasses, c);
    }

    function predict(int64[] calldata data) public view override returns (uint64) {
        DenseInput.check(data, numFeatures, maxAbsValue);
        return _nearest(data, numClasses);
    }

    function update(int64[] calldata data, uint64 label) external override onlyTrainer {
        uint256 classes = numClasses;
        if (label >= classes) revert UnknownLabel(label, uint64(classes));
        DenseInput.check(data, numFeatures, maxAbsValue);
        uint256 samplesSlot = _samplesSlot(label);
        uint256 samples = _loadSlot(samplesSlot);
        if (samples == (1 << 32) - 1) revert SumOverflow(type(uint256).max);
        int256 dot;
        int256 norm;
        uint256 wordIndex = type(uint256).max;
        uint256 word;
        for (uint256 d = 0; d < data.length; ++d) {
            uint256 lane = d * classes + label;
            if (lane / LANES_PER_WORD != wordIndex) {
                if (wordIndex != type(uint256).max) _storeWord(wordIndex, word);
                wordIndex = lane / LANES_PER_WORD;
                word = _loadWord(wordIndex);
            }
            int256 x = data[d];
            int256 sum = _int64Lane(word, lane);
            dot += x * sum;
            norm += x * x;
            sum += x;
            if (sum > type(int64).max || sum < type(int64).min) revert SumOverflow(d);
            word = _withInt64Lane(word, lane, int64(sum));
        }
        _storeWord(wordIndex, word);
        _storeSlot(samplesSlot, samples + 1);
        uint256 squaredNormSlot = _squaredNormSlot(label);
        _storeSlot(squaredNormSlot, uint256(int256(_loadSlot(squaredNormSlot)) + 2 * dot + norm));
    }

    /// @dev x . S_c
    function _dot(int64[] calldata data, uint256 c) internal view override returns (int256 dot) {
        uint256 classes = numClasses;
        uint256 wordIndex = type(uint256).max;
        uint256 word;
        for (uint256 d = 0; d < data.length; ++d) {
            uint256 lane = d * classes + c;
            if (lane / LANES_PER_WORD != wordIndex) {
                wordIndex = lane / LANES_PER_WORD;
                word = _loadWord(wordIndex);
            }
            dot += int256(data[d]) * _int64Lane(word, lane);
        }
    }
}
