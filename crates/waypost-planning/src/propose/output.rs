//! A plan for people: plain text and Markdown (a pull-request comment).
//!
//! Both list the actions in plan order with their verdict, risk and the
//! rule behind the verdict, then the deferred gaps with their reasons.
//! Every piece of text taken from the plan passes the redactor.

use std::fmt::Write as _;

use waypost_schemas::{ApprovalStatus, PlanAction, PlanProposalV1, Redacted};

fn verdict(status: ApprovalStatus) -> &'static str {
    match status {
        ApprovalStatus::AutoApproved => "auto-approved",
        ApprovalStatus::RequiresApproval => "needs approval",
        ApprovalStatus::Blocked => "blocked",
    }
}

fn title(action: &PlanAction) -> Redacted<'_> {
    Redacted::new(
        action
            .title
            .as_deref()
            .unwrap_or(action.action_type.as_str()),
    )
}

fn reason(action: &PlanAction) -> Redacted<'_> {
    Redacted::new(action.approval_reason.as_deref().unwrap_or(""))
}

/// The counts line: `5 actions (2 auto-approved, 3 need approval, 0 blocked), 1 gap deferred`.
fn counts(plan: &PlanProposalV1) -> String {
    let n = |s: ApprovalStatus| {
        plan.actions
            .iter()
            .filter(|a| a.approval_status == s)
            .count()
    };
    format!(
        "{} action{} ({} auto-approved, {} need approval, {} blocked), {} gap{} deferred",
        plan.actions.len(),
        if plan.actions.len() == 1 { "" } else { "s" },
        n(ApprovalStatus::AutoApproved),
        n(ApprovalStatus::RequiresApproval),
        n(ApprovalStatus::Blocked),
        plan.deferred.len(),
        if plan.deferred.len() == 1 { "" } else { "s" },
    )
}

/// Plain text.
pub fn text(plan: &PlanProposalV1) -> String {
    let mut out = format!("{}\n", counts(plan));
    if !plan.actions.is_empty() {
        out.push('\n');
    }
    for (i, action) in plan.actions.iter().enumerate() {
        let _ = writeln!(
            out,
            "{:>3}. [{}] {} (risk {:.2}, {})",
            i + 1,
            verdict(action.approval_status),
            title(action),
            action.risk_score,
            action.action_type.as_str(),
        );
        let _ = writeln!(out, "     {}", reason(action));
        if !action.dependencies.is_empty() {
            let after: Vec<String> = action
                .dependencies
                .iter()
                .filter_map(|d| plan.actions.iter().position(|a| &a.action_id == d))
                .map(|p| (p + 1).to_string())
                .collect();
            let _ = writeln!(out, "     after {}", after.join(", "));
        }
    }
    if !plan.deferred.is_empty() {
        out.push_str("\ndeferred:\n");
        for d in &plan.deferred {
            let _ = writeln!(out, "  {}: {}", d.gap_id, Redacted::new(&d.reason));
        }
    }
    out
}

/// A Markdown table cell: pipes escaped, one line.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Markdown, for a pull-request comment.
pub fn markdown(plan: &PlanProposalV1) -> String {
    let mut out = format!("### waypost plan\n\n{}\n", counts(plan));
    if !plan.actions.is_empty() {
        out.push_str("\n| # | verdict | action | risk | why |\n|---|---|---|---|---|\n");
        for (i, action) in plan.actions.iter().enumerate() {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.2} | {} |",
                i + 1,
                verdict(action.approval_status),
                cell(title(action).as_str()),
                action.risk_score,
                cell(reason(action).as_str()),
            );
        }
    }
    if !plan.deferred.is_empty() {
        out.push_str("\n#### Deferred\n\n| gap | reason |\n|---|---|\n");
        for d in &plan.deferred {
            let _ = writeln!(
                out,
                "| `{}` | {} |",
                cell(&d.gap_id),
                cell(Redacted::new(&d.reason).as_str())
            );
        }
    }
    out
}
