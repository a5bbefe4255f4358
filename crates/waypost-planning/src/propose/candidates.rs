//! Gaps to candidate actions, by detector.
//!
//! | detector | action |
//! |---|---|
//! | `old_lock_file`, `stale_claim`, `orphan_sqlite_journal`, `index_lock_left_behind` | `file_delete` of the file, with the staleness evidence |
//! | `root_file_outside_allowlist` | `file_move` into the archive folder (all such files in as few actions as the path bound allows) |
//! | `broken_markdown_link` whose target `moved_to` one known file | `doc_update` with the exact edit: file, line, old text, new text |
//! | `utf8_bom` | `tidy_apply` that strips the byte-order mark (an exact edit of line 1) |
//! | `git_operation_in_progress`, `unmerged_index_entries` | `git_operation` (no target paths: git writes its own state), which always needs a human |
//! | anything else | `custom`: the problem described for a person or an agent, at the upper-bound cost |
//!
//! A gap the scanner marks likely (`confidence:likely`) gets no action: it
//! is deferred until someone confirms it.

use waypost_schemas::{
    ActionSource, ActionType, ApprovalStatus, DeferredGap, Gap, GapReportV1, PathMove, PlanAction,
    RiskLevel, TextEdit,
};

use super::risk::Assessment;
use super::{ProposeOptions, cost};
use waypost_governance::Action;

/// One action before governance has seen it.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// The action type.
    pub action_type: ActionType,
    /// One line.
    pub title: String,
    /// What to do and why.
    pub description: String,
    /// The gaps it addresses.
    pub gap_ids: Vec<String>,
    /// The most severe risk among them.
    pub gap_risk: RiskLevel,
    /// Paths it writes, moves or deletes.
    pub target_paths: Vec<String>,
    /// Exact text edits.
    pub edits: Vec<TextEdit>,
    /// Files moved.
    pub moves: Vec<PathMove>,
    /// What shows it is needed and safe.
    pub evidence: Vec<String>,
    /// Lines it changes, when known.
    pub changed_lines: Option<u64>,
    /// Tokens, seconds and API calls, when known.
    pub cost: Option<(u64, u64, u64)>,
    /// Whether undoing it is a plain inverse (move back, edit back).
    pub reversible: bool,
    /// How to undo it.
    pub rollback: Option<String>,
}

impl Candidate {
    fn new(action_type: ActionType, gap: &Gap, title: String, description: String) -> Self {
        Self {
            action_type,
            title,
            description,
            gap_ids: vec![gap.gap_id.clone()],
            gap_risk: gap.risk_classification,
            target_paths: Vec::new(),
            edits: Vec::new(),
            moves: Vec::new(),
            evidence: Vec::new(),
            changed_lines: None,
            cost: None,
            reversible: false,
            rollback: None,
        }
    }

    /// The order in which candidates claim room in a bounded plan: the most
    /// severe gap first, then the action type, then the title and the gaps.
    pub fn priority_key(&self) -> (RiskLevel, ActionType, &str, &[String]) {
        (
            self.gap_risk,
            self.action_type,
            self.title.as_str(),
            self.gap_ids.as_slice(),
        )
    }

    /// What governance decides on: the action's kind, targets, edits and
    /// moves, size, risk and cost (the same as [`Candidate::to_action`]
    /// gives it, without the text that only a reader needs).
    pub fn governed(&self, assessment: &Assessment, unknown: (u64, u64, u64)) -> Action {
        Action::from_plan(&self.bare(assessment, unknown))
    }

