// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {PackedWords} from "./PackedWords.sol";
import {IClassifier} from "./IClassifier.sol";

/// @title Classifier
/// @notice What every model shares: packed parameters bound to one trainer, and batch evaluation.
abstract contract Classifier is PackedWords, IClassifier {
    function predict(int64[] calldata data) public view virtual override returns (uint64);

    function numWords() public view override(IClassifier, PackedWords) returns (uint256) {
        return super.numWords();
    }

    /// @dev A prediction market replays contributions from the initial model in every round.
    function saveState(uint256 firstWord, uint256 count) external override onlyTrainer {
        _saveState(firstWord, count);
    }

    function restoreState(uint256 firstWord, uint256 count) external override onlyTrainer {
        _restoreState(firstWord, count);
    }

    function evaluate(int64[][] calldata data, uint64[] calldata labels) external view override returns (uint256 correct) {
        if (data.length != labels.length) revert InvalidParameter("labels length");
        for (uint256 i = 0; i < data.length; ++i) {
            if (predict(data[i]) == labels[i]) ++correct;
        }
    }
}
