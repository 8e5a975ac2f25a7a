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
///    initial state (`saveModel`, in chunks). One piece is drawn from a secret the provider committed to
///    at deployment and the hash of the next block; the provider reveals the secret and that piece
///    (`revealSample`) to show the test set is real, which opens participation. That piece is never
///    scored: everyone has seen it.
/// 2. Participation: `addData` with at least the minimum stake (the stake is exactly `minStake`; the
///    rest is returned). The sample is checked by the model but not learnt yet; the contract keeps
///    keccak256(abi.encode(data, label, author)) per contribution and emits the sample.
/// 3. Reveal: once the end criteria hold, anyone calls `endParticipation`; the provider then has
///    `revealWait` seconds to reveal the other pieces (`revealPiece`, one per transaction), each checked
///    against its commitment. Past the deadline anyone may `cancel`: each contributor then gets their
///    stakes back plus a share of the bounty in proportion to them.
/// 4. Rewards, in rounds (`processRewards`, resumable, as many steps per transaction as the gas allows,
///    anyone may drive it; a step evaluates at most `samplesPerStep` test samples of one piece, and a
///    transaction carries only the pieces it needs, so any market whose pieces could be revealed can
///    finish; if it still has not finished `rewardWait` after the reveal, anyone may `cancel` as above,
///    whatever the rounds had moved): the model returns to its initial state; the contributions of contributors
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
/// No phase holds ether forever: before participation the provider may cancel (the bounty returns); every
/// later phase ends by itself or may be cancelled after a deadline of at most `MAX_WAIT`; after a
/// cancellation the provider takes what is left once every stake is out (the bounty when nobody staked,
/// the rounding dust otherwise).
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
        uint64 contributions; // stakes = contributions * minStake: what a cancellation returns
    }

    /// @dev The reward phase's progress, in one slot. An evaluation (of the baseline, or to credit the
    /// pending author) runs piece by piece and `samplesPerStep` samples at a time across transactions.
    struct Progress {
        Phase phase;
        Stage stage;
        bool pending; // an update since the last evaluation, credited to pendingAuthor
        bool anyNegative;
        uint32 round;
        uint32 cursor; // next contribution to replay, word to restore, or participant to scan/apply
        uint64 numActive;
        bool evaluating; // an evaluation is under way; the stage says what its result is for
        uint16 evalPiece; // next scoring piece to evaluate (the sample piece excluded)
        uint32 evalSample; // next sample of that piece
        uint32 evalCorrect; // correct predictions so far
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
    uint256 public immutable rewardWait;
    /// @notice keccak256(abi.encode(secret)): the provider's secret for the sample draw, fixed at deployment.
    bytes32 public immutable seedCommitment;
    /// @notice The block whose hash, unknown when the commitments were made, is mixed into the draw.
    uint256 public immutable drawBlock;
    /// @notice The piece revealed at the start (never scored); NOT_DRAWN until then.
    uint256 public sampleIndex = NOT_DRAWN;
    uint256 public immutable bounty;

    Progress public progress;
    uint256 public pool;
    uint256 public savedWords;
    uint256 public participationStart;
    uint256 public revealDeadline;
    uint256 public rewardDeadline;
    uint256 public collectionStart;
    uint256 public unclaimedStake; // after a cancellation: stakes not yet withdrawn
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
    event Cancelled(Phase phase, uint256 bounty, uint256 totalStaked);
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
    error RewardsStillOpen(uint256 deadline);
    error DrawNotReady(uint256 drawBlock, uint256 blockNumber);
    error DrawExpired(uint256 drawBlock);
    error SeedMismatch();
    error NotCancellable(Phase phase);
    error WrongContributions(uint256 from, uint256 cursor);
    error ContributionMismatch(uint256 index);
    error TestSetMismatch(uint256 piece);
    error ReserveTooSmall(uint256 reserve);
    error StepOutOfGas(Stage stage, uint256 position);
    error ClaimTooEarly(uint256 availableAt, uint256 nowTime);
    error NothingToWithdraw(address account);
    error PaymentFailed(address to, uint256 amount);

    /// @notice The longest any wait may be, so that no phase can hold ether forever.
    uint256 public constant MAX_WAIT = 365 days;
    uint256 public constant NOT_DRAWN = type(uint256).max;
    /// @dev Gas kept back from every model call, to record the step or to name the failure (StepOutOfGas)
    /// when the call runs out (the tests sweep transaction gas limits to check it suffices).
    uint256 private constant CALL_MARGIN = 100_000;
    /// @dev Gas per calldata byte that hashing a scoring piece may cost (about 6 measured on 1000-feature
    /// samples), with room to spare.
    uint256 private constant HASH_GAS_PER_BYTE = 8;

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
        uint256 rewardWait_,
        uint256 claimWait_,
        bytes32 seedCommitment_
    ) payable {
        if (address(model_) == address(0)) revert InvalidParameter("model");
        if (pieceHashes_.length < 2 || pieceHashes_.length > 256) revert InvalidParameter("pieceHashes: 2 to 256 pieces");
        if (msg.value == 0) revert InvalidParameter("bounty: send it as the value");
        if (minStake_ == 0 || minStake_ > type(uint64).max) revert InvalidParameter("minStake");
        if (minDuration_ > MAX_WAIT) revert InvalidParameter("minDuration: at most MAX_WAIT");
        if (revealWait_ == 0 || revealWait_ > MAX_WAIT) revert InvalidParameter("revealWait: 1 s to MAX_WAIT");
        if (rewardWait_ == 0 || rewardWait_ > MAX_WAIT) revert InvalidParameter("rewardWait: 1 s to MAX_WAIT");
        if (claimWait_ > MAX_WAIT) revert InvalidParameter("claimWait: at most MAX_WAIT");
        model = model_;
        provider = msg.sender;
        minStake = minStake_;
        minContributions = minContributions_;
        minDuration = minDuration_;
        revealWait = revealWait_;
        rewardWait = rewardWait_;
        claimWait = claimWait_;
        bounty = msg.value;
        pool = msg.value;
        pieceHashes = pieceHashes_;
        pieceLengths = new uint256[](pieceHashes_.length);
        seedCommitment = seedCommitment_;
        drawBlock = block.number + 1;
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

    /// @notice The piece drawn for `secret`: keccak256 of the secret, the hash of `drawBlock` and this
    /// contract, modulo the number of pieces. The provider committed to the secret before that block
    /// existed, and no one else knows the secret, so neither the provider nor a block producer alone can
    /// choose the piece. Available from the block after `drawBlock` for 256 blocks.
    function drawnSample(bytes32 secret) public view returns (uint256) {
        if (block.number <= drawBlock) revert DrawNotReady(drawBlock, block.number);
        bytes32 hash = blockhash(drawBlock);
        if (hash == 0) revert DrawExpired(drawBlock);
        if (keccak256(abi.encode(secret)) != seedCommitment) revert SeedMismatch();
        return uint256(keccak256(abi.encode(secret, hash, address(this)))) % pieceHashes.length;
    }

    /// @notice Reveal the secret and the piece it draws; this opens participation.
    function revealSample(bytes32 secret, int64[][] calldata data, uint64[] calldata labels)
        external
        onlyProvider
        inPhase(Phase.Initialisation)
    {
        uint256 total = model.numWords();
        if (savedWords != total) revert ModelNotSaved(savedWords, total);
        uint256 sample = drawnSample(secret);
        _checkPiece(sample, data, labels);
        sampleIndex = sample;
        pieceLengths[sample] = labels.length;
        progress.phase = Phase.Participation;
        participationStart = block.timestamp;
        emit SampleRevealed(sample, data, labels);
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
        a.contributions += 1;
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
            rewardDeadline = block.timestamp + rewardWait;
        }
    }

    /// @notice Cancel the market: the provider before participation opens; anyone after the reveal
    /// deadline if the test set was not revealed, or after the reward deadline if the rewards were not
    /// processed. Each contributor then withdraws their stakes plus a share of the bounty in proportion to
    /// them (whatever reward rounds had moved), and the provider what is left once every stake is out.
    function cancel() external {
        Phase phase = progress.phase;
        if (phase == Phase.Initialisation) {
            if (msg.sender != provider) revert NotProvider(msg.sender);
        } else if (phase == Phase.Reveal) {
            if (block.timestamp <= revealDeadline) revert RevealStillOpen(revealDeadline);
        } else if (phase == Phase.Reward) {
            if (block.timestamp <= rewardDeadline) revert RewardsStillOpen(rewardDeadline);
        } else {
            revert NotCancellable(phase);
        }
        progress.phase = Phase.Cancelled;
        // Nothing has left the contract before collection: it holds exactly the bounty and the stakes.
        pool = bounty + totalStaked;
        unclaimedStake = totalStaked;
        collectionStart = block.timestamp;
        emit Cancelled(phase, bounty, totalStaked);
    }

    // -- 4. Rewards --------------------------------------------------------------------------------

    /// @notice Advance the reward rounds as far as the transaction's gas allows, starting a step only with
    /// more than `reserveGas` left. `pieces`: consecutive scoring pieces (the revealed pieces except the
    /// sample, in piece order) from scoring piece `firstPiece`: all of them when they fit in a transaction,
    /// else the one an evaluation needs next (see `progress`). `samplesPerStep`: test samples evaluated
    /// per step (0: a whole piece). `batch`: contributions `from`, `from + 1`, ... as emitted (may be empty
    /// when the replay is not under way). A transaction stops where its pieces or its batch end.
    function processRewards(
        uint256 firstPiece,
        Piece[] calldata pieces,
        uint256 samplesPerStep,
        uint256 from,
        Entry[] calldata batch,
        uint256 reserveGas
    ) external inPhase(Phase.Reward) {
        if (reserveGas < 2 * CALL_MARGIN) revert ReserveTooSmall(reserveGas);
        Progress memory p = progress;
        uint256 checked; // bit s: scoring piece s was checked against its commitment in this transaction
        while (p.phase == Phase.Reward && gasleft() > reserveGas) {
            if (p.evaluating) {
                uint256 s = p.evalPiece;
                if (s < firstPiece || s - firstPiece >= pieces.length) break; // its piece is not here
                Piece calldata piece = pieces[s - firstPiece];
                if (checked & (1 << s) == 0) {
                    // Re-encoding a piece to hash it costs up to HASH_GAS_PER_BYTE per calldata byte (each
                    // value is checked and copied): without that to spare, stop here, not out of gas.
                    if (gasleft() < reserveGas + msg.data.length * HASH_GAS_PER_BYTE) break;
                    _checkScoringPiece(s, piece);
                    checked |= 1 << s;
                }
                _evaluateStep(p, piece, samplesPerStep);
            } else if (p.stage == Stage.Restore) {
                uint256 total = model.numWords();
                uint256 count = total - p.cursor < 64 ? total - p.cursor : 64;
                // Word 0 also restores the rest of the state, so it goes last.
                _callModel(p, abi.encodeCall(IClassifier.restoreState, (total - p.cursor - count, count)), false);
                p.cursor += uint32(count);
                if (p.cursor == total) (p.stage, p.cursor) = (Stage.Baseline, 0);
            } else if (p.stage == Stage.Baseline) {
                _startEvaluation(p);
            } else if (p.stage == Stage.Replay) {
                if (p.cursor == entries.length) {
                    if (p.pending) {
                        _startEvaluation(p); // credit the last run of contributions
                    } else {
                        (p.stage, p.cursor, p.anyNegative) = (Stage.Scan, 0, false);
                        roundCount = type(uint256).max;
                    }
                    continue;
                }
                if (p.cursor < from || p.cursor - from >= batch.length) break;
                _replay(p, batch[p.cursor - from]);
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
        progress = p;
    }

    /// @dev One contribution: a change of author first credits the previous one (an evaluation, after
    /// which this contribution is replayed); otherwise the model learns it.
    function _replay(Progress memory p, Entry calldata e) private {
        address author = e.author;
        if (keccak256(abi.encode(e.data, e.label, author)) != entries[p.cursor]) {
            revert ContributionMismatch(p.cursor);
        }
        if (!accounts[author].active) {
            p.cursor += 1;
            return;
        }
        if (p.pending && pendingAuthor != author) {
            _startEvaluation(p);
            return;
        }
        uint256 mark = _freeMemory();
        // A model refuses an update that would overflow; that contribution then changes nothing. Running
        // out of gas is not a refusal (_callModel names it): it must not depend on how the caller batched.
        if (_callModel(p, abi.encodeCall(IClassifier.update, (e.data, e.label)), true).length == 0) {
            (p.pending, pendingAuthor) = (true, author);
        }
        _resetMemory(mark);
        p.cursor += 1;
    }

    function _startEvaluation(Progress memory p) private pure {
        (p.evaluating, p.evalPiece, p.evalSample, p.evalCorrect) = (true, 0, 0, 0);
    }

    /// @dev Evaluate up to `samplesPerStep` samples of the piece under evaluation; when the last piece is
    /// done, use the count: the baseline of a round, or the pending author's credit.
    function _evaluateStep(Progress memory p, Piece calldata piece, uint256 samplesPerStep) private {
        uint256 n = piece.labels.length;
        uint256 start = p.evalSample;
        uint256 end = samplesPerStep == 0 || n - start < samplesPerStep ? n : start + samplesPerStep;
        uint256 mark = _freeMemory();
        bytes memory call = start == 0 && end == n
            ? abi.encodeCall(IClassifier.evaluate, (piece.data, piece.labels))
            : abi.encodeCall(IClassifier.evaluate, (_copy(piece.data, start, end), piece.labels[start:end]));
        p.evalCorrect += uint32(abi.decode(_callModel(p, call, false), (uint256)));
        _resetMemory(mark);
        if (end < n) {
            p.evalSample = uint32(end);
            return;
        }
        (p.evalPiece, p.evalSample) = (p.evalPiece + 1, 0);
        if (p.evalPiece < pieceHashes.length - 1) return;
        p.evaluating = false;
        uint256 total = p.evalCorrect;
        if (p.stage == Stage.Baseline) {
            (prevCorrect, roundStartCorrect) = (total, total);
            p.stage = Stage.Replay;
        } else {
            Account storage a = accounts[pendingAuthor];
            a.score += int64(int256(total) - int256(prevCorrect));
            prevCorrect = total;
            p.pending = false;
        }
    }

    /// @dev A slice of an array of arrays cannot be passed on from calldata: the step's samples, copied.
    function _copy(int64[][] calldata data, uint256 start, uint256 end) private pure returns (int64[][] memory out) {
        out = new int64[][](end - start);
        for (uint256 i = start; i < end; ++i) {
            out[i - start] = data[i];
        }
    }

    /// @dev Call the model with its arguments already encoded, giving it all the gas but CALL_MARGIN, which
    /// stays here to record the step or to name a failure. Running out of gas inside reverts with
    /// StepOutOfGas; any other revert is passed on, unless `refusable` (an update the model refuses: its
    /// reason is returned). Returns what the model returned.
    function _callModel(Progress memory p, bytes memory call, bool refusable) private returns (bytes memory ret) {
        uint256 left = gasleft();
        uint256 position = p.evaluating ? p.evalPiece : p.cursor;
        if (left < 2 * CALL_MARGIN) revert StepOutOfGas(p.stage, position);
        bool ok;
        (ok, ret) = address(model).call{gas: left - CALL_MARGIN}(call);
        if (ok) return refusable ? bytes("") : ret;
        if (ret.length == 0) revert StepOutOfGas(p.stage, position);
        if (refusable) return ret;
        assembly ("memory-safe") {
            revert(add(ret, 32), mload(ret))
        }
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

    /// @dev A scoring piece passed in must be the revealed piece it stands for (the sample is skipped).
    function _checkScoringPiece(uint256 s, Piece calldata piece) private view {
        uint256 i = s < sampleIndex ? s : s + 1;
        uint256 mark = _freeMemory();
        bool ok = keccak256(abi.encode(piece.data, piece.labels)) == pieceHashes[i];
        _resetMemory(mark);
        if (!ok) revert TestSetMismatch(i);
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
        if (progress.phase == Phase.Cancelled) return _cancelledAmount(account);
        if (progress.phase == Phase.Collection) return accounts[account].balance;
        return 0;
    }

    /// @notice Everything the contract owes: the pool plus every balance (after a cancellation, the pool
    /// alone: it is what is left to pay). It equals the contract's ether.
    function totalOwed() external view returns (uint256 total) {
        if (progress.phase == Phase.Cancelled) return pool;
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
        Account storage a = accounts[account];
        if (phase == Phase.Cancelled) {
            amount = _cancelledAmount(account);
            if (amount == 0) revert NothingToWithdraw(account);
            unclaimedStake -= uint256(a.contributions) * minStake;
            pool -= amount;
            (a.contributions, a.balance) = (0, 0);
        } else {
            amount = a.balance;
            if (amount == 0) revert NothingToWithdraw(account);
            a.balance = 0;
        }
        emit Withdrawal(account, msg.sender, amount);
        _pay(msg.sender, amount);
    }

    /// @dev After a cancellation: the stakes plus a share of the bounty in proportion to them (computed on
    /// the stakes at cancellation, which withdrawals do not change); the provider takes what is left once
    /// every other stake is out (all of the bounty when nobody staked, the rounding dust otherwise).
    function _cancelledAmount(address account) private view returns (uint256 amount) {
        uint256 stake = uint256(accounts[account].contributions) * minStake;
        if (stake > 0) amount = stake + (bounty * stake) / totalStaked;
        if (account == provider && unclaimedStake == stake) amount = pool;
    }

    function _pay(address to, uint256 amount) private {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert PaymentFailed(to, amount);
    }
}
