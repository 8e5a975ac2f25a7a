// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title IClassifier
/// @notice What a CollaborativeTrainer needs of a model. Every model takes its input as `int64[]`:
/// sparse models read sorted, unique feature indices; dense models read fixed-point values. Labels are
/// class numbers `0 .. numClasses() - 1`.
interface IClassifier {
    error EmptyData();
    error TooManyFeatures(uint256 length, uint256 maxLength);
    error IndexOutOfRange(uint256 position, int64 index, uint256 numFeatures);
    error IndicesNotIncreasing(uint256 position);
    error UnknownLabel(uint64 label, uint64 numClasses);
    error WrongLength(uint256 length, uint256 expected);
    error ValueOutOfRange(uint256 position, int64 value, int64 limit);
    error InvalidParameter(string name);

    function numClasses() external view returns (uint64);

    function numFeatures() external view returns (uint256);

    /// @notice Predicted class for one sample; reverts on a malformed sample.
    function predict(int64[] calldata data) external view returns (uint64);

    /// @notice Number of samples whose prediction equals their label (accuracy checks on chain).
    function evaluate(int64[][] calldata data, uint64[] calldata labels) external view returns (uint256 correct);

    /// @notice Learn from one sample. Only the bound trainer may call it.
    function update(int64[] calldata data, uint64 label) external;

    /// @notice Number of parameter words, the unit of saveState and restoreState.
    function numWords() external view returns (uint256);

    /// @notice Save words [firstWord, firstWord + count) of the state (word 0 carries the rest of the
    /// state). Only the bound trainer.
    function saveState(uint256 firstWord, uint256 count) external;

    /// @notice Return words [firstWord, firstWord + count) of the state to what was saved. Only the
    /// bound trainer.
    function restoreState(uint256 firstWord, uint256 count) external;
}
