// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title IIncentiveMechanism
/// @notice The rules a CollaborativeTrainer applies to contributions. The trainer holds the money and
/// the records; a mechanism only decides how much must be deposited and how much a claim pays, and
/// keeps its own book (points, validated contributions). Every handler reverts when a rule is broken.
interface IIncentiveMechanism {
    error DepositTooSmall(uint256 required, uint256 sent);
    error ClaimTooEarly(uint256 availableAt, uint256 nowTime);
    error ModelDisagrees();
    error ModelAgrees();
    error CannotReportOwnData();
    error NoValidContributions(address reporter);
    error NothingLeftToClaim();

    /// @notice Deposit required to add data at `time`.
    function depositRequired(uint256 time) external view returns (uint256);

    /// @return deposit the part of `sent` kept as the deposit; the trainer returns the rest.
    function handleAddData(address contributor, uint256 sent) external returns (uint256 deposit);

    /// @return amount paid to the author, who claims back their own contribution.
    function handleRefund(
        address author,
        uint256 deposit,
        uint256 claimable,
        uint256 addedTime,
        bool modelAgrees
    ) external returns (uint256 amount);

    /// @return amount paid to `reporter`, who claims from someone else's contribution `key` (the data
    /// handler's record key, so that a mechanism can limit claims per contribution).
    function handleReport(
        address reporter,
        address author,
        bytes32 key,
        uint256 deposit,
        uint256 claimable,
        uint256 addedTime,
        bool modelAgrees
    ) external returns (uint256 amount);
}
