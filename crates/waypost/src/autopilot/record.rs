//! The record step: after it has executed actions, the autopilot
//! consolidates the run it has just finished into the ledgers through tidy
//! (the project's permanent memory), as a `tidy_apply` action that the
//! policy decides like any other.
//!
//! It happens only when the anchor asks for memory
//! (`memory_continuity.persist_to_sot` names something) and at least one
//! action ran in this session. The action targets the ledgers tidy would
//! append to (and their Markdown views) and names every entry in its
//! evidence, so its content hash covers exactly what goes in; it runs
//! inside a contract and job with a proof, like the plan's actions, and is
//! judged on the ledgers afterwards (each verifies and holds every entry),
//! not on tidy's word. Needing approval, it is recorded as a request:
//! `waypost tidy --execute --run RUN` consolidates the run once a person
//! agrees.
//!
//! Tidy reads the session as written just before this step, so the
//! ledger's entry for the session does not list the record action itself;
//! the run's session file does.

use std::path::Path;

use waypost_governance::{Action, Policy, Verdict};
use waypost_ledger::Ledger;
use waypost_ledger::tidy::{Allowlist, Retention, TidyOptions};
use waypost_schemas::canonical::sha256_hex;
use waypost_schemas::{
    ActionSource, ActionType, ApprovalBasis, ApprovalRequest, ApprovalStatus, Clock, EstimatedCost,
    ExecutedAction, IntentionAnchorV2, PlanAction, RequestStatus, RunLayout,
};

use super::executors::AppendLedgerEntries;
use super::{AutopilotError, Cleared, execute, finish};
use crate::store::Store;

/// How the record action's id starts (the rest is a digest of its entries).
pub const RECORD_ACTION_PREFIX: &str = "action-ledgers-";

/// The risk of appending to an append-only ledger: the `tidy_apply` factor.
const RISK: f64 = 0.10;

/// What the record step did.
pub(super) enum Recorded {
    /// Executed (succeeded or failed, as the ledgers say), with what the
    /// ledgers showed wrong after a successful-looking append.
    Ran(Box<ExecutedAction>, Option<String>),
    /// Not run: it needs a person, or the policy blocks it.
    Request(ApprovalRequest),
}

/// Whether the anchor asks for memory: its `persist_to_sot` names something.
pub(super) fn asks_for_memory(anchor: &IntentionAnchorV2) -> bool {
    anchor
        .pivot_intentions
        .memory_continuity
        .as_ref()
        .is_some_and(|m| !m.persist_to_sot.is_empty())
}

