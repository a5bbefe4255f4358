//! Canonical bytes and ids: independent of key order and of the order of
//! arrays documented as unordered; sensitive to everything else.

use proptest::prelude::*;
use serde_json::Value;
use waypost_schemas::canonical::canonical_bytes;
use waypost_schemas::validate::validate;
use waypost_schemas::{Artifact, ArtifactKind, Clock, GapReportV1, PlanProposalV1};

use crate::support::valid_values;

/// Writes `value` as JSON text with every object's keys in an order chosen
/// by `seed`, so parsing it exercises a different insertion order.
fn shuffled_text(value: &Value, seed: &mut u64) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            shuffle(&mut keys, seed);
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        serde_json::to_string(k).expect("key"),
                        shuffled_text(&map[k], seed)
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| shuffled_text(i, seed))
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

fn shuffle<T>(items: &mut [T], seed: &mut u64) {
    for i in (1..items.len()).rev() {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = usize::try_from((*seed >> 33) % (i as u64 + 1)).expect("small");
        items.swap(i, j);
    }
}

/// Every array the kind documents as unordered, shuffled.
fn shuffle_unordered(kind: ArtifactKind, value: &mut Value, seed: &mut u64) {
    let paths: &[&[&str]] = match kind {
        ArtifactKind::GapReportV1 => &[
            &["gaps"],
            &["gaps", "*", "detection_signals"],
            &["gaps", "*", "evidence", "file_paths"],
        ],
        ArtifactKind::PlanProposalV1 => &[
            &["actions", "*", "risk_factors"],
            &["actions", "*", "approval_reasons"],
            &["governance_checks", "never_auto_approve_violations"],
        ],
        ArtifactKind::IntentionAnchorV2 => &[
            &[
                "pivot_intentions",
                "scope_boundaries",
                "allowed_write_roots",
            ],
            &["pivot_intentions", "scope_boundaries", "protected_paths"],
            &["pivot_intentions", "safety_risk", "never_allow"],
            &[
                "pivot_intentions",
                "governance_review",
                "auto_approve_rules",
                "*",
                "criteria",
                "path_globs",
            ],
        ],
        _ => &[],
    };
    for path in paths {
        visit(value, path, &mut |array| {
            if let Value::Array(items) = array {
                shuffle(items, seed);
            }
        });
    }
}

