/** Negotiation: agents, tactics, risk, and the on-chain driver. Every public export, in one place. */
export { NegotiationAgent, estimateDemands, estimatedUtility } from "./agent";
export type { AgentConfig, Demand, NegotiationView, OfferRecord } from "./agent";
export { OnchainNegotiationError, clientsFromProvider, runOnchainNegotiation } from "./onchain";
export type { OnchainRound, ParticipantWallet, RunOnchainNegotiationParameters, RunOnchainNegotiationReturnType } from "./onchain";
export { PartyMoveError, PartySetupError, contextMoveSender, playParty, termsForOffer } from "./party";
export type { HubMove, PartyOutcome, PartyRound, PartySetup, PlayPartyParameters, PlayPartyReturnType, SendHubMove } from "./party";
export { createRng } from "./prng";
export type { Rng } from "./prng";
export { describeOffer, describeOutcome, formatRound, roundHeader } from "./report";
export {
  DEFAULT_OBSERVATION_GROSS,
  DEFAULT_PRIOR,
  MAX_EVIDENCE,
  MAX_RESERVE_BPS,
  RiskInputError,
  betaCdf,
  betaQuantile,
  detectDrift,
  estimateAgreementRisk,
  estimatePartyRisk,
  recommendReserve,
} from "./risk";
export type { DriftReport, Membership, ReserveRecommendation, RiskCounters, RiskEstimate, RiskOptions, RiskPrior } from "./risk";
export { agentsFor, randomScenario } from "./scenario";
export type { PartyProfile, Scenario, ScenarioOptions } from "./scenario";
export { simulate } from "./simulate";
export { DEFAULT_RISK_ASSUMPTIONS, DEFAULT_STANCE, StanceError, measuredRisk, membershipsOf, partyAgent, partySeed, readPartyRisk } from "./stance";
export type { MeasuredRisk, PartyAgentParameters, PartyAgentReturnType, PartyStance, PartyVersion, ReadPartyRiskParameters, Reservation } from "./stance";
export type { SimulationOptions } from "./simulate";
export { TACTICS, boulware, conceder, hardliner, linear, relativeTime, tacticByName, timeDependentTarget, titForTat, titForTatTarget } from "./tactics";
export type { Tactic, TimeDependentTactic, TitForTatTactic } from "./tactics";
export { fixedTermsOf, offerToTerms, termsToOffer } from "./terms";
export type { ChainTerms, FixedTerms } from "./terms";
export { DAY_SECONDS, TOTAL_BPS, assertOfferInSpace, defaultIssueSpace, issueGrid, offersEqual } from "./types";
export type { IssuePoint, IssueSpace, Move, Offer, Outcome, Transcript, TranscriptEntry } from "./types";
export { Utility, expectedValue, findOverlap, validateModel } from "./utility";
export type { Preferences, RiskView, UtilityModel } from "./utility";
