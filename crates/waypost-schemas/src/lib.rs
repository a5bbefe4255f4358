//! # waypost-schemas
//!
//! The bottom layer of waypost: every artifact type that crosses a process or
//! a file boundary, the JSON Schemas generated from them, validation against
//! those schemas, canonical JSON and content ids, the run directory layout,
//! and crash-safe file IO.
//!
//! Field names and enum values of the four Autopack artifacts
//! ([`IntentionAnchorV2`], [`GapReportV1`], [`PlanProposalV1`],
//! [`AutopilotSessionV1`]) are those of the published schemas, so existing
//! artifacts and tools keep working; waypost's additions are documented as
//! such. Every artifact keeps fields it does not know on round-trip.
//!
//! ```
//! use waypost_schemas::{Artifact, ArtifactKind, GapReportV1, validate};
//!
//! let json = serde_json::json!({
//!     "format_version": "v1",
//!     "project_id": "demo",
//!     "run_id": "scan-20260101T000000Z",
//!     "generated_at": "2026-01-01T00:00:00Z",
//!     "gaps": []
//! });
//! let report: GapReportV1 = validate::validate(&json)?;
//! assert_eq!(ArtifactKind::detect(&json)?, ArtifactKind::GapReportV1);
//! assert!(report.content_id().starts_with("gapreport-"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod anchor;
mod approval;
pub mod canonical;
mod claim;
pub mod command;
mod common;
pub mod compat;
pub mod config;
mod excerpt;
mod gap;
mod gap_baseline;
mod governance;
pub mod io;
mod kind;
pub mod layout;
mod ledger;
pub mod paths;
mod pilot;
mod plan;
mod run_record;
mod safety;
pub mod schema;
pub mod secrets;
mod session;
pub mod validate;

pub use anchor::{
    AnchorMetadata, AutoApproveCriteria, AutoApproveRule, BudgetCost, CostEscalationPolicy,
    DefaultPolicy, Deployment, EvidenceVerification, FieldProvenance, GovernanceReview,
    IntentionAnchorV2, IsolationModel, MemoryContinuity, NorthStar, ParallelismIsolation,
    PivotIntentions, ProvenanceOrigin, RiskTolerance, SafetyRisk, ScopeBoundaries,
};
pub use approval::ApprovalRecordV1;
pub use claim::{ClaimRecordV1, HolderIdentity};
pub use command::{
    CommandLine, CommandMatch, CommandPattern, CommandPatternError, PatternProblem, SimpleCommand,
    looks_like_command,
};
pub use common::{Clock, Extra, FormatV1, FormatV2, Timestamp, TimestampError};
pub use excerpt::{Excerpt, PREVIEW_MAX_CHARS};
pub use gap::{
    Gap, GapEvidence, GapReportMetadata, GapReportV1, GapSummary, GapType, LIKELY_SIGNAL,
    RiskLevel, SafeRemediation, SourceLocation,
};
pub use gap_baseline::{GapBaselineEntry, GapBaselineV1};
pub use governance::{
    AuditEvidenceV1, AuditVerdict, ContractSnapshotV1, ContractStatus, GENESIS_HASH,
    HealthSnapshot, HistoryEntry, JobSnapshotV1, JobStatus, JobStep, ProposedChange, StepResult,
    StepStatus,
};
pub use kind::{
    Artifact, ArtifactKind, DetectError, FieldPath, Kind, KindFacts, RunFile, UnknownKind,
    detect_in, parse_in,
};
pub use layout::RunLayout;
pub use ledger::{EntrySource, EntryStatus, LedgerEntryV1, LedgerName, UnknownLedger};
pub use pilot::{
    DecisionSource, FailureAnalysis, FailureClass, PilotDecisionV1, RetryAction, RetryStrategy,
    SkippedTask,
};
pub use plan::{
    ActionSource, ActionType, ApprovalStatus, BudgetCompliance, DecisionReason, DeferredGap,
    EstimatedCost, GovernanceChecks, PathMove, PlanAction, PlanMetadata, PlanProposalV1,
    PlanSummary, ProtectedPathCheck, TextEdit,
};
pub use run_record::{LandingState, RunLanding, RunRecordV1};
pub use safety::SafetyEntry;
pub use secrets::{Redacted, redact, redact_json};
pub use session::{
    ActionOutcome, ActionProofV1, ApprovalBasis, ApprovalRequest, AutopilotSessionV1,
    ExecutedAction, ExecutionSummary, RequestStatus, SessionError, SessionMetadata, SessionStatus,
};
pub use validate::{ValidationError, Violation};