    /// The action with only what governance reads filled in.
    fn bare(&self, assessment: &Assessment, unknown: (u64, u64, u64)) -> PlanAction {
        let mut target_paths = self.target_paths.clone();
        target_paths.sort();
        target_paths.dedup();
        PlanAction {
            action_id: String::new(),
            action_type: self.action_type,
            title: None,
            description: None,
            target_gap_ids: Vec::new(),
            risk_score: assessment.score,
            risk_factors: Vec::new(),
            approval_status: ApprovalStatus::RequiresApproval,
            approval_reason: None,
            approval_reasons: Vec::new(),
            target_paths,
            estimated_changed_lines: self.changed_lines,
            command: None,
            estimated_cost: Some(cost(self.cost, unknown)),
            dependencies: Vec::new(),
            rollback_strategy: None,
            source: None,
            edits: self.edits.clone(),
            moves: self.moves.clone(),
            evidence: Vec::new(),
            extra: Default::default(),
        }
    }

    /// The plan action (id and verdict not yet set); `unknown` is the cost
    /// given when the candidate's is not known.
    pub fn to_action(
        &self,
        source: &ActionSource,
        assessment: &Assessment,
        dependencies: Vec<String>,
        unknown: (u64, u64, u64),
    ) -> PlanAction {
        let mut gap_ids = self.gap_ids.clone();
        gap_ids.sort();
        // Gap text may come from a report read from a file: it passes the
        // redactor before it enters the plan.
        let clean = |text: &str| waypost_schemas::redact(text).into_owned();
        PlanAction {
            title: Some(clean(&self.title)),
            description: Some(clean(&self.description)),
            target_gap_ids: gap_ids,
            risk_factors: assessment.factors.clone(),
            dependencies,
            rollback_strategy: self.rollback.clone(),
            source: Some(source.clone()),
            evidence: self.evidence.iter().map(|e| clean(e)).collect(),
            ..self.bare(assessment, unknown)
        }
    }
}

/// The candidates for a report's gaps, and the gaps deferred on the way.
pub fn from_report(
    report: &GapReportV1,
    options: &ProposeOptions,
) -> (Vec<Candidate>, Vec<DeferredGap>) {
    let mut out = Vec::new();
    let mut deferred = Vec::new();
    let mut clutter: Vec<&Gap> = Vec::new();
    for gap in &report.gaps {
        if !gap.is_certain() {
            deferred.push(DeferredGap {
                gap_id: gap.gap_id.clone(),
                reason:
                    "the scanner is not certain of this gap (confidence:likely); confirm it first"
                        .to_owned(),
            });
            continue;
        }
        match gap.detector.as_deref() {
            Some("root_file_outside_allowlist") if gap.first_path().is_some() => clutter.push(gap),
            Some(
                "old_lock_file"
                | "stale_claim"
                | "orphan_sqlite_journal"
                | "index_lock_left_behind",
            ) if gap.first_path().is_some() => out.push(stale_file(gap)),
            Some("broken_markdown_link") => {
                out.push(moved_link(gap).unwrap_or_else(|| custom(gap)))
            }
            Some("utf8_bom") if gap.first_path().is_some() => out.push(bom(gap)),
            Some("git_operation_in_progress" | "unmerged_index_entries") => {
                out.push(git_operation(gap));
            }
            _ => out.push(custom(gap)),
        }
    }
    out.extend(archive_moves(&clutter, options));
    (out, deferred)
}

/// The gap's words: its title, else its type.
fn title_of(gap: &Gap) -> &str {
    gap.title.as_deref().unwrap_or(gap.gap_type.as_str())
}

/// The gap's evidence in sentences: its title and its first excerpt.
fn evidence_of(gap: &Gap) -> Vec<String> {
    let mut out = vec![title_of(gap).to_owned()];
    if let Some(d) = gap.description.as_deref() {
        out.push(d.to_owned());
    }
    if let Some(x) = gap.evidence.as_ref().and_then(|e| e.excerpts.first()) {
        let at = x.line().map(|l| format!(":{l}")).unwrap_or_default();
        out.push(format!("{}{at}: {}", x.source(), x.preview()));
    }
    out
}

