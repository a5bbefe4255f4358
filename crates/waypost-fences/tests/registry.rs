//! The registry names a helper and existing tests for every fence.

use std::collections::BTreeSet;

use waypost_fences::{DANGER_FENCES, fence};

/// Every `fn name()` in this test crate, as `module::name`.
fn test_names() -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("tests dir") {
        let path = entry.expect("entry").path();
        let module = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path).expect("test source");
        for line in text.lines() {
            if let Some(rest) = line.trim_start().strip_prefix("fn ")
                && let Some(name) = rest.split('(').next()
            {
                names.insert(format!("{module}::{name}"));
            }
        }
    }
    names
}

#[test]
fn every_fence_is_complete_and_its_tests_exist_and_carry_its_id() {
    let existing = test_names();
    let mut ids = BTreeSet::new();
    for f in DANGER_FENCES {
        assert!(ids.insert(f.id), "duplicate id {}", f.id);
        for field in [f.name, f.race, f.root_cause, f.correct_pattern, f.helper] {
            assert!(!field.trim().is_empty(), "{}: empty field", f.id);
        }
        assert!(!f.forbidden.is_empty(), "{}: no forbidden fixes", f.id);
        assert!(!f.tests.is_empty(), "{}: no tests", f.id);
        let prefix = f.id.to_ascii_lowercase().replace('-', "_");
        assert!(
            f.tests
                .iter()
                .any(|t| t.split("::").nth(1).is_some_and(|n| n.starts_with(&prefix))),
            "{}: no listed test carries the id",
            f.id
        );
        for test in f.tests {
            assert!(
                existing.contains(*test),
                "{}: test {test} does not exist",
                f.id
            );
        }
    }
    assert_eq!(
        fence("FENCE-002").map(|f| f.name),
        Some("claim compare-and-set")
    );
    assert!(fence("FENCE-999").is_none());
}

#[test]
fn every_invariant_in_the_source_has_a_registry_entry() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut declared = BTreeSet::new();
    for entry in std::fs::read_dir(src).expect("src") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("source");
        for line in text.lines() {
            if let Some(rest) = line.trim_start().strip_prefix("// Invariant: ") {
                declared.insert(rest.split_whitespace().next().expect("id").to_owned());
            }
        }
    }
    let registered: BTreeSet<String> = DANGER_FENCES.iter().map(|f| f.id.to_owned()).collect();
    assert_eq!(registered, declared);
}
