// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IClassifier} from "../models/IClassifier.sol";

/// @title PredictionMarket
/// @notice The prediction-market incentive mechanism of Harris & Waggoner (2019), as a contract: data is
/// paid for by how much it improves the model on a test set that the provider commits to up front and
/// reveals only after everyone has contributed. It is its own entry point (and its model's trainer),
/// because the model learns only after participation ends.
///
/// Phases:
/// 1. Initialisation: the provider deploys this contract with the bounty (msg.value), one keccak256
///    commitment per test-set piece, the minimum stake, the end criteria (a minimum number of
///    contributions or a minimum duration) and the wait times; binds the model to it; saves the model's
///    initial state (`saveModel`, in chunks). The contract draws one piece at deployment; the provider
///    reveals it (`revealSample`) to show the test set is real, which opens participation. That piece
///    is never scored: everyone has seen it.
/// 2. Participation: `addData` with at least the minimum stake (the stake is exactly `minStake`; the
///    rest is returned). The sample is checked by the model but not learnt yet; the contract keeps
///    keccak256(abi.encode(data, label, author)) per contribution and emits the sample.
/// 3. Reveal: once the end criteria hold, anyone calls `endParticipation`; the provider then has
///    `revealWait` seconds to reveal the other pieces (`revealPiece`, one per transaction), each checked
///    against its commitment. Past the deadline anyone may `cancel`: the bounty then goes to the
///    contributors in proportion to their stakes.
/// 4. Rewards, in rounds (`processRewards`, resumable, as many steps per transaction as the gas allows,
///    anyone may drive it): the model returns to its initial state; the contributions of contributors
///    still in are replayed in order; after each run of one contributor's contributions the model is
///    evaluated on the revealed test set and the change in the number of correct predictions is added
///    to that contributor's score. If some scores are negative, the round count r is the largest whole
///    number of rounds every negative-scoring contributor can pay for (min of balance / -score), capped
///    by what the bounty pool can pay when the scores add up to a gain; each balance moves by score * r,
///    the pool by the opposite of the sum; contributors whose balance can no longer cover one more round
///    at their score are dropped (they keep what is left), and the next round starts. When no score is
///    negative (or the pool is spent, or nobody is left), the pool is divided in proportion to the
///    positive scores (r = pool / sum of scores) and any remainder returns to the provider.
/// 5. Collection: everyone withdraws their balance (pull payments); after `claimWait` anyone may take a
///    balance still unclaimed.
/// @dev Money is conserved exactly: the contract's ether always equals `pool` plus every account's
/// balance (see `totalOwed`), and integer rounding only ever favours the pool. Test data and
/// contributions are not stored: they are passed again as calldata and checked against their hashes,
/// which keeps participation cheap; they are in the transaction data and the events of this contract.
contract PredictionMarket {
    enum Phase {
        Initialisation,
        Participation,
        Reveal,
        Reward,
        Collection,
        Cancelled
    }

    enum Stage {
        Restore,
        Baseline,
        Replay,
        Scan,
        Apply
    }

    struct Account {
        uint96 balance;
        int64 score;
        bool listed;
        bool active;
    }

    /// @dev The reward phase's progress, in one slot.
    struct Progress {
        Phase phase;
        Stage stage;
        bool pending; // an update since the last evaluation, credited to pendingAuthor
        bool anyNegative;
        uint32 round;
        uint32 cursor; // next contribution to replay, word to restore, or participant to scan/apply
        uint64 numActive;
    }

    /// @notice A test-set piece as revealed, and a contribution as emitted: the calldata of processRewards.
    struct Piece {
        int64[][] data;
        uint64[] labels;
    }

    struct Entry {
        int64[] data;
        uint64 label;
        address author;
    }

    IClassifier public immutable model;
    address public immutable provider;
    uint256 public immutable minStake;
    uint256 public immutable minContributions;
    uint256 public immutable minDuration;
    uint256 public immutable revealWait;
    uint256 public immutable claimWait;
    uint256 public immutable sampleIndex;
    uint256 public immutable bounty;

    Progress public progress;
    uint256 public pool;
    uint256 public savedWords;
    uint256 public participationStart;
    uint256 public revealDeadline;
    uint256 public collectionStart;
    uint256 public numRevealed;
    uint256 public totalStaked;

    // Round state.
    uint256 public prevCorrect;
    uint256 public roundStartCorrect;
    uint256 public roundCount; // r of the round being applied
    address public pendingAuthor;

    bytes32[] public pieceHashes;
    uint256[] public pieceLengths;
    bytes32[] public entries;
    address[] public participants;
    mapping(address => Account) public accounts;

    event ModelSaved(uint256 numWords);
    event SampleRevealed(uint256 indexed piece, int64[][] data, uint64[] labels);
    event Contribution(uint256 indexed index, address indexed author, int64[] data, uint64 label, uint256 stake);
    event ParticipationEnded(uint256 contributions, uint256 revealDeadline);
    event PieceRevealed(uint256 indexed piece, int64[][] data, uint64[] labels);
    event RoundScored(uint256 indexed round, address indexed account, int256 score, uint256 balance, bool dropped);
    event RoundEnded(uint256 indexed round, uint256 rounds, int256 totalScore, uint256 pool, uint256 numActive);
    event RewardsFinished(uint256 rounds, uint256 returnedToProvider);
    event Cancelled(uint256 bounty, uint256 totalStaked);
    event Withdrawal(address indexed account, address indexed to, uint256 amount);

    error WrongPhase(Phase expected, Phase actual);
    error NotProvider(address caller);
    error InvalidParameter(string name);
    error ModelNotSaved(uint256 savedWords, uint256 numWords);
    error RevealMismatch(uint256 piece);
    error AlreadyRevealed(uint256 piece);
    error PieceOutOfRange(uint256 piece, uint256 numPieces);
    error StakeTooSmall(uint256 required, uint256 sent);
    error MarketStillOpen(uint256 contributions, uint256 minContributions, uint256 endsAt);
    error RevealStillOpen(uint256 deadline);
    error RevealClosed(uint256 deadline);
    error WrongContributions(uint256 from, uint256 cursor);
    error ContributionMismatch(uint256 index);
    error TestSetMismatch(uint256 piece);
    error TestSetLength(uint256 pieces, uint256 expected);
    error ReserveTooSmall(uint256 reserve);
    error StepOutOfGas(uint256 index);
    error ClaimTooEarly(uint256 availableAt, uint256 nowTime);
    error NothingToWithdraw(address account);
    error PaymentFailed(address to, uint256 amount);

    modifier inPhase(Phase expected) {
        if (progress.phase != expected) revert WrongPhase(expected, progress.phase);
        _;
    }

    modifier onlyProvider() {
        if (msg.sender != provider) revert NotProvider(msg.sender);
        _;
    }

    constructor(
        IClassifier model_,
        bytes32[] memory pieceHashes_,
        uint256 minStake_,
        uint256 minContributions_,
        uint256 minDuration_,
        uint256 revealWait_,
        uint256 claimWait_
    ) payable {
        if (address(model_) == address(0)) revert InvalidParameter("model");
        if (pieceHashes_.length < 2) revert InvalidParameter("pieceHashes: at least two pieces");
        if (msg.value == 0) revert InvalidParameter("bounty: send it as the value");
        if (minStake_ == 0 || minStake_ > type(uint64).max) revert InvalidParameter("minStake");
        if (revealWait_ == 0) revert InvalidParameter("revealWait");
        model = model_;
        provider = msg.sender;
        minStake = minStake_;
        minContributions = minContributions_;
        minDuration = minDuration_;
        revealWait = revealWait_;
        claimWait = claimWait_;
        bounty = msg.value;
        pool = msg.value;
        pieceHashes = pieceHashes_;
        pieceLengths = new uint256[](pieceHashes_.length);
        // Known to the provider in advance only as well as the next block's randomness is.
        sampleIndex = uint256(keccak256(abi.encode(block.prevrandao, address(this)))) % pieceHashes_.length;
    }

    // -- 1. Initialisation -------------------------------------------------------------------------

    /// @notice Save the next `count` words of the model's initial state (the model must be bound to
    /// this market). Repeat until `savedWords` equals the model's `numWords`.
    function saveModel(uint256 count) external onlyProvider inPhase(Phase.Initialisation) {
        uint256 total = model.numWords();
        uint256 first = savedWords;
        if (first + count > total) count = total - first;
        model.saveState(first, count);
        savedWords = first + count;
        if (savedWords == total) emit ModelSaved(total);
    }

    /// @notice Reveal the piece the contract drew; this opens participation.
    function revealSample(int64[][] calldata data, uint64[] calldata labels)
        external
        onlyProvider
        inPhase(Phase.Initialisation)
    {
        uint256 total = model.numWords();
        if (savedWords != total) revert ModelNotSaved(savedWords, total);
        _checkPiece(sampleIndex, data, labels);
        pieceLengths[sampleIndex] = labels.length;
        progress.phase = Phase.Participation;
        participationStart = block.timestamp;
        emit SampleRevealed(sampleIndex, data, labels);
    }

    // -- 2. Participation --------------------------------------------------------------------------

    function addData(int64[] calldata data, uint64 label) external payable inPhase(Phase.Participation) {
        if (msg.value < minStake) revert StakeTooSmall(minStake, msg.value);
        model.predict(data); // checks the sample, reverting with the model's reason
        uint64 classes = model.numClasses();
        if (label >= classes) revert IClassifier.UnknownLabel(label, classes);
        Account storage a = accounts[msg.sender];
        if (!a.listed) {
            a.listed = true;
            a.active = true;
            participants.push(msg.sender);
        }
        a.balance += uint96(minStake);
        totalStaked += minStake;
        entries.push(keccak256(abi.encode(data, label, msg.sender)));
        emit Contribution(entries.length - 1, msg.sender, data, label, minStake);
        if (msg.value > minStake) _pay(msg.sender, msg.value - minStake);
    }

    function numContributions() external view returns (uint256) {
        return entries.length;
    }

    function numParticipants() external view returns (uint256) {
        return participants.length;
    }

    // -- 3. Reveal ---------------------------------------------------------------------------------

    /// @notice End participation once `minContributions` contributions were made or `minDuration`
    /// has passed. Anyone may call it, so that the provider cannot hold contributions hostage.
    function endParticipation() external inPhase(Phase.Participation) {
        uint256 endsAt = participationStart + minDuration;
        if (entries.length < minContributions && block.timestamp < endsAt) {
            revert MarketStillOpen(entries.length, minContributions, endsAt);
        }
        progress.phase = Phase.Reveal;
        revealDeadline = block.timestamp + revealWait;
        emit ParticipationEnded(entries.length, revealDeadline);
    }

    function revealPiece(uint256 piece, int64[][] calldata data, uint64[] calldata labels)
        external
        onlyProvider
        inPhase(Phase.Reveal)
    {
        if (block.timestamp > revealDeadline) revert RevealClosed(revealDeadline);
        if (piece >= pieceHashes.length) revert PieceOutOfRange(piece, pieceHashes.length);
        if (piece == sampleIndex || pieceLengths[piece] != 0) revert AlreadyRevealed(piece);
        _checkPiece(piece, data, labels);
        if (labels.length == 0) revert InvalidParameter("empty piece");
        pieceLengths[piece] = labels.length;
        emit PieceRevealed(piece, data, labels);
        if (++numRevealed == pieceHashes.length - 1) {
            progress.phase = Phase.Reward;
            progress.stage = Stage.Baseline; // the model is still in its initial state
            progress.numActive = uint64(participants.length);
        }
    }

    /// @notice After the reveal deadline, anyone may cancel a market whose test set was not revealed:
    /// each contributor then withdraws their stakes plus a share of the bounty proportional to them.
    function cancel() external inPhase(Phase.Reveal) {
        if (block.timestamp <= revealDeadline) revert RevealStillOpen(revealDeadline);
        progress.phase = Phase.Cancelled;
        collectionStart = block.timestamp;
        emit Cancelled(pool, totalStaked);
    }

    // -- 4. Rewards --------------------------------------------------------------------------------

    /// @notice Advance the reward rounds as far as the transaction's gas allows, keeping `reserveGas`
    /// for the last step. `test`: the revealed pieces except the sample, in piece order. `batch`:
    /// contributions `from`, `from + 1`, ... as emitted (may be empty when the replay is not under way;
    /// the replay stops where the batch ends). Progress is in `progress`.
    function processRewards(Piece[] calldata test, uint256 from, Entry[] calldata batch, uint256 reserveGas)
        external
        inPhase(Phase.Reward)
    {
        if (reserveGas < 50_000) revert ReserveTooSmall(reserveGas);
        Progress memory p = progress;
        bool testChecked;
        while (p.phase == Phase.Reward && gasleft() > reserveGas) {
            if (p.stage == Stage.Restore) {
                uint256 total = model.numWords();
                uint256 count = total - p.cursor < 64 ? total - p.cursor : 64;
                // Word 0 also restores the rest of the state, so it goes last.
                uint256 first = total - p.cursor - count;
                model.restoreState(first, count);
                p.cursor += uint32(count);
                if (p.cursor == total) (p.stage, p.cursor) = (Stage.Baseline, 0);
            } else if (p.stage == Stage.Baseline) {
                if (!testChecked) testChecked = _checkTestSet(test);
                uint256 correct = _evaluate(test);
                (prevCorrect, roundStartCorrect) = (correct, correct);
                p.stage = Stage.Replay;
            } else if (p.stage == Stage.Replay) {
                if (p.cursor == entries.length) {
                    if (p.pending) {
                        if (!testChecked) testChecked = _checkTestSet(test);
                        _credit(p, test);
                    }
                    (p.stage, p.cursor, p.anyNegative) = (Stage.Scan, 0, false);
                    roundCount = type(uint256).max;
                    continue;
                }
                if (p.cursor < from || p.cursor - from >= batch.length) break;
                if (!testChecked) testChecked = _checkTestSet(test);
                _replay(p, batch[p.cursor - from], test);
                p.cursor += 1;
            } else if (p.stage == Stage.Scan) {
                if (p.cursor == participants.length) {
                    _startApply(p);
                    continue;
                }
                Account storage a = accounts[participants[p.cursor]];
                if (a.active && a.score < 0) {
                    p.anyNegative = true;
                    uint256 affordable = a.balance / uint256(-int256(a.score));
                    if (affordable < roundCount) roundCount = affordable;
                }
                p.cursor += 1;
            } else {
                if (p.cursor == participants.length) {
                    _endRound(p);
                    continue;
                }
                _apply(p, participants[p.cursor]);
                p.cursor += 1;
            }
        }
        if (p.phase == Phase.Reward && p.stage == Stage.Replay && p.pending) {
            if (!testChecked) testChecked = _checkTestSet(test);
            _credit(p, test); // the batch ends: score what it changed
        }
        progress = p;
    }

    function _replay(Progress memory p, Entry calldata e, Piece[] calldata test) private {
        address author = e.author;
        if (keccak256(abi.encode(e.data, e.label, author)) != entries[p.cursor]) {
            revert ContributionMismatch(p.cursor);
        }
        if (!accounts[author].active) return;
        if (p.pending && pendingAuthor != author) _credit(p, test);
        uint256 mark = _freeMemory();
        try model.update(e.data, e.label) {
            (p.pending, pendingAuthor) = (true, author);
        } catch (bytes memory reason) {
            // A model refuses an update that would overflow; that contribution then changes nothing.
            // Running out of gas is not a refusal: it must not depend on how the caller batched.
            if (reason.length == 0) revert StepOutOfGas(p.cursor);
        }
        _resetMemory(mark);
    }

    /// @dev Evaluate and add the change since the last evaluation to the pending author's score.
    function _credit(Progress memory p, Piece[] calldata test) private {
        uint256 correct = _evaluate(test);
        Account storage a = accounts[pendingAuthor];
        a.score += int64(int256(correct) - int256(prevCorrect));
        prevCorrect = correct;
        p.pending = false;
    }

    function _startApply(Progress memory p) private {
        int256 total = int256(prevCorrect) - int256(roundStartCorrect); // the scores' sum (they telescope)
        uint256 r = roundCount;
        if (!p.anyNegative) {
            r = total > 0 ? pool / uint256(total) : 0;
        } else if (total > 0 && pool / uint256(total) < r) {
            r = pool / uint256(total); // the pool cannot pay more: this is the last round
            p.anyNegative = false;
        }
        roundCount = r;
        (p.stage, p.cursor, p.numActive) = (Stage.Apply, 0, 0);
    }

    function _apply(Progress memory p, address who) private {
        Account storage a = accounts[who];
        if (!a.active) return;
        int256 score = a.score;
        uint256 balance = a.balance;
        if (score >= 0) {
            balance += uint256(score) * roundCount;
        } else {
            balance -= uint256(-score) * roundCount;
        }
        bool dropped = score < 0 && balance < uint256(-score);
        a.balance = uint96(balance);
        a.score = 0;
        if (dropped) a.active = false;
        else p.numActive += 1;
        emit RoundScored(p.round, who, score, balance, dropped);
    }

    function _endRound(Progress memory p) private {
        int256 total = int256(prevCorrect) - int256(roundStartCorrect);
        uint256 r = roundCount;
        if (total > 0) pool -= uint256(total) * r;
        else pool += uint256(-total) * r;
        emit RoundEnded(p.round, r, total, pool, p.numActive);
        p.round += 1;
        // anyNegative is false here when no score was negative or when the pool capped the round.
        if (!p.anyNegative || p.numActive == 0) {
            uint256 rest = pool;
            pool = 0;
            accounts[provider].balance += uint96(rest);
            p.phase = Phase.Collection;
            collectionStart = block.timestamp;
            emit RewardsFinished(p.round, rest);
        } else {
            (p.stage, p.cursor, p.pending) = (Stage.Restore, 0, false);
        }
    }

    function _evaluate(Piece[] calldata test) private view returns (uint256 correct) {
        for (uint256 j = 0; j < test.length; ++j) {
            uint256 mark = _freeMemory();
            correct += model.evaluate(test[j].data, test[j].labels);
            _resetMemory(mark);
        }
    }

    /// @dev The test set passed in must be the revealed pieces, sample excluded, in piece order.
    function _checkTestSet(Piece[] calldata test) private view returns (bool) {
        uint256 n = pieceHashes.length;
        if (test.length != n - 1) revert TestSetLength(test.length, n - 1);
        uint256 j;
        for (uint256 i = 0; i < n; ++i) {
            if (i == sampleIndex) continue;
            uint256 mark = _freeMemory();
            bool ok = keccak256(abi.encode(test[j].data, test[j].labels)) == pieceHashes[i];
            _resetMemory(mark);
            if (!ok) revert TestSetMismatch(i);
            ++j;
        }
        return true;
    }

    function _checkPiece(uint256 piece, int64[][] calldata data, uint64[] calldata labels) private view {
        if (data.length != labels.length) revert InvalidParameter("labels length");
        if (keccak256(abi.encode(data, labels)) != pieceHashes[piece]) revert RevealMismatch(piece);
    }

    /// @dev Calls copy the (large) test set into memory; memory is never freed in Solidity, so reusing it
    /// keeps each evaluation's cost flat instead of growing quadratically within a transaction. Only
    /// scalars survive past a reset, and the pointer never goes below where it was on entry.
    function _freeMemory() private pure returns (uint256 mark) {
        assembly ("memory-safe") {
            mark := mload(0x40)
        }
    }

    function _resetMemory(uint256 mark) private pure {
        assembly ("memory-safe") {
            mstore(0x40, mark)
        }
    }

    // -- 5. Collection -----------------------------------------------------------------------------

    /// @notice What `account` can withdraw now (after a cancellation: stakes plus their share of the bounty).
    function claimable(address account) public view returns (uint256) {
        uint256 balance = accounts[account].balance;
        if (progress.phase == Phase.Cancelled) return balance + _bountyShare(balance);
        if (progress.phase == Phase.Collection) return balance;
        return 0;
    }

    /// @notice Everything the contract owes: the pool plus every balance. It equals the contract's ether.
    function totalOwed() external view returns (uint256 total) {
        total = pool + accounts[provider].balance;
        for (uint256 i = 0; i < participants.length; ++i) {
            if (participants[i] != provider) total += accounts[participants[i]].balance;
        }
    }

    function withdraw() external returns (uint256 amount) {
        return _withdraw(msg.sender);
    }

    /// @notice After `claimWait` from the start of collection, anyone may take what `account` left.
    function takeUnclaimed(address account) external returns (uint256 amount) {
        uint256 availableAt = collectionStart + claimWait;
        if (collectionStart == 0 || block.timestamp < availableAt) revert ClaimTooEarly(availableAt, block.timestamp);
        return _withdraw(account);
    }

    function _withdraw(address account) private returns (uint256 amount) {
        Phase phase = progress.phase;
        if (phase != Phase.Collection && phase != Phase.Cancelled) revert WrongPhase(Phase.Collection, phase);
        uint256 balance = accounts[account].balance;
        amount = balance;
        if (phase == Phase.Cancelled) {
            uint256 share = _bountyShare(balance);
            pool -= share;
            amount += share;
        }
        if (amount == 0) revert NothingToWithdraw(account);
        accounts[account].balance = 0;
        emit Withdrawal(account, msg.sender, amount);
        _pay(msg.sender, amount);
    }

    /// @dev Shares are computed on the stakes at cancellation, which withdrawals do not change.
    function _bountyShare(uint256 balance) private view returns (uint256) {
        return totalStaked == 0 ? 0 : bounty * balance / totalStaked;
    }

    function _pay(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert PaymentFailed(to, amount);
    }
}
