// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {TrainerBound} from "../TrainerBound.sol";
import {IIncentiveMechanism} from "./IIncentiveMechanism.sol";
import {SoulboundBadges} from "../tokens/SoulboundBadges.sol";
import {Base64} from "../tokens/Base64.sol";
import {Decimal} from "../tokens/Decimal.sol";

/// @title Points
/// @notice Gamified mechanism: adding data is free (anything sent is returned). After `refundWait`
/// the author of a contribution the model agrees with claims it as a point; the first other address to
/// report a contribution the model disagrees with earns a point for it. One report point per
/// contribution, as in the 2019 contract: otherwise anyone could multiply points by reporting the same
/// bad contribution from many addresses. Points carry no money.
///
/// Badges, as the 2019 framework's gamified mechanism describes them, are awarded at milestones anyone
/// can check from the contract's state and events:
/// - `FIRST_VALIDATED` (0): the author's first validated (refunded) contribution;
/// - `VALIDATED_FEW` (1), `VALIDATED_MANY` (2): its `validatedFew`-th and `validatedMany`-th;
/// - `FIRST_REPORT` (3): the reporter's first report that earns a point;
/// - `STREAK` (4): a streak of `streakLength` validated contributions. An address's streak is the number
///   of its refunds since the last report of any of its contributions (or since the start): a refund adds
///   one, a report that earns a point against one of its contributions sets it to zero. Order is the
///   order of transactions, not of the contributions' times. The badge is awarded when the streak reaches
///   `streakLength`, and kept when the streak ends.
/// Each badge is awarded once per address, in the transaction that reaches the milestone.
/// @dev Badges are soulbound EIP-1155 tokens (see SoulboundBadges): this contract is their collection, a
/// badge's token id is its number above, and each award emits `TransferSingle(trainer, 0, holder, id, 1)`.
/// An address's points, validated count, streak and badge bitmap share one storage slot (`Account`), so a
/// refund reads and writes one slot and a badge adds only its event.
contract Points is TrainerBound, IIncentiveMechanism, SoulboundBadges {
    /// @notice One address's book, in one storage slot.
    struct Account {
        uint64 points;
        uint64 numValid;
        uint64 streak;
        uint64 badges;
    }

    uint256 public constant FIRST_VALIDATED = 0;
    uint256 public constant VALIDATED_FEW = 1;
    uint256 public constant VALIDATED_MANY = 2;
    uint256 public constant FIRST_REPORT = 3;
    uint256 public constant STREAK = 4;
    uint256 public constant NUM_BADGES = 5;

    uint256 public immutable refundWait;
    /// @notice Validated contributions that earn `VALIDATED_FEW` and `VALIDATED_MANY`.
    uint64 public immutable validatedFew;
    uint64 public immutable validatedMany;
    /// @notice Refunds in a row, none of the author's contributions reported in between, that earn `STREAK`.
    uint64 public immutable streakLength;

    mapping(address => Account) private _accounts;
    /// @notice Whether a contribution (the data handler's record key) has earned its report point.
    mapping(bytes32 => bool) public reported;

    error AlreadyReported(bytes32 key);
    error InvalidParameter(string name);
    error UnknownBadge(uint256 id);

    event PointAwarded(address indexed to, uint256 total);

    constructor(uint256 refundWait_, uint64 validatedFew_, uint64 validatedMany_, uint64 streakLength_) {
        if (validatedFew_ < 2) revert InvalidParameter("validatedFew < 2");
        if (validatedMany_ <= validatedFew_) revert InvalidParameter("validatedMany <= validatedFew");
        if (streakLength_ < 2) revert InvalidParameter("streakLength < 2");
        refundWait = refundWait_;
        validatedFew = validatedFew_;
        validatedMany = validatedMany_;
        streakLength = streakLength_;
    }

    function depositRequired(uint256) external pure override returns (uint256) {
        return 0;
    }

    function handleAddData(address, uint256) external view override onlyTrainer returns (uint256) {
        return 0;
    }

    /// @notice A point, a validated contribution and one more in the author's streak; the badges these reach.
    function handleRefund(address author, uint256, uint256, uint256 addedTime, bool modelAgrees)
        external
        override
        onlyTrainer
        returns (uint256)
    {
        _checkWait(addedTime);
        if (!modelAgrees) revert ModelDisagrees();
        Account memory a = _accounts[author];
        a.points += 1;
        a.numValid += 1;
        a.streak += 1;
        uint256 earned;
        if (a.numValid == 1) earned = 1 << FIRST_VALIDATED;
        if (a.numValid == validatedFew) earned |= 1 << VALIDATED_FEW;
        if (a.numValid == validatedMany) earned |= 1 << VALIDATED_MANY;
        if (a.streak == streakLength) earned |= 1 << STREAK;
        earned &= ~uint256(a.badges); // a streak can reach its length again after a report
        a.badges |= uint64(earned);
        _accounts[author] = a;
        emit PointAwarded(author, a.points);
        _mint(author, earned);
        return 0;
    }

    /// @notice A point for the reporter (and its first report's badge); the author's streak ends.
    function handleReport(
        address reporter,
        address author,
        bytes32 key,
        uint256,
        uint256,
        uint256 addedTime,
        bool modelAgrees
    ) external override onlyTrainer returns (uint256) {
        if (reporter == author) revert CannotReportOwnData();
        _checkWait(addedTime);
        if (modelAgrees) revert ModelAgrees();
        if (reported[key]) revert AlreadyReported(key);
        reported[key] = true;
        Account memory r = _accounts[reporter];
        r.points += 1;
        uint256 earned = (1 << FIRST_REPORT) & ~uint256(r.badges);
        r.badges |= uint64(earned);
        _accounts[reporter] = r;
        if (_accounts[author].streak != 0) _accounts[author].streak = 0;
        emit PointAwarded(reporter, r.points);
        _mint(reporter, earned);
        return 0;
    }

    function points(address account) external view returns (uint256) {
        return _accounts[account].points;
    }

    /// @notice Validated (refunded) contributions of `account`.
    function numValid(address account) external view returns (uint256) {
        return _accounts[account].numValid;
    }

    /// @notice Refunds of `account` since the last report of one of its contributions.
    function streak(address account) external view returns (uint256) {
        return _accounts[account].streak;
    }

    /// @notice Everything `account` holds: points, validated contributions, streak and badge bitmap (bit
    /// `id` set: badge `id` held).
    function accountOf(address account) external view returns (Account memory) {
        return _accounts[account];
    }

    /// @notice Short name of badge `id`, with its threshold: `first-validated`, `validated-10`,
    /// `validated-100`, `first-report`, `streak-5` with the default thresholds.
    function badgeName(uint256 id) public view returns (string memory) {
        if (id == FIRST_VALIDATED) return "first-validated";
        if (id == VALIDATED_FEW) return string.concat("validated-", Decimal.toString(validatedFew));
        if (id == VALIDATED_MANY) return string.concat("validated-", Decimal.toString(validatedMany));
        if (id == FIRST_REPORT) return "first-report";
        if (id == STREAK) return string.concat("streak-", Decimal.toString(streakLength));
        revert UnknownBadge(id);
    }

    /// @notice EIP-1155 metadata of badge `id`, built on chain: a base64 `data:` URI of
    /// `{"name": badgeName(id), "description": ...}`.
    function uri(uint256 id) external view override returns (string memory) {
        string memory description;
        if (id == FIRST_VALIDATED) {
            description = "First contribution validated: claimed back after the wait, the model agreeing";
        } else if (id == VALIDATED_FEW || id == VALIDATED_MANY) {
            uint256 n = id == VALIDATED_FEW ? validatedFew : validatedMany;
            description = string.concat(Decimal.toString(n), " contributions validated");
        } else if (id == FIRST_REPORT) {
            description = "First good report: first to report a contribution the model disagrees with";
        } else if (id == STREAK) {
            description = string.concat(
                Decimal.toString(streakLength), " contributions validated in a row, none of its own reported between"
            );
        } else {
            revert UnknownBadge(id);
        }
        bytes memory json = abi.encodePacked('{"name":"', badgeName(id), '","description":"', description, '"}');
        return string.concat("data:application/json;base64,", Base64.encode(json));
    }

    function _badgesOf(address account) internal view override returns (uint256) {
        return _accounts[account].badges;
    }

    function _checkWait(uint256 addedTime) private view {
        uint256 availableAt = addedTime + refundWait;
        if (block.timestamp < availableAt) revert ClaimTooEarly(availableAt, block.timestamp);
    }
}