/// A stale lock, claim or journal: delete it.
fn stale_file(gap: &Gap) -> Candidate {
    let path = gap.first_path().unwrap_or_default().to_owned();
    let mut c = Candidate::new(
        ActionType::FileDelete,
        gap,
        format!("Delete the stale `{path}`"),
        format!(
            "`{path}` is left behind by a holder that is gone ({}); deleting it lets the next writer go on.",
            title_of(gap)
        ),
    );
    c.target_paths = vec![path];
    c.evidence = evidence_of(gap);
    // A lock, claim or journal holds a holder's id or nothing: one line.
    c.changed_lines = Some(1);
    c.cost = Some((0, 1, 0));
    c.rollback = Some("nothing to restore: the file held no data, only a claim".into());
    c
}

/// A broken link whose target moved to one known file: rewrite exactly
/// that reference. `None` when the gap lacks what an exact edit needs.
fn moved_link(gap: &Gap) -> Option<Candidate> {
    let evidence = gap.evidence.as_ref()?;
    let to = evidence.extra.get("moved_to")?.as_str()?;
    let written = evidence.extra.get("written_as")?.as_str()?;
    let location = evidence.locations.first()?;
    let doc = location.path.as_str();
    // A site-rooted or absolute reference has its own base: not rewritten
    // mechanically.
    if written.starts_with('/') || written.contains("://") || written.is_empty() {
        return None;
    }
    // A reference the redactor took out cannot be edited exactly.
    if [written, to, doc].iter().any(|t| t.contains("[REDACTED:")) {
        return None;
    }
    let new_text = relative_path(doc, to);
    let mut c = Candidate::new(
        ActionType::DocUpdate,
        gap,
        format!("Point `{doc}` line {} at `{to}`", location.start_line),
        format!(
            "`{written}` no longer exists; the only file of that name is `{to}`. Replace the reference on line {} of `{doc}` with `{new_text}`.",
            location.start_line
        ),
    );
    c.target_paths = vec![doc.to_owned()];
    c.edits = vec![TextEdit {
        path: doc.to_owned(),
        line: location.start_line,
        old_text: written.to_owned(),
        new_text: new_text.clone(),
    }];
    c.evidence = evidence_of(gap);
    c.changed_lines = Some(1);
    c.cost = Some((0, 1, 0));
    c.reversible = true;
    c.rollback = Some(format!(
        "on line {} of `{doc}`, put `{written}` back in place of `{new_text}`",
        location.start_line
    ));
    Some(c)
}

/// `to` (repository-relative) as written from a document at `doc`.
pub fn relative_path(doc: &str, to: &str) -> String {
    let from_dir: Vec<&str> = match doc.rfind('/') {
        Some(i) => doc[..i].split('/').collect(),
        None => Vec::new(),
    };
    let target: Vec<&str> = to.split('/').collect();
    let common = from_dir
        .iter()
        .zip(&target)
        .take_while(|(a, b)| a == b)
        .count()
        .min(target.len().saturating_sub(1));
    let mut parts: Vec<&str> = vec![".."; from_dir.len() - common];
    parts.extend(&target[common..]);
    parts.join("/")
}

/// A byte-order mark: strip it (line 1 loses U+FEFF).
fn bom(gap: &Gap) -> Candidate {
    let path = gap.first_path().unwrap_or_default().to_owned();
    let mut c = Candidate::new(
        ActionType::TidyApply,
        gap,
        format!("Strip the byte-order mark of `{path}`"),
        format!(
            "`{path}` starts with a UTF-8 byte-order mark, which many tools read as text; remove it."
        ),
    );
    c.target_paths = vec![path.clone()];
    c.edits = vec![TextEdit {
        path,
        line: 1,
        old_text: "\u{feff}".into(),
        new_text: String::new(),
    }];
    c.evidence = evidence_of(gap);
    c.changed_lines = Some(1);
    c.cost = Some((0, 1, 0));
    c.reversible = true;
    c.rollback = Some("put the byte-order mark back at the start of the file".into());
    c
}