/// Consolidates the run of `layout` into the ledgers, when the anchor asks
/// for memory and tidy has anything to append.
pub(super) fn consolidate(
    root: &Path,
    anchor: &IntentionAnchorV2,
    gap_report_id: &str,
    layout: &RunLayout,
    clock: &Clock,
    policy: &Policy,
    store: &Store,
) -> Result<Option<Recorded>, AutopilotError> {
    if !asks_for_memory(anchor) {
        return Ok(None);
    }
    let memory = anchor.pivot_intentions.memory_continuity.as_ref();
    let options = TidyOptions {
        allowlist: Allowlist::from_anchor(memory)?,
        project: Some(layout.project_id().to_owned()),
        run: Some(layout.run_id().to_owned()),
        retention: Retention::KeepAll,
        now: clock.now(),
    };
    let planned = store.tidy_plan(root, &options)?;
    if planned.appended() == 0 {
        return Ok(None);
    }
    let evidence = AppendLedgerEntries::evidence(&planned);
    let mut target_paths = Vec::new();
    for change in planned.ledgers.iter().filter(|c| !c.appended.is_empty()) {
        let ledger = Ledger::new(root, change.ledger);
        target_paths.push(ledger.relative_path());
        target_paths.push(ledger.view_relative_path());
    }
    let entries = u64::try_from(evidence.len()).unwrap_or(u64::MAX);
    let mut action = PlanAction {
        action_id: format!(
            "{RECORD_ACTION_PREFIX}{}",
            &sha256_hex(evidence.join("\n").as_bytes())[..16]
        ),
        action_type: ActionType::TidyApply,
        title: Some(format!("Record run {} in the ledgers", layout.run_id())),
        description: Some(format!(
            "Append {entries} entries (this run's artifacts the anchor's memory_continuity asks for) to {}",
            target_paths
                .iter()
                .filter(|p| p.ends_with(".jsonl"))
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )),
        target_gap_ids: Vec::new(),
        risk_score: RISK,
        risk_factors: vec![format!("action_type: tidy_apply {RISK:.2}")],
        approval_status: ApprovalStatus::RequiresApproval,
        approval_reason: None,
        approval_reasons: Vec::new(),
        target_paths,
        // One JSONL line and one view entry each.
        estimated_changed_lines: Some(entries.saturating_mul(2)),
        command: None,
        estimated_cost: Some(EstimatedCost {
            tokens: Some(0),
            time_seconds: Some(1),
            api_calls: Some(0),
            upper_bound: false,
            extra: Default::default(),
        }),
        dependencies: Vec::new(),
        rollback_strategy: Some(
            "ledgers are append-only: a later entry supersedes one that was wrong".to_owned(),
        ),
        source: Some(ActionSource {
            anchor_id: anchor.anchor_id(),
            gap_report_id: gap_report_id.to_owned(),
        }),
        edits: Vec::new(),
        moves: Vec::new(),
        evidence,
        extra: Default::default(),
    };
    let decision = policy.decide(&Action::from_plan(&action));
    action.approval_reason = Some(decision.summary());
    action.approval_reasons = decision.decision_reasons();
    let request = |status, reason| {
        Ok(Some(Recorded::Request(ApprovalRequest {
            action_id: action.action_id.clone(),
            approval_status: status,
            reason,
        })))
    };
    let rule_id = match decision.verdict {
        Verdict::Deny => return request(RequestStatus::Blocked, decision.summary()),
        Verdict::RequireApproval => {
            return request(
                RequestStatus::RequiresApproval,
                format!(
                    "{}; `waypost tidy --execute --run {}` records this run in the ledgers once a person agrees",
                    decision.summary(),
                    layout.run_id()
                ),
            );
        }
        Verdict::AutoApprove => decision
            .reasons
            .iter()
            .find(|r| r.verdict == Verdict::AutoApprove)
            .map(|r| r.rule_id.clone())
            .unwrap_or_else(|| "policy:auto_approve".to_owned()),
    };
    action.approval_status = ApprovalStatus::AutoApproved;
    let executor = AppendLedgerEntries::new(options).in_store(store.clone());
    let cleared = Cleared {
        action: &action,
        basis: ApprovalBasis::Rule { rule_id },
        executor: &executor,
    };
    let ran = execute(root, layout, clock, cleared)?;
    // Judged on the ledgers, not on tidy's word.
    let unverified = ran
        .report
        .as_ref()
        .ok()
        .and_then(|_| check_ledgers(root, &action, store).err());
    let entry = finish(layout, clock, ran, Vec::new(), unverified.clone())?;
    Ok(Some(Recorded::Ran(Box::new(entry), unverified)))
}

/// Every ledger the action names verifies and holds each of its entries.
fn check_ledgers(root: &Path, action: &PlanAction, store: &Store) -> Result<(), String> {
    let by_ledger = AppendLedgerEntries::named_entries(action)?;
    for (name, entry_ids) in by_ledger {
        if matches!(store, Store::Files) {
            // The file, its chain and its view: every check `ledger verify` makes.
            let ledger = Ledger::new(root, name);
            let verified = ledger.verify().map_err(|e| e.to_string())?;
            if !verified.is_ok() {
                return Err(format!(
                    "{} does not verify after the append",
                    ledger.relative_path()
                ));
            }
        }
        // The store verifies the chain as it reads.
        let entries = store
            .ledgers(root)
            .entries(name)
            .map_err(|e| format!("{name} in {}: {e}", store.describe()))?;
        if let Some(missing) = entry_ids
            .iter()
            .find(|id| !entries.iter().any(|e| e.entry_id == **id))
        {
            return Err(format!(
                "{name} in {} does not hold {missing} after the append",
                store.describe()
            ));
        }
    }
    Ok(())
}
