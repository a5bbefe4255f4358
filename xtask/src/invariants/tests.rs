//! The generator on small trees written here, and the check on the real one.

use std::fs;
use std::path::Path;

use super::*;

#[test]
fn committed_invariant_docs_are_up_to_date() {
    let problems = run(&crate::workspace_root(), Mode::Check).expect("scan the workspace");
    let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(list.is_empty(), "\n{}", list.join("\n"));
}

const ALPHA_LIB: &str = r#"//! A crate with two invariants.

// Invariant: ALPHA-002 Terminal states never change, and a block may run
//      over several lines.
// Category: state-machine
// Why: a record of what happened must stay one.
// Enforced by: `State::set` returns an error for <terminal> states.

/// Not part of the block above.
pub struct State;

// Invariant: ALPHA-001 Two writers never hold one key.
// Category: concurrency
// Why: both would write the same file.
// Root cause: check-then-act.
// Correct pattern: decide under one lock.
// Forbidden: write, then re-read to see who won;
//      marker files as locks.
// Enforced by: Store::claim.
pub fn claim() {}
"#;

const ALPHA_TESTS: &str = r##"mod helpers;

#[test]
fn @alpha_001_two_writers_never_hold_one_key() {}

#[test]
#[cfg_attr(
    miri,
    ignore = "spawns [processes]"
)]
fn @alpha_001_processes_contend() {}

#[test]
#[ignore = "run by alpha_002_terminal_states_never_change in a child process"]
fn @alpha_002_child() {}

#[cfg(unix)]
#[test]
// A comment between the attributes and the function.
fn @alpha_002_terminal_states_never_change() {
    let fixture = "#[test]\nfn @alpha_009_in_a_string() {}\n// Invariant: ALPHA-009 in a string";
    assert!(!fixture.is_empty());
}

fn @alpha_003_not_a_test() {}
"##;

const REGISTRY_TEXT: &str = r#"pub const DANGER_FENCES: &[DangerFence] = &[
    DangerFence {
        id: "FENCE-001",
        name: "exclusive file lock",
        race: "two processes both hold a lock",
        forbidden: &[
            "deleting lock files on release",
            "pid files as locks",
        ],
        helper: "waypost_fences::LockFile",
        tests: &["lock::fence_001_a_second_process_cannot_take_a_held_lock"],
    },
];
"#;

const FENCES_LIB: &str = "// Invariant: FENCE-001 At most one process holds a lock file.
// Category: concurrency
// Why: two agents would write one tree.
// Enforced by: LockFile::try_acquire.
pub struct LockFile;
";

const FENCES_TESTS: &str = "#[test]
fn @fence_001_a_second_process_cannot_take_a_held_lock() {}
";

/// A tree with two crates, a registry and no problem.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "crates/alpha/src/lib.rs", ALPHA_LIB);
    write(dir.path(), "crates/alpha/tests/all.rs", ALPHA_TESTS);
    write(dir.path(), "crates/waypost-fences/src/lib.rs", FENCES_LIB);
    write(dir.path(), REGISTRY, REGISTRY_TEXT);
    write(
        dir.path(),
        "crates/waypost-fences/tests/lock.rs",
        FENCES_TESTS,
    );
    write(dir.path(), "docs/invariants/README.md", "hand-written\n");
    dir
}

/// Writes `text` with `fn @` read as `fn `: test names that carry ids are
/// spelled `fn @job_003_…` in this file so that scanners of this repository
/// (waypost's own) do not take the fixtures for its tests.
fn write(root: &Path, relative: &str, text: &str) {
    let text = &unmask(text);
    let path = root.join(relative);
    fs::create_dir_all(path.parent().expect("a parent")).expect("create folders");
    fs::write(path, text).expect("write");
}

fn unmask(text: &str) -> String {
    text.replace("fn @", "fn ")
}

fn read(root: &Path, relative: &str) -> String {
    fs::read_to_string(root.join(relative)).expect("read")
}

