/**
 * The auditor: replay every Concord event, rebuild every balance, reconcile with the chain and
 * export statements. `concord audit sync|verify|report` and the SDK re-export these.
 */
export { sync, verify, resolveAddresses, openStoreFor } from "./sync";
export type { AuditParameters, SyncProgress, SyncResult, VerifyResult, ReorgReport } from "./sync";
export { auditReport as report, auditReport, statementRows, reportToJson, reportToCsv, blockAtOrAfter } from "./report";
export type { AuditReport, PartnerStatement, ReportPeriod, StatementRow, TokenStatement } from "./report";
export { FlowRecorder } from "./flows";
export type { Flow, FlowKind, FlowNodeId } from "./flows";
export { reportToHtml, reportPageData, sankeyLibraries, escapeHtml, jsonForScript, ReportHtmlLibraryError } from "./html";
export type { ReportHtmlOptions, TokenLabel } from "./html";
export { reconcile, planReconciliation, differenceMessage, differenceValue, StorageLayoutError } from "./reconcile";
export type { AmountFormat, Difference, DifferenceKind, HoldingParts, OrderReferenceReads, ReconcileParameters, ReconcileResult, ValueKind } from "./reconcile";
export { ChainReader, LEDGER_STORAGE } from "./reads";
export { ReplayState, ReplayOrderError, poolKey, lotIdOf, entriesHashOf, storedLotHash } from "./replay";
export type { Law, Violation, AgreementState, VersionState, PoolState, LotState, LotEntry, RiskState, NegotiationState, TokenTotals, Credit } from "./replay";
export { fetchConcordLogs, ConcordLogDecoder, UndecodableLogError, LogFetchError, isRangeTooLargeError } from "./fetch";
export type { FetchLogsParameters, RangeEvent } from "./fetch";
export type { ConcordAddresses, ConcordLog, EventRef, LogBatch, RpcClient } from "./types";
export { AuditStore, StoreMismatchError, defaultDataDir, toJson } from "./store";
export type { Cursor, StoreMeta } from "./store";
export { connectPostgres, openPglite, redactUrl, DatabaseConnectionError } from "./db";
export type { SqlDatabase, SqlSession, SqlResult } from "./db";
export { migrate, MIGRATIONS, SCHEMA_VERSION, SchemaVersionError } from "./migrations";
export type { Migration } from "./migrations";
export { watch, settlementOf } from "./watch";
export type { WatchParameters, WatchResult, SettlementLanded } from "./watch";