fn visit(value: &mut Value, path: &[&str], f: &mut dyn FnMut(&mut Value)) {
    match path {
        [] => f(value),
        ["*", rest @ ..] => {
            if let Value::Array(items) = value {
                for item in items {
                    visit(item, rest, f);
                }
            }
        }
        [key, rest @ ..] => {
            if let Some(child) = value.get_mut(*key) {
                visit(child, rest, f);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn schema_002_canonical_bytes_ignore_key_order_and_unordered_array_order(seed in any::<u64>()) {
        for (file, value) in valid_values() {
            let kind = ArtifactKind::detect(&value).expect("detect");
            let reference = canonical_bytes(kind, &value);
            let mut seed = seed;
            let mut shuffled = value.clone();
            shuffle_unordered(kind, &mut shuffled, &mut seed);
            let reparsed: Value =
                serde_json::from_str(&shuffled_text(&shuffled, &mut seed)).expect("JSON");
            prop_assert_eq!(&canonical_bytes(kind, &reparsed), &reference, "{}", file);
        }
    }

    #[test]
    fn schema_002_volatile_fields_do_not_change_ids(seconds in 0i64..4_102_444_800, run in "[a-z]{1,12}") {
        for (file, value) in valid_values() {
            let kind = ArtifactKind::detect(&value).expect("detect");
            let mut changed = value.clone();
            let stamp = Value::String(
                waypost_schemas::Timestamp::from_unix_seconds(seconds).expect("in range").to_string(),
            );
            for field in ["created_at", "updated_at", "generated_at", "started_at", "completed_at", "approved_at"] {
                if let Some(slot) = changed.get_mut(field) {
                    *slot = stamp.clone();
                }
            }
            if let Some(slot) = changed.get_mut("run_id") {
                *slot = Value::String(run.clone());
            }
            prop_assert_eq!(canonical_bytes(kind, &changed), canonical_bytes(kind, &value), "{}", file);
        }
    }
}

fn plan() -> PlanProposalV1 {
    let (_, value) = valid_values()
        .into_iter()
        .find(|(f, _)| f.ends_with("mixed_verdicts.json"))
        .expect("fixture");
    validate(&value).expect("valid")
}

fn report() -> GapReportV1 {
    let (_, value) = valid_values()
        .into_iter()
        .find(|(f, _)| f.ends_with("several_gaps.json"))
        .expect("fixture");
    validate(&value).expect("valid")
}

#[test]
fn ordered_arrays_and_content_changes_change_ids() {
    let plan = plan();
    let mut reordered = plan.clone();
    reordered.actions.reverse();
    assert_ne!(
        plan.plan_proposal_id(),
        reordered.plan_proposal_id(),
        "action order is meaningful"
    );

    let mut edited = plan.clone();
    edited.actions[0].target_paths.push("docs/extra.md".into());
    assert_ne!(plan.plan_proposal_id(), edited.plan_proposal_id());
}

#[test]
fn ids_have_their_prefix_and_96_bits() {
    let plan = plan();
    let id = plan.plan_proposal_id();
    let (prefix, hex) = id.split_once('-').expect("prefix-hex");
    assert_eq!(prefix, "plan");
    assert_eq!(hex.len(), 24);
    assert!(
        hex.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(id, plan.content_id());
}

#[test]
fn fixture_ids_are_the_derived_ones() {
    for action in plan().actions {
        assert_eq!(action.action_id, action.derive_action_id());
    }
    for gap in report().gaps {
        assert_eq!(gap.gap_id, gap.derive_gap_id());
    }
}

#[test]
fn gap_ids_ignore_wording_and_risk_but_not_evidence() {
    let gap = report().gaps[2].clone();
    let mut reworded = gap.clone();
    reworded.title = Some("another title".into());
    reworded.risk_classification = waypost_schemas::RiskLevel::Critical;
    assert_eq!(gap.derive_gap_id(), reworded.derive_gap_id());
    let mut moved = gap.clone();
    moved.evidence.as_mut().expect("evidence").file_paths = vec!["OTHER.md".into()];
    assert_ne!(gap.derive_gap_id(), moved.derive_gap_id());
}

#[test]
fn confidence_is_not_part_of_a_gap_and_a_file_cannot_pose_as_it() {
    use waypost_schemas::LIKELY_SIGNAL;
    let gap = report().gaps[2].clone();
    assert!(gap.is_certain());
    let mut likely = gap.clone();
    likely.detection_signals.push(LIKELY_SIGNAL.into());
    assert!(!likely.is_certain());
    assert_eq!(gap.derive_gap_id(), likely.derive_gap_id());
    // A file named like the signal is a path among the signals, not the
    // signal.
    let mut named = gap.clone();
    named.detection_signals = vec![LIKELY_SIGNAL.into()];
    named.evidence.as_mut().expect("evidence").file_paths = vec![LIKELY_SIGNAL.into()];
    assert!(named.is_certain());
    let mut named_likely = named.clone();
    named_likely.detection_signals.push(LIKELY_SIGNAL.into());
    assert!(!named_likely.is_certain());
    assert_eq!(named.derive_gap_id(), named_likely.derive_gap_id());
}

#[test]
fn action_digests_ignore_the_verdict_but_not_the_command() {
    let action = plan().actions[1].clone();
    let mut reclassified = action.clone();
    reclassified.approval_status = waypost_schemas::ApprovalStatus::AutoApproved;
    reclassified.approval_reason = None;
    reclassified.approval_reasons.clear();
    assert_eq!(action.content_sha256(), reclassified.content_sha256());
    let mut changed = action.clone();
    changed.command = Some("git checkout -- .".into());
    assert_ne!(action.content_sha256(), changed.content_sha256());
}

#[test]
fn schema_006_approval_records_stop_matching_when_the_action_changes() {
    let action = plan().actions[1].clone();
    let clock = Clock::Fixed(1_767_225_600);
    let record = waypost_schemas::ApprovalRecordV1::approve(&action, "alice", "cli", clock.now());
    assert!(record.matches(&action));
    let mut widened = action.clone();
    widened
        .target_paths
        .push(".github/workflows/release.yml".into());
    assert!(
        !record.matches(&widened),
        "a widened action must not inherit the approval"
    );
    let other = plan().actions[0].clone();
    assert!(!record.matches(&other));
}

#[test]
fn sorting_gaps_gives_the_documented_order_whatever_the_input_order() {
    let sorted = report();
    let mut shuffled = sorted.clone();
    shuffled.gaps.reverse();
    shuffled.sort_gaps();
    assert_eq!(shuffled.gaps, sorted.gaps);
    let risks: Vec<_> = sorted.gaps.iter().map(|g| g.risk_classification).collect();
    let mut expected = risks.clone();
    expected.sort();
    assert_eq!(risks, expected, "most severe first");
}

#[test]
fn one_files_gaps_sort_by_line_before_id() {
    let base = report().gaps[2].clone();
    let at = |line: u32, id: &str| {
        let mut gap = base.clone();
        let evidence = gap.evidence.get_or_insert_with(Default::default);
        evidence.file_paths = vec!["doc.md".into()];
        evidence.locations = vec![waypost_schemas::SourceLocation {
            path: "doc.md".into(),
            start_line: line,
            start_column: None,
            end_line: None,
            end_column: None,
        }];
        gap.gap_id = id.into();
        gap
    };
    let mut report = report();
    report.gaps = vec![at(5, "gap-a"), at(1, "gap-c"), at(3, "gap-b")];
    report.sort_gaps();
    let lines: Vec<u32> = report
        .gaps
        .iter()
        .map(|g| g.evidence.as_ref().expect("evidence").locations[0].start_line)
        .collect();
    assert_eq!(lines, [1, 3, 5]);
}

#[test]
fn a_fingerprint_ignores_lines_and_columns_but_not_what_or_where() {
    let gap = report()
        .gaps
        .into_iter()
        .find(|g| g.evidence.as_ref().is_some_and(|e| !e.locations.is_empty()))
        .expect("a gap with a location");
    let mut moved = gap.clone();
    for location in &mut moved.evidence.as_mut().expect("evidence").locations {
        location.start_line += 3;
        location.start_column = Some(7);
    }
    assert_ne!(
        gap.derive_gap_id(),
        moved.derive_gap_id(),
        "the id follows lines"
    );
    assert_eq!(
        gap.fingerprint(),
        moved.fingerprint(),
        "the fingerprint does not"
    );
    assert!(gap.fingerprint().starts_with("gapfp-"));
    let mut elsewhere = gap.clone();
    elsewhere.evidence.as_mut().expect("evidence").file_paths = vec!["OTHER.md".into()];
    assert_ne!(gap.fingerprint(), elsewhere.fingerprint());
    let mut reworded = gap.clone();
    reworded.title = Some("another title".into());
    assert_eq!(gap.fingerprint(), reworded.fingerprint());
}

#[test]
fn schema_002_a_report_built_gap_by_gap_has_the_generic_canonical_bytes() {
    use waypost_schemas::{Artifact, ArtifactKind, GapReportV1, canonical};
    let dir = waypost_test_support::fixtures_dir().join("artifacts/valid/gap_report_v1");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        let value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
        let mut report: GapReportV1 = serde_json::from_value(value).expect("report");
        // Gaps and their inner lists in another order: the same bytes.
        report.gaps.reverse();
        for gap in &mut report.gaps {
            gap.detection_signals.reverse();
            if let Some(e) = gap.evidence.as_mut() {
                e.file_paths.reverse();
                e.locations.reverse();
            }
        }
        let generic = canonical::canonical_bytes(
            ArtifactKind::GapReportV1,
            &serde_json::to_value(&report).expect("json"),
        );
        assert_eq!(
            String::from_utf8(report.canonical_bytes()).expect("UTF-8"),
            String::from_utf8(generic).expect("UTF-8"),
            "{}",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 3);
}
