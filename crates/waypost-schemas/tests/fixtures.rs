//! Every fixture behaves as the manifest documents.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use waypost_schemas::ArtifactKind;
use waypost_schemas::io::{LoadError, read_any};

use crate::support::{fixtures_dir, manifest};

#[test]
fn there_are_at_least_three_valid_and_eight_invalid_fixtures_per_kind() {
    let mut counts: BTreeMap<(String, bool), usize> = BTreeMap::new();
    for entry in manifest() {
        *counts.entry((entry.kind, entry.valid)).or_default() += 1;
    }
    for kind in ArtifactKind::ALL {
        let valid = counts
            .get(&(kind.name().to_owned(), true))
            .copied()
            .unwrap_or(0);
        let invalid = counts
            .get(&(kind.name().to_owned(), false))
            .copied()
            .unwrap_or(0);
        assert!(valid >= 3, "{kind}: {valid} valid fixtures");
        assert!(invalid >= 8, "{kind}: {invalid} invalid fixtures");
    }
}

#[test]
fn valid_fixtures_validate_and_are_detected_as_their_kind() {
    for entry in manifest().into_iter().filter(|e| e.valid) {
        let path = fixtures_dir().join(&entry.file);
        let (kind, _) =
            read_any(&path, None).unwrap_or_else(|e| panic!("{} should be valid: {e}", entry.file));
        assert_eq!(kind.name(), entry.kind, "{} detected as {kind}", entry.file);
    }
}

#[test]
fn invalid_fixtures_fail_where_the_manifest_says() {
    for entry in manifest().into_iter().filter(|e| !e.valid) {
        let path = fixtures_dir().join(&entry.file);
        let err = read_any(&path, None).expect_err(&entry.file);
        let expected = entry
            .error
            .as_deref()
            .expect("invalid fixtures name their error");
        match (&err, expected) {
            (LoadError::Parse { line, .. }, "parse") => assert!(*line > 0),
            (LoadError::Invalid { source, .. }, "schema" | "format_version") => {
                let is_version = matches!(
                    source,
                    waypost_schemas::ValidationError::MissingFormatVersion { .. }
                        | waypost_schemas::ValidationError::WrongFormatVersion { .. }
                );
                assert_eq!(
                    is_version,
                    expected == "format_version",
                    "{}: {err}",
                    entry.file
                );
                let pointer = entry.pointer.as_deref().expect("pointer");
                let pointers: Vec<String> =
                    source.violations().into_iter().map(|v| v.pointer).collect();
                assert!(
                    pointers.iter().any(|p| p == pointer),
                    "{}: expected an error at `{pointer}`, got {pointers:?}",
                    entry.file
                );
            }
            _ => panic!("{}: expected a {expected} error, got: {err}", entry.file),
        }
    }
}

/// The exact messages a user sees for every invalid fixture.
#[test]
fn invalid_fixture_messages() {
    let mut report = String::new();
    for entry in manifest().into_iter().filter(|e| !e.valid) {
        let path = fixtures_dir().join(&entry.file);
        let err = read_any(&path, None).expect_err(&entry.file);
        let text = err
            .to_string()
            .replace(&fixtures_dir().display().to_string(), "fixtures");
        writeln!(report, "{text}\n").expect("write to String");
    }
    insta::assert_snapshot!(report);
}

#[test]
fn detection_uses_the_shape_before_the_version() {
    let path = fixtures_dir().join("invalid/gap_report_v1/format_version_v2.json");
    let err = read_any(&path, None).expect_err("v2 gap report");
    let text = err.to_string();
    assert!(
        text.contains("gap_report_v1: unsupported format_version: expected v1, found v2"),
        "{text}"
    );
}
