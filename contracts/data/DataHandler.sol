// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ContributionKey} from "./ContributionKey.sol";

/// @title DataHandler
/// @notice Records of contributions, keyed by keccak256(abi.encode(data, label, addedTime, author)).
/// A record holds the deposit, the amount still claimable, the number of claims and who claimed.
/// Only the trainer that created the handler writes records.
/// @dev The trainer is immutable, set to the creator: a CollaborativeTrainer creates its data handler in its
/// constructor. Checking the caller then reads no storage; binding after deployment, as the other components
/// do, would cost every add, refund and report a cold storage read (2,100 gas) for the check alone.
/// One record is one storage slot: deposit and claimable amount as uint96 (enough for 7.9e28 wei),
/// the claim count as uint32 and two flags. Reporters' claims live in a separate mapping; the author's
/// own refund is a flag in the record, so a refund writes no new slot.
contract DataHandler {
    struct Record {
        uint96 deposit;
        uint96 claimable;
        uint32 numClaims;
        bool exists;
        bool refunded;
    }

    /// @notice The only account that may write records: this handler's creator.
    address public immutable trainer;

    mapping(bytes32 => Record) public records;
    mapping(bytes32 => mapping(address => bool)) private _claimedBy;

    error NotTrainer(address caller);
    error DuplicateContribution(bytes32 key);
    error RecordNotFound(bytes32 key);
    error AlreadyClaimed(bytes32 key, address claimant);
    error AmountTooLarge(uint256 amount, uint256 limit);

    constructor() {
        trainer = msg.sender;
    }

    modifier onlyTrainer() {
        if (msg.sender != trainer) revert NotTrainer(msg.sender);
        _;
    }

    /// @notice The key of a contribution, as the trainer computes it.
    function keyOf(int64[] calldata data, uint64 label, uint256 addedTime, address author)
        external
        pure
        returns (bytes32)
    {
        return ContributionKey.compute(data, label, addedTime, author);
    }

    /// @notice Whether `claimant` has claimed from the contribution `key` (refund or report).
    function hasClaimed(bytes32 key, address claimant, address author) external view returns (bool) {
        return claimant == author ? records[key].refunded : _claimedBy[key][claimant];
    }

    function add(bytes32 key, uint256 deposit) external onlyTrainer {
        if (records[key].exists) revert DuplicateContribution(key);
        if (deposit > type(uint96).max) revert AmountTooLarge(deposit, type(uint96).max);
        records[key] = Record(uint96(deposit), uint96(deposit), 0, true, false);
    }

    /// @notice Mark a claim by `claimant` and return the record's amounts. One claim per claimant.
    function claim(bytes32 key, address claimant, bool byAuthor)
        external
        onlyTrainer
        returns (uint256 deposit, uint256 claimable)
    {
        Record storage r = records[key];
        if (!r.exists) revert RecordNotFound(key);
        if (byAuthor) {
            if (r.refunded) revert AlreadyClaimed(key, claimant);
            r.refunded = true;
        } else {
            if (_claimedBy[key][claimant]) revert AlreadyClaimed(key, claimant);
            _claimedBy[key][claimant] = true;
        }
        r.numClaims += 1;
        return (r.deposit, r.claimable);
    }

    /// @notice Take `amount` out of what the record still holds.
    function pay(bytes32 key, uint256 amount) external onlyTrainer {
        Record storage r = records[key];
        if (amount > r.claimable) revert AmountTooLarge(amount, r.claimable);
        r.claimable -= uint96(amount);
    }
}
