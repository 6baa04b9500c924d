/**
 * The auditor: replay every Concord event, rebuild every balance, reconcile with the chain and
 * export statements. `concord audit sync|verify|report` and the SDK re-export these.
 */
export { sync, verify, resolveAddresses } from "./sync";
export type { AuditParameters, SyncProgress, SyncResult, VerifyResult, ReorgReport } from "./sync";
export { auditReport as report, auditReport, statementRows, reportToJson, reportToCsv, blockAtOrAfter } from "./report";
export type { AuditReport, PartnerStatement, ReportPeriod, StatementRow, TokenStatement } from "./report";
export { reconcile, heldAReserve, hashSettlementRecord, expectedSettlementState, CLOSED_STATE } from "./reconcile";
export { prefetchSettlementStates, SettlementPrefetch } from "./reads";
export type { Difference, DifferenceKind, OrderReferenceReads, ReconcileParameters, ReconcileResult } from "./reconcile";
export { ReplayState, ReplayOrderError, poolKey } from "./replay";
export type { Law, Violation, AgreementState, VersionState, SettlementState, PoolState, NegotiationState, TermsValue, TokenTotals } from "./replay";
export { fetchConcordLogs, ConcordLogDecoder, UndecodableLogError, LogFetchError, isRangeTooLargeError } from "./fetch";
export type { ConcordAddresses, ConcordLog, EventRef, FetchLogsParameters, LogBatch, RangeEvent, RpcClient } from "./fetch";
export { AuditStore, StoreMismatchError, defaultDataDir, toJson } from "./store";
export type { Cursor, StoreMeta } from "./store";
