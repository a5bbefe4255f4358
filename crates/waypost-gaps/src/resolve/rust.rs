//! Cargo: a package's tests and benches run with the package root (the
//! folder of the nearest `Cargo.toml` that has a `[package]` table) as
//! their working directory; `include_str!` and `include_bytes!` read
//! relative to the source file; a path joined to `CARGO_MANIFEST_DIR` is
//! relative to the package root.

use super::{CodeUse, Folders, parent};

/// Whether a `Cargo.toml`'s text declares a package (a workspace root may
/// not). A manifest that does not parse declares none.
pub(crate) fn has_package(manifest: &str) -> bool {
    manifest
        .parse::<toml::Table>()
        .is_ok_and(|t| t.get("package").is_some_and(toml::Value::is_table))
}

/// The package root of `file`: the nearest folder above it with a
/// `Cargo.toml` that declares a package.
pub(crate) fn package_root(folders: &Folders<'_>, file: &str) -> Option<String> {
    folders
        .nearest(parent(file), |f| f.cargo_package)
        .map(|(dir, _)| dir)
}

/// The folders a path used as `usage` in `file` is relative to.
pub(crate) fn bases(folders: &Folders<'_>, file: &str, usage: CodeUse) -> Vec<String> {
    match usage {
        CodeUse::Include => vec![parent(file).to_owned()],
        CodeUse::ManifestDir | CodeUse::Runtime => match package_root(folders, file) {
            Some(root) => vec![root],
            // Not in a package: nothing runs it as Cargo would; its own
            // folder is the best guess.
            None => vec![parent(file).to_owned()],
        },
    }
}

/// How a path literal on `line` of Rust source is used: inside
/// `include_str!`/`include_bytes!`, joined to `CARGO_MANIFEST_DIR`, or read
/// at run time.
pub(crate) fn usage(line: &str) -> CodeUse {
    if line.contains("include_str!") || line.contains("include_bytes!") {
        CodeUse::Include
    } else if line.contains("CARGO_MANIFEST_DIR") {
        CodeUse::ManifestDir
    } else {
        CodeUse::Runtime
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::code_places;

    #[test]
    fn tests_read_from_the_package_root_and_includes_from_the_source_folder() {
        let dir = tempfile::tempdir().expect("temp");
        let root = dir.path();
        std::fs::create_dir_all(root.join("crates/p/tests")).expect("mkdir");
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/p\"]\n",
        )
        .expect("write");
        std::fs::write(
            root.join("crates/p/Cargo.toml"),
            "[package]\nname = \"p\"\n",
        )
        .expect("write");
        let cache = crate::resolve::FolderCache::default();
        let folders = Folders::new(root, &cache);
        assert!(has_package("[package]\nname = \"x\"\n"));
        assert!(!has_package("[workspace]\n"));
        assert!(!has_package("package = 1\n"));
        assert!(!has_package("not toml ["));
        let file = "crates/p/tests/it.rs";
        assert_eq!(
            code_places(&folders, file, "corpus/a.rs", CodeUse::Runtime),
            ["crates/p/corpus/a.rs", "corpus/a.rs"]
        );
        assert_eq!(
            code_places(&folders, file, "inputs/a.txt", CodeUse::Include),
            ["crates/p/tests/inputs/a.txt"]
        );
        assert_eq!(
            code_places(&folders, file, "tests/inputs/a.txt", CodeUse::ManifestDir),
            ["crates/p/tests/inputs/a.txt"]
        );
        assert_eq!(usage(r#"include_str!("x")"#), CodeUse::Include);
        assert_eq!(
            usage(r#"Path::new(env!("CARGO_MANIFEST_DIR")).join("x")"#),
            CodeUse::ManifestDir
        );
        assert_eq!(usage(r#"fs::read("x")"#), CodeUse::Runtime);
    }
}
