//! GAP-001 read-only; GAP-002 deterministic.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use crate::support::{clean_repo, scan_dir};

/// Every file under `root` (including `.git`) with its modification time and content.
fn snapshot(root: &Path) -> BTreeMap<String, (SystemTime, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("list") {
            let entry = entry.expect("entry");
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).expect("meta");
            if meta.is_dir() {
                stack.push(path);
            } else {
                let key = path
                    .strip_prefix(root)
                    .expect("inside")
                    .display()
                    .to_string();
                out.insert(
                    key,
                    (
                        meta.modified().expect("mtime"),
                        std::fs::read(&path).expect("read"),
                    ),
                );
            }
        }
    }
    out
}

#[test]
fn gap_001_a_scan_changes_nothing_in_the_tree_or_in_git() {
    let repo = clean_repo();
    // Give the scanner something to find, and a dirty work tree git would like to refresh.
    repo.write("debug.log", "x\n")
        .write("src/lib.rs", "pub fn changed() {}\n");
    std::fs::write(repo.path().join(".git/MERGE_HEAD"), "0123\n").expect("marker");
    let before = snapshot(repo.path());
    let outcome = scan_dir(repo.path());
    assert!(!outcome.report.gaps.is_empty());
    let after = snapshot(repo.path());
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "no file created or removed"
    );
    for (path, (mtime, content)) in &before {
        assert_eq!(&after[path].1, content, "{path} content changed");
        assert_eq!(&after[path].0, mtime, "{path} was touched");
    }
}

#[test]
fn gap_002_the_same_state_gives_the_same_report_anywhere() {
    let repo = clean_repo();
    repo.write("debug.log", "x\n")
        .write("docs/broken.md", "[x](nope.md)\n");
    let one = scan_dir(repo.path()).report;
    let two = scan_dir(repo.path()).report;
    assert_eq!(
        waypost_schemas::io::to_pretty_json(&one),
        waypost_schemas::io::to_pretty_json(&two),
        "byte-identical"
    );
    // A copy at another path (plain file copy, .git included).
    let copy = tempfile::tempdir().expect("temp");
    let target = copy.path().join("elsewhere/checkout");
    copy_tree(repo.path(), &target);
    let three = scan_dir(&target).report;
    assert_eq!(one.gap_report_id(), three.gap_report_id());
    let ids = |r: &waypost_schemas::GapReportV1| {
        r.gaps.iter().map(|g| g.gap_id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&one), ids(&three));
    assert_eq!(one.workspace_state_digest, three.workspace_state_digest);
    // A content change changes the digest and the report id.
    repo.write("src/lib.rs", "pub fn other() {}\n");
    let four = scan_dir(repo.path()).report;
    assert_ne!(one.workspace_state_digest, four.workspace_state_digest);
    assert_ne!(one.gap_report_id(), four.gap_report_id());
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("list") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn gitignored_files_are_not_scanned_and_big_or_binary_files_are_noted() {
    let repo = clean_repo();
    repo.write("target/debug.log", "ignored\n");
    std::fs::write(repo.path().join("src/blob.bin"), [0u8, 1, 2, 3]).expect("write");
    let config = waypost_gaps::ScanConfig {
        max_file_bytes: 100,
        ..Default::default()
    };
    repo.write("docs/large.md", &"[x](missing.md)\n".repeat(20));
    let outcome = crate::support::scan_config(repo.path(), &config, &crate::support::context());
    assert!(
        !outcome
            .report
            .gaps
            .iter()
            .any(|g| g.detection_signals.iter().any(|s| s.starts_with("target/")))
    );
    assert_eq!(outcome.skipped.too_large, ["docs/large.md"]);
    assert_eq!(outcome.skipped.binary, 1, "src/blob.bin is the one binary");
    assert!(
        !outcome
            .report
            .gaps
            .iter()
            .any(|g| g.detector.as_deref() == Some("broken_markdown_link")),
        "over the cap: not read"
    );
}

#[test]
fn a_folder_that_is_not_a_repository_is_scanned_without_git_checks() {
    let dir = tempfile::tempdir().expect("temp");
    std::fs::write(dir.path().join("notes.txt"), "x\n").expect("write");
    let outcome = scan_dir(dir.path());
    assert_eq!(outcome.files_scanned, 1);
    assert!(
        outcome
            .report
            .gaps
            .iter()
            .all(|g| g.gap_type != waypost_schemas::GapType::GitStateCorruption)
    );
    let err = waypost_gaps::scan(
        &dir.path().join("missing"),
        &[],
        &waypost_gaps::ScanConfig::default(),
        &crate::support::context(),
    )
    .expect_err("no folder");
    assert!(err.to_string().contains("missing"), "{err}");
}

#[test]
fn gap_002_the_report_does_not_depend_on_the_order_files_are_read() {
    // Many files with findings of the same risk and type, spread over
    // folders, so the parallel walk meets them in a different order each time.
    let repo = clean_repo();
    for i in 0..300 {
        repo.write(
            &format!("docs/part{}/page{i}.md", i % 7),
            &format!("[a](missing{i}.md) and [b](gone{i}.md)\r\nline\n"),
        );
    }
    let first = waypost_schemas::io::to_pretty_json(&scan_dir(repo.path()).report);
    for _ in 0..4 {
        assert_eq!(
            first,
            waypost_schemas::io::to_pretty_json(&scan_dir(repo.path()).report),
            "byte-identical whatever the walk order"
        );
    }
}

#[test]
fn the_digest_pairs_each_content_with_its_path() {
    let repo = clean_repo();
    repo.write("a.txt", "alpha\n").write("b.txt", "beta\n");
    let digest = || scan_dir(repo.path()).report.workspace_state_digest;
    let original = digest();
    // The same two contents, swapped between the two paths.
    repo.write("a.txt", "beta\n").write("b.txt", "alpha\n");
    assert_ne!(digest(), original, "swapped contents");
    repo.write("a.txt", "alpha\n").write("b.txt", "beta\n");
    assert_eq!(digest(), original, "restored");
    // A rename with the same content.
    std::fs::rename(repo.path().join("b.txt"), repo.path().join("c.txt")).expect("rename");
    assert_ne!(digest(), original, "renamed");
    std::fs::rename(repo.path().join("c.txt"), repo.path().join("b.txt")).expect("rename");
    // An empty file added.
    repo.write("empty.txt", "");
    assert_ne!(digest(), original, "one more file");
}

#[test]
fn a_pdf_without_an_early_nul_is_binary_not_text_with_mixed_line_endings() {
    let repo = clean_repo();
    // Like an Illustrator file: a PDF header, CR and CRLF line ends, bytes
    // that are not UTF-8, and no NUL in the first 8 KiB.
    let mut pdf = b"%PDF-1.5\r%\xe2\xe3\xcf\xd3\r\n1 0 obj\r<</Type/Catalog>>\nendobj\r\n".to_vec();
    pdf.extend(std::iter::repeat_n(b'x', 9000));
    std::fs::write(repo.path().join("logo.ai"), &pdf).expect("write");
    let outcome = crate::support::scan_config(
        repo.path(),
        &waypost_gaps::ScanConfig::default(),
        &crate::support::context(),
    );
    assert_eq!(outcome.skipped.binary, 1);
    let on_it: Vec<_> = outcome
        .report
        .gaps
        .iter()
        .filter(|g| g.detection_signals.iter().any(|s| s == "logo.ai"))
        .filter_map(|g| g.detector.as_deref())
        .collect();
    assert!(
        !on_it.contains(&"mixed_line_endings") && !on_it.contains(&"invalid_utf8"),
        "{on_it:?}"
    );
}
