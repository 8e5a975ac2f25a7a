// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ClassCounts} from "./ClassCounts.sol";
import {SparseInput} from "./SparseInput.sol";

/// @title NaiveBayes
/// @notice Multinomial Naive Bayes over token indices, any number of classes. A sample is a
/// non-decreasing list of feature indices; a repeated index counts the token again.
/// predict = argmax_c  N_c * prod_{tokens f} (S_cf + alpha) / (T_c + alpha * V)
/// with N_c the samples of class c, S_cf the count of token f in class c, T_c all tokens of class c, V the
/// number of features and alpha the smoothing (Laplace for alpha = 1): scikit-learn's MultinomialNB with
/// fit_prior, compared as products instead of sums of logarithms.
/// @dev Exact and bounded: each product is a 128-bit mantissa and a binary exponent. A factor is below
/// 2^64, so mantissa * factor < 2^192; when the mantissa reaches 2^128 it drops its low 64 bits. Two
/// classes are compared by cross-multiplying mantissas (< 2^256) and comparing with exponents exactly.
/// Counts are uint32 lanes, eight per word, feature-major (lane f * numClasses + c), so the counts of
/// all classes for one token sit in one word. Fixed point: alpha = smoothing / SCALE.
contract NaiveBayes is ClassCounts {
    uint256 public constant SCALE = 1000;
    uint256 internal constant MAX_TOKENS = 1 << 53;

    uint64 public immutable override numClasses;
    uint256 public immutable override numFeatures;
    uint256 public immutable maxInputLength;
    uint256 public immutable smoothing;


    struct Product {
        uint256 numMantissa;
        uint256 numExponent;
        uint256 denMantissa;
        uint256 denExponent;
    }

    constructor(
        uint64 numClasses_,
        uint256 numFeatures_,
        uint256 maxInputLength_,
        uint256 smoothing_,
        uint256[] memory samples,
        uint256[] memory tokens
    ) {
        if (numClasses_ < 2 || numClasses_ > type(uint16).max) revert InvalidParameter("numClasses");
        if (numFeatures_ == 0 || numFeatures_ * numClasses_ > type(uint32).max) revert InvalidParameter("numFeatures");
        if (maxInputLength_ == 0) revert InvalidParameter("maxInputLength");
        if (smoothing_ == 0 || smoothing_ * numFeatures_ >= 1 << 63) revert InvalidParameter("smoothing");
        _initTotals(samples, tokens, numClasses_, 1 << 64, MAX_TOKENS); // second total: the class's tokens
        numClasses = numClasses_;
        numFeatures = numFeatures_;
        maxInputLength = maxInputLength_;
        smoothing = smoothing_;
    }

    function _classes() internal view override returns (uint256) {
        return numClasses;
    }

    function _numLanes() internal view override returns (uint256) {
        return numFeatures * numClasses;
    }

    function predict(int64[] calldata data) public view override returns (uint64 best) {
        SparseInput.check(data, numFeatures, maxInputLength, true);
        uint256 classes = numClasses;
        Product memory top;
        for (uint256 c = 0; c < classes; ++c) {
            Product memory p = _product(data, c);
            if (c == 0 || _beats(p, top)) {
                top = p;
                best = uint64(c);
            }
        }
    }

    function update(int64[] calldata data, uint64 label) external override onlyTrainer {
        uint256 classes = numClasses;
        if (label >= classes) revert UnknownLabel(label, uint64(classes));
        SparseInput.check(data, numFeatures, maxInputLength, true);
        _addCounts(data, label, classes);
        (uint256 samples, uint256 tokens) = classTotals(label);
        tokens += data.length;
        if (tokens >= MAX_TOKENS) revert CountOverflow(type(uint256).max);
        _setTotals(label, ((samples + 1) << 128) | tokens);
    }

    /// @dev N_c * prod (S_cf + alpha) and (T_c + alpha V)^tokens, each as mantissa * 2^exponent.
    function _product(int64[] calldata data, uint256 c) internal view returns (Product memory p) {
        (uint256 samples, uint256 tokens) = classTotals(c);
        uint256 alpha = smoothing;
        uint256 denFactor = tokens * SCALE + alpha * numFeatures;
        uint256 classes = numClasses;
        uint256 base = WORDS_SLOT;
        uint256 numM = samples;
        uint256 numE;
        uint256 denM = 1;
        uint256 denE;
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
                let count := and(shr(shl(5, and(lane, 7)), word), 0xffffffff)
                numM := mul(numM, add(mul(count, SCALE), alpha))
                if shr(128, numM) {
                    numM := shr(64, numM)
                    numE := add(numE, 64)
                }
                denM := mul(denM, denFactor)
                if shr(128, denM) {
                    denM := shr(64, denM)
                    denE := add(denE, 64)
                }
            }
        }
        p = Product(numM, numE, denM, denE);
    }

    /// @dev a.num / a.den > b.num / b.den, exactly.
    function _beats(Product memory a, Product memory b) internal pure returns (bool) {
        return _greater(a.numMantissa * b.denMantissa, a.numExponent + b.denExponent,
            b.numMantissa * a.denMantissa, b.numExponent + a.denExponent);
    }

    /// @dev p1 * 2^e1 > p2 * 2^e2, exactly.
    function _greater(uint256 p1, uint256 e1, uint256 p2, uint256 e2) internal pure returns (bool) {
        if (e1 >= e2) {
            uint256 d = e1 - e2;
            return d >= 256 ? p1 > 0 : p1 > (p2 >> d);
        }
        uint256 d2 = e2 - e1;
        if (d2 >= 256) return p2 == 0 && p1 > 0;
        uint256 q = p1 >> d2;
        return q > p2 || (q == p2 && (p1 & ((1 << d2) - 1)) != 0);
    }
}