/// An operation git left half done: finish or abort it, by a human.
fn git_operation(gap: &Gap) -> Candidate {
    let mut c = Candidate::new(
        ActionType::GitOperation,
        gap,
        format!("Finish or abort: {}", title_of(gap)),
        format!(
            "{} Decide whether to finish it or abort it (`git merge --abort`, `git rebase --abort`, ...); waypost does neither on its own.",
            gap.description.as_deref().unwrap_or(title_of(gap))
        ),
    );
    // git writes its own state: the action names no file it writes (the
    // state files are evidence), and governance always asks a human.
    c.evidence = evidence_of(gap);
    c.cost = Some((0, 60, 0));
    c
}

/// No safe mechanical fix: describe the problem.
fn custom(gap: &Gap) -> Candidate {
    let mut c = Candidate::new(
        ActionType::Custom,
        gap,
        format!("Resolve: {}", title_of(gap)),
        match (&gap.description, &gap.safe_remediation) {
            (Some(d), Some(r)) if r.approach.is_some() => {
                format!(
                    "{d} Suggested: {}.",
                    r.approach.as_deref().unwrap_or_default()
                )
            }
            (Some(d), _) => d.clone(),
            (None, _) => title_of(gap).to_owned(),
        },
    );
    c.target_paths = gap
        .evidence
        .as_ref()
        .map(|e| e.file_paths.clone())
        .unwrap_or_default();
    c.evidence = evidence_of(gap);
    c
}

/// Root clutter: moved into the archive folder, as few actions as the path
/// bound allows (each move names two paths: from and to).
fn archive_moves(clutter: &[&Gap], options: &ProposeOptions) -> Vec<Candidate> {
    let archive = options.archive_dir.trim_end_matches('/');
    let per_action = (options.max_paths_per_action / 2).max(1);
    let mut sorted: Vec<&Gap> = clutter.to_vec();
    sorted.sort_by(|a, b| a.first_path().cmp(&b.first_path()));
    sorted
        .chunks(per_action)
        .map(|chunk| {
            let first = chunk[0];
            let moves: Vec<PathMove> = chunk
                .iter()
                .map(|g| {
                    let from = g.first_path().unwrap_or_default().to_owned();
                    PathMove {
                        to: format!("{archive}/{from}"),
                        from,
                    }
                })
                .collect();
            let names: Vec<String> = moves.iter().map(|m| format!("`{}`", m.from)).collect();
            let mut c = Candidate::new(
                ActionType::FileMove,
                first,
                format!("Move {} into `{archive}/`", names.join(", ")),
                format!(
                    "These files at the repository root look like clutter and the root allowlist does not keep them; move them into `{archive}/` (or add them to the allowlist)."
                ),
            );
            c.gap_ids = chunk.iter().map(|g| g.gap_id.clone()).collect();
            c.gap_risk = chunk
                .iter()
                .map(|g| g.risk_classification)
                .min()
                .unwrap_or(RiskLevel::Low);
            c.target_paths = moves
                .iter()
                .flat_map(|m| [m.from.clone(), m.to.clone()])
                .collect();
            c.evidence = chunk.iter().flat_map(|g| evidence_of(g)).collect();
            c.moves = moves;
            c.changed_lines = Some(0);
            c.cost = Some((0, 1, 0));
            c.reversible = true;
            c.rollback = Some(format!("move the files back from `{archive}/` to the root"));
            c
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::relative_path;

    #[test]
    fn relative_paths_from_a_document() {
        assert_eq!(relative_path("README.md", "docs/a.md"), "docs/a.md");
        assert_eq!(relative_path("docs/guide/x.md", "docs/a.md"), "../a.md");
        assert_eq!(relative_path("docs/x.md", "docs/sub/a.md"), "sub/a.md");
        assert_eq!(relative_path("a/b/c.md", "d/e.md"), "../../d/e.md");
        assert_eq!(relative_path("docs/x.md", "docs/x.md"), "x.md");
    }
}
