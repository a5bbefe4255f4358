//! Write-or-check of generated files: one function for both modes.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use waypost_schemas::ArtifactKind;

/// Whether generated files are rewritten or only compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Rewrite stale files, remove extra ones.
    Write,
    /// Change nothing; fail when anything is stale, missing or extra.
    Check,
}

/// `schemas/<kind>.schema.json` for every artifact kind.
pub(crate) fn schemas(root: &Path, mode: Mode) -> Result<()> {
    let files = ArtifactKind::ALL
        .iter()
        .map(|&kind| {
            (
                kind.schema_file_name(),
                waypost_schemas::schema::render(kind),
            )
        })
        .collect();
    ensure_dir_contents(
        &root.join("schemas"),
        &files,
        ".json",
        "cargo xtask schemas",
        mode,
    )
}

/// Makes `dir` hold exactly `files` (relative path -> contents) among the
/// files whose names end in `suffix`: writes what differs and removes what is
/// extra, or in check mode reports every difference and fails.
pub(crate) fn ensure_dir_contents(
    dir: &Path,
    files: &BTreeMap<String, String>,
    suffix: &str,
    command: &str,
    mode: Mode,
) -> Result<()> {
    let mut problems = Vec::new();
    for (relative, contents) in files {
        let path = dir.join(relative);
        let current = fs::read_to_string(&path).ok();
        if current.as_deref() == Some(contents.as_str()) {
            continue;
        }
        match mode {
            Mode::Check => problems.push(format!(
                "{} is {}",
                path.display(),
                if current.is_some() {
                    "stale"
                } else {
                    "missing"
                }
            )),
            Mode::Write => {
                if let Some(parent) = path.parent() {
                    fs::create_dir_all(parent)
                        .with_context(|| format!("cannot create {}", parent.display()))?;
                }
                fs::write(&path, contents)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
    }
    for extra in existing_files(dir, suffix, |_| true)?
        .into_iter()
        .filter(|relative| !files.contains_key(relative))
    {
        let path = dir.join(&extra);
        match mode {
            Mode::Check => problems.push(format!("{} is not generated", path.display())),
            Mode::Write => fs::remove_file(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?,
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        bail!(
            "generated files are out of date:\n  {}\nrun `{command}` and commit",
            problems.join("\n  ")
        )
    }
}

/// Files under `dir` (recursively, into the folders whose names `descend`
/// accepts) whose names end in `suffix`, as `/`-joined relative paths,
/// sorted. Links are not followed.
pub(crate) fn existing_files(
    dir: &Path,
    suffix: &str,
    descend: impl Fn(&str) -> bool,
) -> Result<Vec<String>> {
    let mut found = Vec::new();
    let mut stack = vec![(dir.to_owned(), String::new())];
    while let Some((path, prefix)) = stack.pop() {
        let entries = match fs::read_dir(&path) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot list {}", path.display())),
        };
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot list {}", path.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = format!("{prefix}{name}");
            let kind = entry.file_type()?;
            if kind.is_dir() {
                if descend(&name) {
                    stack.push((entry.path(), format!("{relative}/")));
                }
            } else if kind.is_file() && name.ends_with(suffix) {
                found.push(relative);
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_schemas_are_up_to_date() {
        schemas(&crate::workspace_root(), Mode::Check).expect("schemas are current");
    }

    #[test]
    fn check_mode_reports_stale_missing_and_extra_files() {
        let dir = tempfile_dir();
        fs::write(dir.join("stale.json"), "old").expect("write");
        fs::write(dir.join("extra.json"), "{}").expect("write");
        let files = BTreeMap::from([
            ("stale.json".to_owned(), "new".to_owned()),
            ("missing.json".to_owned(), "{}".to_owned()),
        ]);
        let err = ensure_dir_contents(&dir, &files, ".json", "cargo xtask demo", Mode::Check)
            .expect_err("three problems");
        let text = err.to_string();
        assert!(text.contains("stale.json is stale"), "{text}");
        assert!(text.contains("missing.json is missing"), "{text}");
        assert!(text.contains("extra.json is not generated"), "{text}");
        assert!(text.contains("run `cargo xtask demo` and commit"), "{text}");
        // Check mode changed nothing.
        assert_eq!(
            fs::read_to_string(dir.join("stale.json")).expect("read"),
            "old"
        );

        ensure_dir_contents(&dir, &files, ".json", "cargo xtask demo", Mode::Write).expect("write");
        ensure_dir_contents(&dir, &files, ".json", "cargo xtask demo", Mode::Check).expect("clean");
        assert!(!dir.join("extra.json").exists());
        fs::remove_dir_all(&dir).expect("cleanup");
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-codegen-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create temp dir");
        dir
    }
}
