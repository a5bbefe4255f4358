//! The shared protected-path corpus through the scanner's check.

use waypost_gaps::ScanConfig;
use waypost_schemas::paths::RepoPath;
use waypost_test_support::{PathVerdict, TestRepo, protected_path_cases};

use crate::support::{context, fired, scan_config};

/// Each representable row as an untracked file in a fresh repository: the
/// scanner reports it as protected exactly when the corpus says so.
#[test]
fn the_scanner_agrees_with_the_shared_corpus() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in protected_path_cases() {
        // Paths outside the repository cannot be files in it.
        if case.expected == PathVerdict::Invalid || RepoPath::new(&case.path).is_err() {
            continue;
        }
        let repo = TestRepo::new();
        repo.write("README.md", "# demo\n").commit_all("init");
        let file = repo.path().join(&case.path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(&file, "changed by an agent\n").expect("write");
        let config = ScanConfig {
            protected_paths: vec![case.pattern.clone()],
            ..Default::default()
        };
        let report = scan_config(repo.path(), &config, &context()).report;
        let protected = fired(&report)
            .iter()
            .any(|(detector, _)| detector == "protected_path_modified");
        if protected != (case.expected == PathVerdict::Protected) {
            failures.push(format!(
                "{:?} under {:?} ({}): scanner says protected={protected}",
                case.path, case.pattern, case.about
            ));
        }
        checked += 1;
    }
    assert!(checked >= 30, "{checked} rows checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_protected_pattern_that_does_not_parse_stops_the_scan() {
    let repo = TestRepo::new();
    repo.write("README.md", "# demo\n").commit_all("init");
    let config = ScanConfig {
        protected_paths: vec!["deploy/[".into()],
        ..Default::default()
    };
    let detectors = waypost_gaps::detectors::builtin(&config);
    let Err(err) = waypost_gaps::scan(repo.path(), &detectors, &config, &context()) else {
        panic!("a pattern that does not parse must stop the scan");
    };
    assert!(err.to_string().contains("`deploy/[`"), "{err}");
}
