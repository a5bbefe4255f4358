//! Target paths, normalised once before any matching.

use std::path::Path;

/// Why a target path is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathProblem {
    /// Contains a NUL byte.
    Nul,
    /// Absolute: `/x`, `\\server\x`, `C:\x`, `~/x`.
    Absolute,
    /// Climbs out of the repository with `..`.
    Escapes,
    /// Resolves outside the repository through a symlink.
    SymlinkOutside,
    /// Names the repository root itself (`.`, empty).
    Root,
}

impl PathProblem {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Nul => "contains a NUL byte",
            Self::Absolute => "is absolute",
            Self::Escapes => "climbs out of the repository with `..`",
            Self::SymlinkOutside => "goes through a symlink that points outside the repository",
            Self::Root => "names the whole repository",
        }
    }
}

/// `path` relative to the repository root, `/`-separated, without `.`
/// segments or resolvable `..`. Backslashes count as separators, so
/// `a\..\..\x` is caught like `a/../../x`.
pub fn normalise(path: &str) -> Result<String, PathProblem> {
    if path.contains('\0') {
        return Err(PathProblem::Nul);
    }
    let unified = path.replace('\\', "/");
    let bytes = unified.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if unified.starts_with('/') || unified.starts_with('~') || drive {
        return Err(PathProblem::Absolute);
    }
    let mut parts: Vec<&str> = Vec::new();
    for segment in unified.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(PathProblem::Escapes);
                }
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return Err(PathProblem::Root);
    }
    Ok(parts.join("/"))
}

/// Whether the normalised `path` stays inside `root` on disk: every existing
/// prefix that is a symlink must resolve inside the repository.
pub(crate) fn stays_inside(root: &Path, normalised: &str) -> bool {
    let Ok(real_root) = root.canonicalize() else {
        return true;
    };
    let mut current = root.to_path_buf();
    for segment in normalised.split('/') {
        current.push(segment);
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => match current.canonicalize() {
                Ok(target) if target.starts_with(&real_root) => {}
                // A dangling or outside link: refuse.
                _ => return false,
            },
            Ok(_) => {}
            // Nothing more exists on disk: the rest is created inside.
            Err(_) => return true,
        }
    }
    true
}
