//! Helpers: temporary repositories and anchors.

use std::path::Path;

use waypost_schemas::Clock;

/// A fixed clock, so files and ids are reproducible.
pub(crate) const CLOCK: Clock = Clock::Fixed(1_767_225_600);

/// Writes `files` (relative path, contents) under `root`.
pub(crate) fn write_files(root: &Path, files: &[(&str, &str)]) {
    for (relative, contents) in files {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, contents).expect("write");
    }
}

/// A repository with a Cargo workspace, CODEOWNERS and a .github folder.
pub(crate) fn sample_repo(root: &Path) {
    write_files(
        root,
        &[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"crates/*\", \"xtask\"]\n",
            ),
            ("CODEOWNERS", "# owners\n/deploy/ @ops\n*.lock @leads\n"),
            (".github/workflows/ci.yml", "on: push\n"),
            ("crates/a/src/lib.rs", "\n"),
            ("xtask/src/main.rs", "fn main() {}\n"),
            (
                "package.json",
                "{\"name\": \"web-ui\", \"scripts\": {\"test\": \"vitest\"}}\n",
            ),
        ],
    );
}

/// The template, with a north star and evidence filled in: a complete anchor.
pub(crate) fn complete_toml() -> String {
    waypost_intention::TEMPLATE
        .replace(
            "desired_outcomes = []",
            "desired_outcomes = [\"CI stays green\"]",
        )
        .replace(
            "success_signals = []",
            "success_signals = [\"no red builds for a week\"]",
        )
        .replace(
            "hard_blocks = []",
            "hard_blocks = [\"cargo test --workspace\"]",
        )
        .replace(
            "persist_to_sot = []",
            "persist_to_sot = [\"build_history\"]",
        )
}
