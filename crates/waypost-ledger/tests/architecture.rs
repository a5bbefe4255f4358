//! Nothing else in waypost writes a ledger: the ledger folder and the append
//! path are named only inside this crate.

use std::path::{Path, PathBuf};

use waypost_test_support::workspace_root;

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let kind = entry.file_type().expect("file type");
        if kind.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn ledger_006_nothing_outside_waypost_ledger_writes_a_ledger() {
    let root = workspace_root();
    let own = root.join("crates/waypost-ledger");
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    rust_files(&root.join("xtask"), &mut files);
    assert!(
        files.len() > 50,
        "the workspace was found: {}",
        root.display()
    );
    // The ledger folder, the constant naming it, and a ledger's lock.
    let forbidden = ["docs/ledgers", "LEDGER_DIR", "lock_path()"];
    let mut offenders = Vec::new();
    // Production code: tests of other crates may lay out a ledger to read
    // (the gap scanner's duplicate-entry detector) or check what tidy wrote.
    let production =
        |f: &&PathBuf| !f.starts_with(&own) && f.components().any(|c| c.as_os_str() == "src");
    for file in files.iter().filter(production) {
        let text = std::fs::read_to_string(file).expect("source");
        // Code, not documentation: help text may say where the ledgers are.
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for token in forbidden {
            if code.contains(token) {
                offenders.push(format!("{} names {token}", file.display()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "only waypost-ledger may write a ledger (through tidy::execute):\n{}",
        offenders.join("\n")
    );
    // The one append path stays private to the crate: tidy is its only caller.
    let ledger = std::fs::read_to_string(own.join("src/ledger.rs")).expect("ledger.rs");
    assert!(ledger.contains("    pub(crate) fn append("));
    assert_eq!(
        ledger.matches("OpenOptions::new()").count(),
        1,
        "one place opens a ledger for writing"
    );
}
