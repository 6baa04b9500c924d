// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAgreementRegistry} from "../../../contracts/interfaces/IAgreementRegistry.sol";
import {AgreementStatus, ConsentSignature, NestedTerms, Terms} from "../../../contracts/interfaces/IConcordTypes.sol";
import {ConcordModel} from "../utils/ConcordModel.sol";
import {HandlerBase} from "./HandlerBase.sol";

/// @notice Proposals, approvals and the consent calls (activate, activateAmendment, terminate),
/// attempted with full and partial consent: strangers, account parties without the members of
/// their nested parties, expired or revoked approvals, replayed, expired or misdirected signatures.
/// @dev The consent oracle is law 5 in the model's words: every account reachable from the terms
/// involved (through the pinned child versions) gave a signature the model knows to be valid
/// (right key, this agreement and version, fresh nonce, live deadline) or holds a live approval.
abstract contract AgreementActions is HandlerBase {
    /// @dev One consent call being built and judged.
    struct ConsentCase {
        uint64 id;
        uint32 version;
        bool termination;
        bool amendment;
        bool stateOk;
        uint256 mode;
        uint256 required;
        uint256 validSigned;
        uint256 signers;
        bool signaturesValid;
        bytes32 termsHash;
        Terms terms;
        Terms current;
        NestedTerms[] children;
        ConsentSignature[] signatures;
    }

    mapping(address signer => uint256[]) internal _usedNonces;

    // ---------------------------------------------------------------- proposals

    /// @notice Proposes an agreement: valid terms, or (rarely) a nested party too deep or pinned to a superseded version.
    function propose(uint256 seed, uint256 proposerSeed) external {
        _syncTime();
        if (ghostAgreementCount >= MAX_AGREEMENTS) return;
        uint64 id = ghostAgreementCount + 1;
        Terms memory terms = _randomTerms(seed, id, seed % 9 == 0 ? 1 : seed % 9 == 1 ? 2 : 0);
        bool valid = _nestingValid(terms, id);
        address proposer = _actor(proposerSeed);
        bool ok = _callAs(proposer, address(registry), abi.encodeCall(IAgreementRegistry.propose, (terms)));
        if (ok != valid) _violate(ok ? "propose: accepted a nested party too deep or not pinned to its active version" : "propose: valid terms reverted");
        if (!ok) return;
        ghostAgreementCount = id;
        _termsBlob[id][1] = abi.encode(terms);
        ghostStatus[id] = AgreementStatus.Proposed;
        ghostLatest[id] = 1;
        _ghostProposer[id] = proposer;
        successes["propose"]++;
    }

    /// @notice Proposes a new version: by a consenter of the version in force (or the proposer of
    /// a proposed agreement), or by anyone else, which must fail.
    function proposeAmendment(uint256 idSeed, uint256 seed, uint256 callerSeed) external {
        _syncTime();
        if (ghostAgreementCount == 0) return;
        uint64 id = uint64(1 + idSeed % ghostAgreementCount);
        AgreementStatus status = ghostStatus[id];
        Terms memory terms = _randomTerms(seed, id, 0);
        Terms memory current;
        NestedTerms[] memory children;
        if (status == AgreementStatus.Active) {
            current = _activeTerms(id);
            children = _children(current, current, false);
        }
        // Half the time the caller is one who may propose, so that amendments happen.
        address caller = _actor(callerSeed);
        if (callerSeed % 2 == 0) caller = _someone(status == AgreementStatus.Active ? _consenterMask(current) : _bit(_ghostProposer[id]), callerSeed >> 8, caller);
        bool allowed = status == AgreementStatus.Active
            ? _consenterMask(current) & _bit(caller) != 0
            : status == AgreementStatus.Proposed && caller == _ghostProposer[id];
        bytes memory data = abi.encodeCall(IAgreementRegistry.proposeAmendment, (id, terms, current, children));
        bool ok = _callAs(caller, address(registry), data);
        if (ok && !allowed) _violate("proposeAmendment: accepted from one who is not a consenter of the version in force");
        if (!ok && allowed && _nestingValid(terms, id)) _violate("proposeAmendment: a consenter's valid amendment reverted");
        if (!ok) return;
        uint32 version = ++ghostLatest[id];
        _termsBlob[id][version] = abi.encode(terms);
        successes["proposeAmendment"]++;
    }

    // ---------------------------------------------------------------- approvals and nonces

    /// @notice An actor (a consenter most of the time) approves a pending version until a random expiry.
    function approve(uint256 refSeed, uint256 actorSeed, uint256 expirySeed) external {
        _syncTime();
        (bool found, uint64 id, uint32 version) = _pickVersion(refSeed);
        if (!found) return;
        address actor = _someone(_consenterMask(_terms(id, version)), actorSeed, _actor(actorSeed >> 8));
        uint64 expiry = uint64(currentTime + bound(expirySeed, 1 minutes, 3 days));
        bool expected = ghostStatus[id] != AgreementStatus.Terminated && version > ghostActive[id];
        bool ok = _callAs(actor, address(registry), abi.encodeCall(IAgreementRegistry.approve, (id, version, expiry)));
        if (ok != expected) _violate(ok ? "approve: accepted for a superseded version" : "approve: a pending version's approval reverted");
        if (!ok) return;
        _approval[id][version][actor] = expiry;
        successes["approve"]++;
    }

    function revokeApproval(uint256 refSeed, uint256 actorSeed) external {
        _syncTime();
        (bool found, uint64 id, uint32 version) = _pickVersion(refSeed);
        if (!found) return;
        address actor = _someone(_consenterMask(_terms(id, version)), actorSeed, _actor(actorSeed >> 8));
        if (!_callAs(actor, address(registry), abi.encodeCall(IAgreementRegistry.revokeApproval, (id, version)))) {
            _violate("revokeApproval reverted");
            return;
        }
        _approval[id][version][actor] = 0;
        successes["revokeApproval"]++;
    }

    function approveTermination(uint256 idSeed, uint256 actorSeed, uint256 expirySeed) external {
        _syncTime();
        (bool found, uint64 id) = _pickActive(idSeed);
        if (!found) return;
        uint32 version = ghostActive[id];
        address actor = _someone(_consenterMask(_terms(id, version)), actorSeed, _actor(actorSeed >> 8));
        uint64 expiry = uint64(currentTime + bound(expirySeed, 1 minutes, 3 days));
        bytes memory data = abi.encodeCall(IAgreementRegistry.approveTermination, (id, version, expiry));
        if (!_callAs(actor, address(registry), data)) {
            _violate("approveTermination: approving the active version reverted");
            return;
        }
        _terminationApproval[id][version][actor] = expiry;
        successes["approveTermination"]++;
    }

    function revokeTerminationApproval(uint256 idSeed, uint256 actorSeed) external {
        _syncTime();
        (bool found, uint64 id) = _pickActive(idSeed);
        if (!found) return;
        uint32 version = ghostActive[id];
        address actor = _someone(_consenterMask(_terms(id, version)), actorSeed, _actor(actorSeed >> 8));
        bytes memory data = abi.encodeCall(IAgreementRegistry.revokeTerminationApproval, (id, version));
        if (!_callAs(actor, address(registry), data)) {
            _violate("revokeTerminationApproval reverted");
            return;
        }
        _terminationApproval[id][version][actor] = 0;
        successes["revokeTerminationApproval"]++;
    }

    function cancelNonce(uint256 actorSeed) external {
        _syncTime();
        address actor = _actor(actorSeed);
        uint256 nonce = _nextNonce[actor]++;
        if (!_callAs(actor, address(registry), abi.encodeCall(IAgreementRegistry.cancelNonce, (nonce)))) {
            _violate("cancelNonce: a fresh nonce reverted");
            return;
        }
        _spend(actor, nonce);
    }

    // ---------------------------------------------------------------- consent calls

    /// @notice Activates a pending version (first version or amendment) with a consent shape chosen by `mode`.
    function activate(uint256 refSeed, uint256 mode, uint256 seed) external {
        _syncTime();
        (bool found, uint64 id, uint32 version) = _pickVersion(refSeed);
        if (!found) return;
        ConsentCase memory c;
        c.id = id;
        c.version = version;
        // Complete consent (mode 0) twice as often as each partial shape, so that versions do activate.
        c.mode = mode % 8 >= 6 ? 0 : mode % 8;
        c.terms = _terms(id, version);
        c.termsHash = ConcordModel.hashTerms(c.terms);
        c.amendment = ghostStatus[id] == AgreementStatus.Active;
        c.required = _consenterMask(c.terms);
        if (c.amendment) {
            c.current = _activeTerms(id);
            c.required |= _consenterMask(c.current);
        }
        c.children = _children(c.terms, c.current, c.amendment);
        c.stateOk = (c.amendment || ghostStatus[id] == AgreementStatus.Proposed) && version > ghostActive[id]
            && _childrenActive(c.terms);
        _buildSignatures(c, seed);
        bytes memory data = c.amendment
            ? abi.encodeCall(IAgreementRegistry.activateAmendment, (id, version, c.terms, c.current, c.children, c.signatures))
            : abi.encodeCall(IAgreementRegistry.activate, (id, version, c.terms, c.children, c.signatures));
        bool ok = _callAs(_actor(seed >> 200), address(registry), data);
        if (!_judge(c, ok)) return;
        ghostActive[id] = version;
        ghostStatus[id] = AgreementStatus.Active;
        ghostActivated[id][version] = true;
        ghostConsentChecked[id][version] = true;
        uint256 depth = _depth(c.terms);
        if (depth > maxDepthActivated) maxDepthActivated = depth;
        successes[c.amendment ? bytes32("activateAmendment") : bytes32("activate")]++;
    }

    /// @notice Terminates an active agreement with a consent shape chosen by `mode`.
    function terminate(uint256 idSeed, uint256 mode, uint256 seed) external {
        _syncTime();
        (bool found, uint64 id) = _pickActive(idSeed);
        // Ending agreements is rarer than making them, so that trees grow to the nesting limit.
        if (!found || seed % 3 != 0) return;
        ConsentCase memory c;
        c.id = id;
        c.version = ghostActive[id];
        c.termination = true;
        c.mode = mode % 6;
        c.terms = _activeTerms(id);
        c.required = _consenterMask(c.terms);
        c.children = _children(c.terms, c.terms, false);
        c.stateOk = true;
        _buildSignatures(c, seed);
        bytes memory data = abi.encodeCall(IAgreementRegistry.terminate, (id, c.terms, c.children, c.signatures));
        bool ok = _callAs(_actor(seed >> 200), address(registry), data);
        if (!_judge(c, ok)) return;
        ghostStatus[id] = AgreementStatus.Terminated;
        successes["terminate"]++;
    }

    // ---------------------------------------------------------------- internal: the oracle

    /// @dev Law 5 on an accepted call; liveness on a refused one whose consent was complete and clean.
    /// Returns whether the call succeeded (after its nonces were spent in the model).
    function _judge(ConsentCase memory c, bool ok) private returns (bool) {
        uint256 consented = c.validSigned | _liveApprovals(c);
        if (ok) {
            if (c.required & ~consented != 0) {
                _violate(c.termination ? "terminate: an agreement ended without every affected party's consent" : "activate: a version became active without every affected party's consent");
            }
            if (!c.signaturesValid) _violate("consent: an invalid, replayed or expired signature was accepted");
            if (!c.stateOk) _violate("activate: a superseded version, or one nesting an ended agreement, became active");
            for (uint256 i; i < c.signatures.length; ++i) {
                _spend(c.signatures[i].signer, c.signatures[i].nonce);
            }
            return true;
        }
        bool clean = c.stateOk && c.signaturesValid && c.signers & ~c.required == 0 && c.required & ~consented == 0;
        if (clean) _violate(c.termination ? "terminate: complete consent reverted" : "activate: complete consent reverted");
        else refusals[c.termination ? bytes32("terminate") : bytes32("activate")]++;
        return false;
    }

    function _liveApprovals(ConsentCase memory c) private view returns (uint256 mask) {
        for (uint256 i; i < ACTOR_COUNT; ++i) {
            if (c.required & (1 << i) == 0) continue;
            address a = actors[i];
            uint64 expiry = c.termination ? _terminationApproval[c.id][c.version][a] : _approval[c.id][c.version][a];
            if (expiry != 0 && block.timestamp <= expiry) mask |= 1 << i;
        }
    }

    /// @dev Mode 0: every consenter (by signature, or by its live approval half the time); 1: only
    /// the account parties of the terms themselves, never the members of nested parties; 2: a random
    /// subset; 3: everyone, one signature spoiled; 4: everyone plus a stranger's signature; 5: no
    /// signatures, approvals only.
    function _buildSignatures(ConsentCase memory c, uint256 seed) private {
        uint256 live = _liveApprovals(c);
        uint256 signMask;
        if (c.mode == 0 || c.mode == 3 || c.mode == 4) {
            signMask = c.required & ~(live & seed);
        } else if (c.mode == 1) {
            signMask = _directMask(c.terms) | (c.amendment ? _directMask(c.current) : 0);
        } else if (c.mode == 2) {
            signMask = c.required & (seed >> 16);
        }
        if (c.mode == 4) signMask |= 1 << STRANGER;
        uint256 spoiled = c.mode == 3 ? _someBit(signMask, seed >> 32) : 0;
        c.signatures = new ConsentSignature[](_popcount(signMask));
        c.signaturesValid = true;
        uint256 n;
        // Signatures go sorted by signer address.
        for (uint256 i; i < ACTOR_COUNT; ++i) {
            if (signMask & (1 << i) == 0) continue;
            ConsentSignature memory sig = _consentSignature(c, actors[i], spoiled == 1 << i ? 1 + (seed >> 40) % 4 : 0);
            if (spoiled == 1 << i) c.signaturesValid = false;
            else c.validSigned |= 1 << i;
            uint256 j = n++;
            while (j != 0 && c.signatures[j - 1].signer > sig.signer) {
                c.signatures[j] = c.signatures[j - 1];
                --j;
            }
            c.signatures[j] = sig;
        }
        c.signers = signMask;
    }

    /// @dev flaw 0: valid; 1: signed with a stranger's key; 2: past its deadline; 3: a spent nonce
    /// (a replay); 4: over the next version instead of this one.
    function _consentSignature(ConsentCase memory c, address signer, uint256 flaw)
        private
        returns (ConsentSignature memory sig)
    {
        sig.signer = signer;
        sig.deadline = flaw == 2 ? currentTime - 1 : currentTime + 1 days;
        sig.nonce = _nextNonce[signer]++;
        if (flaw == 3) {
            uint256[] storage used = _usedNonces[signer];
            if (used.length == 0) {
                // Nothing to replay yet: spend this nonce first, as a cancelled one.
                if (_callAs(signer, address(registry), abi.encodeCall(IAgreementRegistry.cancelNonce, (sig.nonce)))) {
                    _spend(signer, sig.nonce);
                }
            } else {
                sig.nonce = used[used.length - 1];
            }
        }
        uint32 version = flaw == 4 ? c.version + 1 : c.version;
        bytes32 digest = c.termination
            ? ConcordModel.terminationDigest(address(registry), c.id, version, signer, sig.nonce, sig.deadline)
            : ConcordModel.consentDigest(address(registry), c.id, version, c.termsHash, signer, sig.nonce, sig.deadline);
        sig.signature = flaw == 1 ? _signWith(_keyOf[actors[STRANGER]], digest) : _sign(signer, digest);
    }

    function _spend(address signer, uint256 nonce) internal {
        if (_nonceUsed[signer][nonce]) return;
        _nonceUsed[signer][nonce] = true;
        _usedNonces[signer].push(nonce);
    }

    // ---------------------------------------------------------------- internal: picking

    /// @dev The documented nesting rule for a new version of agreement `forId`.
    function _nestingValid(Terms memory terms, uint64 forId) internal view returns (bool) {
        for (uint256 i; i < terms.parties.length; ++i) {
            uint64 child = terms.parties[i].agreementId;
            if (child == 0) continue;
            uint32 pin = terms.parties[i].version;
            if (child >= forId || ghostStatus[child] != AgreementStatus.Active || pin != ghostActive[child]) return false;
            if (_depth(_terms(child, pin)) >= MAX_NESTING_DEPTH) return false;
        }
        return true;
    }

    function _pickVersion(uint256 seed) internal view returns (bool found, uint64 id, uint32 version) {
        if (ghostAgreementCount == 0) return (false, 0, 0);
        id = uint64(1 + seed % ghostAgreementCount);
        uint32 latest = ghostLatest[id];
        // Mostly a version after the active one; sometimes any (superseded ones must be refused).
        uint32 active = ghostActive[id];
        if ((seed >> 64) % 4 != 0 && latest > active) version = active + 1 + uint32((seed >> 96) % (latest - active));
        else version = 1 + uint32((seed >> 96) % latest);
        found = true;
    }

    /// @dev An actor of `mask` chosen by `seed`, or `fallback_` when the mask is empty.
    function _someone(uint256 mask, uint256 seed, address fallback_) internal view returns (address) {
        uint256 b = _someBit(mask, seed);
        if (b == 0) return fallback_;
        for (uint256 i; i < ACTOR_COUNT; ++i) {
            if (b == 1 << i) return actors[i];
        }
        return fallback_;
    }

    function _someBit(uint256 mask, uint256 seed) internal pure returns (uint256) {
        uint256 count = _popcount(mask);
        if (count == 0) return 0;
        uint256 pick = seed % count;
        for (uint256 i; i < 256; ++i) {
            if (mask & (1 << i) == 0) continue;
            if (pick == 0) return 1 << i;
            --pick;
        }
        return 0;
    }

    function _popcount(uint256 mask) internal pure returns (uint256 n) {
        for (; mask != 0; mask &= mask - 1) ++n;
    }
}