fn problems(root: &Path, mode: Mode) -> Vec<String> {
    run(root, mode)
        .expect("run")
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn the_docs_list_every_invariant_test_and_fence_with_links() {
    let tree = fixture();
    let root = tree.path();
    assert_eq!(problems(root, Mode::Check).len(), 3, "three pages missing");
    assert_eq!(problems(root, Mode::Write), Vec::<String>::new());
    assert_eq!(problems(root, Mode::Check), Vec::<String>::new());
    insta::assert_snapshot!("index", read(root, "docs/invariants/INDEX.md"));
    insta::assert_snapshot!("alpha", read(root, "docs/invariants/alpha.md"));
    insta::assert_snapshot!("fences", read(root, "docs/invariants/waypost-fences.md"));
    assert_eq!(read(root, "docs/invariants/README.md"), "hand-written\n");
}

#[test]
fn the_same_tree_gives_the_same_bytes() {
    let one = fixture();
    let two = fixture();
    problems(one.path(), Mode::Write);
    problems(two.path(), Mode::Write);
    for page in ["INDEX.md", "alpha.md", "waypost-fences.md"] {
        let path = format!("docs/invariants/{page}");
        assert_eq!(read(one.path(), &path), read(two.path(), &path), "{page}");
    }
}

#[test]
fn stale_missing_and_extra_pages_are_named_and_check_writes_nothing() {
    let tree = fixture();
    let root = tree.path();
    problems(root, Mode::Write);
    let index = read(root, "docs/invariants/INDEX.md");
    let edited = index.replacen("ALPHA-001", "ALPHA-00l", 1);
    write(root, "docs/invariants/INDEX.md", &edited);
    fs::remove_file(root.join("docs/invariants/alpha.md")).expect("remove");
    write(root, "docs/invariants/gone.md", "old page\n");
    let line = index
        .lines()
        .position(|l| l.contains("ALPHA-001"))
        .expect("listed")
        + 1;
    assert_eq!(
        problems(root, Mode::Check),
        [
            format!(
                "docs/invariants/INDEX.md:{line}: is stale: run `cargo xtask invariants-doc` and commit"
            ),
            "docs/invariants/alpha.md:1: is missing: run `cargo xtask invariants-doc` and commit"
                .to_owned(),
            "docs/invariants/gone.md:1: is not generated: run `cargo xtask invariants-doc` and commit"
                .to_owned(),
        ]
    );
    assert_eq!(read(root, "docs/invariants/INDEX.md"), edited);
    let err = generate(root, Mode::Check).expect_err("fails");
    assert!(
        err.to_string().starts_with("3 invariant problem(s)"),
        "{err}"
    );

    assert_eq!(problems(root, Mode::Write), Vec::<String>::new());
    assert_eq!(read(root, "docs/invariants/INDEX.md"), index);
    assert!(!root.join("docs/invariants/gone.md").exists());
    assert_eq!(read(root, "docs/invariants/README.md"), "hand-written\n");
}

#[test]
fn an_id_declared_twice_is_named_at_both_places() {
    let tree = fixture();
    let root = tree.path();
    write(
        root,
        "crates/beta/src/lib.rs",
        "\n// Invariant: ALPHA-001 Declared again.\n// Category: concurrency\n// Why: w.\n// Enforced by: e.\n",
    );
    let found = problems(root, Mode::Write);
    assert_eq!(
        found,
        [
            "crates/beta/src/lib.rs:2: ALPHA-001 is declared twice (also at crates/alpha/src/lib.rs:12)"
        ]
    );
    assert!(generate(root, Mode::Write).is_err(), "write mode fails too");
}

#[test]
fn an_invariant_without_a_test_is_named() {
    let tree = fixture();
    let root = tree.path();
    let tests = ALPHA_TESTS.replace(
        "fn @alpha_002_terminal_states_never_change",
        "fn terminal_states_never_change",
    );
    write(root, "crates/alpha/tests/all.rs", &tests);
    // The ignored child still carries the id: the invariant counts as tested.
    assert_eq!(problems(root, Mode::Write), Vec::<String>::new());
    let tests = tests.replace("fn @alpha_002_child", "fn child");
    write(root, "crates/alpha/tests/all.rs", &tests);
    assert_eq!(
        problems(root, Mode::Write),
        [
            "crates/alpha/src/lib.rs:3: ALPHA-002 has no test: name one `alpha_002_…` after what it proves"
        ]
    );
}

#[test]
fn a_test_carrying_an_undeclared_id_is_named() {
    let tree = fixture();
    let root = tree.path();
    write(
        root,
        "crates/beta/src/lib.rs",
        "#[cfg(test)]\nmod tests {\n    #[test]\n    fn @beta_004_no_block_says_this() {}\n}\n",
    );
    assert_eq!(
        problems(root, Mode::Write),
        [
            "crates/beta/src/lib.rs:4: test beta_004_no_block_says_this carries BETA-004, which no `// Invariant:` block declares"
        ]
    );
}

#[test]
fn an_ignored_test_without_a_reason_is_named() {
    let tree = fixture();
    let root = tree.path();
    let tests = ALPHA_TESTS.replace(
        "#[ignore = \"run by alpha_002_terminal_states_never_change in a child process\"]",
        "#[ignore]",
    );
    write(root, "crates/alpha/tests/all.rs", &tests);
    let line = tests
        .lines()
        .position(|l| l.starts_with("fn @alpha_002_child"))
        .expect("there")
        + 1;
    assert_eq!(
        problems(root, Mode::Write),
        [format!(
            "crates/alpha/tests/all.rs:{line}: test alpha_002_child carries ALPHA-002 and is ignored without a reason: write `#[ignore = \"why\"]`"
        )]
    );
    let empty = tests.replace("#[ignore]", "#[ignore = \" \"]");
    write(root, "crates/alpha/tests/all.rs", &empty);
    assert_eq!(
        problems(root, Mode::Write).len(),
        1,
        "an empty reason is none"
    );
}

#[test]
fn malformed_blocks_and_registries_are_named() {
    let tree = fixture();
    let root = tree.path();
    write(
        root,
        "crates/beta/src/lib.rs",
        "// Invariant: beta-1 Lowercase.\n\n// Invariant: BETA-001 No fields.\n// Category: vibes\n",
    );
    write(
        root,
        REGISTRY,
        "pub const DANGER_FENCES: &[DangerFence] = &[\n    DangerFence { id: FENCE_ID },\n];\n",
    );
    write(
        root,
        "crates/beta/tests/all.rs",
        "#[test]\nfn @beta_001_a_test() {}\n",
    );
    assert_eq!(
        problems(root, Mode::Write),
        [
            "crates/beta/src/lib.rs:1: `beta-1` is not an invariant id (a crate prefix and three digits, like JOB-003)",
            "crates/beta/src/lib.rs:3: BETA-001 has no `// Enforced by:` line",
            "crates/beta/src/lib.rs:3: BETA-001 has no `// Why:` line",
            "crates/beta/src/lib.rs:3: BETA-001 has the unknown category `vibes`; known: audit, concurrency, crash-safety, determinism, filesystem, governance, read-only, safety, schema, security, state-machine",
            "crates/waypost-fences/src/registry.rs:2: cannot read the danger-fence registry as text: expected a string or `&[..]`, found Some(Ident(\"FENCE_ID\"))",
        ]
    );
}

#[test]
fn registry_entries_without_a_block_are_named() {
    let tree = fixture();
    let root = tree.path();
    let registry = REGISTRY_TEXT.replace(
        "];\n",
        "    DangerFence {\n        id: \"FENCE-002\",\n        name: \"claim\",\n    },\n];\n",
    );
    write(root, REGISTRY, &registry);
    assert_eq!(
        problems(root, Mode::Write),
        [
            "crates/waypost-fences/src/registry.rs:13: danger fence FENCE-002 has no `// Invariant: FENCE-002` block"
        ]
    );
}
