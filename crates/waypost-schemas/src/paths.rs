//! Repository paths and path patterns: the one meaning every crate uses.
//!
//! - [`RepoPath`]: a path relative to the repository root, `/`-separated,
//!   with no `.` segments and no climbing out. Built only by
//!   [`RepoPath::new`], whose [`PathError`] says what was wrong.
//! - [`PathPattern`]: a glob (`.github/**`, `**/*.pem`; `*` never crosses a
//!   `/`) or a plain path that covers itself and everything below it
//!   (`docs`, `docs/`). A pattern that does not parse is an error, never
//!   dropped.
//! - [`PathKey`]: the comparison key that folds what common filesystems fold
//!   (letter case, Unicode normalisation and ignorable code points, Windows
//!   trailing dots and spaces, NTFS stream suffixes), so that a path that
//!   names a protected file on macOS or Windows is caught on every machine.
//! - [`resolve`]: what a path reaches on disk, following symlinks the way the
//!   kernel does.
//!
//! Two kinds of matching, on purpose:
//! - [`PathPattern::covers`] is for patterns that *restrict* (protected
//!   paths, never-allow, never-auto-approve, requires-approval): it compares
//!   folded keys, so every spelling a filesystem may treat as the same file
//!   is caught, and it covers a folder whose contents the pattern matches.
//! - [`PathPattern::matches`] is for patterns that *permit* (write roots,
//!   auto-approve globs): it compares the path exactly as written, so a
//!   permission never reaches further than what its author wrote.
//!
//! ```
//! use waypost_schemas::paths::{PathPattern, RepoPath};
//!
//! let protected = PathPattern::new(".github/**")?;
//! let target = RepoPath::new("docs/../.GitHub/workflows/ci.yml")?;
//! assert_eq!(target.as_str(), ".GitHub/workflows/ci.yml");
//! assert!(protected.covers(&target));
//! assert!(!protected.matches(&target));
//! assert!(RepoPath::new("../outside").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;
use std::fmt;
use std::path::{Component, Path, PathBuf};

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use unicode_normalization::UnicodeNormalization;

/// Why a text is not a repository path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// Contains a NUL byte.
    #[error("contains a NUL byte")]
    Nul,
    /// Absolute: `/x`, `\\server\x`, `C:\x`, `C:x`, `~/x`, `~user/x`.
    #[error("is absolute; paths are relative to the repository root")]
    Absolute,
    /// Climbs out of the repository with `..`.
    #[error("climbs out of the repository with `..`")]
    Escapes,
    /// Names the repository root itself (empty, `.`, `a/..`).
    #[error("names the whole repository, not a path inside it")]
    Root,
}

/// A normalised, repository-relative path: `/`-separated, no `.` segments,
/// no `..`, no empty segments, no NUL, no drive, UNC or home prefix.
///
/// Backslashes count as separators (`a\b` is `a/b`), and `..` is resolved
/// lexically where it stays inside the root (`a/../b` is `b`). A leading `~`
/// is refused as absolute: a shell expands it to a home folder.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RepoPath(String);

impl RepoPath {
    /// Normalises `text`, or says why it is not a path inside the repository.
    pub fn new(text: &str) -> Result<Self, PathError> {
        let kept = normal_segments(text)?;
        if kept.is_empty() {
            return Err(PathError::Root);
        }
        Ok(Self(kept.join("/")))
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its segments, first to last.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The folded comparison key.
    pub fn key(&self) -> PathKey<'_> {
        PathKey::of(self.as_str())
    }

    /// `root` joined with this path, using the platform's separator.
    pub fn under(&self, root: &Path) -> PathBuf {
        let mut out = root.to_path_buf();
        out.extend(self.segments());
        out
    }
}

impl fmt::Display for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RepoPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The segments of `text` with `.` and empty ones dropped and `..` applied
/// lexically; an error when it is not inside the repository.
fn normal_segments(text: &str) -> Result<Vec<&str>, PathError> {
    let mut kept: Vec<&str> = Vec::new();
    for segment in segments(text)? {
        match segment {
            "" | "." => {}
            ".." => {
                if kept.pop().is_none() {
                    return Err(PathError::Escapes);
                }
            }
            other => kept.push(other),
        }
    }
    Ok(kept)
}

/// The raw segments of `text` after the checks every path shares: no NUL,
/// not absolute; backslashes are separators.
fn segments(text: &str) -> Result<Vec<&str>, PathError> {
    if text.contains('\0') {
        return Err(PathError::Nul);
    }
    let bytes = text.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if matches!(bytes.first(), Some(b'/' | b'\\' | b'~')) || drive {
        return Err(PathError::Absolute);
    }
    Ok(text.split(['/', '\\']).collect())
}

/// The key two spellings of one file share on common filesystems: each
/// segment with ignorable code points removed, in Unicode NFC, lower-cased,
/// without an NTFS stream suffix (`:name`, `::$DATA`) and without trailing
/// dots and spaces (which Windows drops). On Linux these are different
/// names; folding them only ever makes a restricting pattern catch more.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PathKey<'a>(Cow<'a, str>);

impl<'a> PathKey<'a> {
    /// The key of a repository-relative path (`\` counts as `/`, as in
    /// [`RepoPath`]); borrowed when folding changes nothing, as for most
    /// lower-case ASCII paths.
    pub fn of(path: &'a str) -> Self {
        let unchanged = path
            .bytes()
            .all(|b| b.is_ascii() && !b.is_ascii_uppercase() && b != b':' && b != b'\\')
            && path
                .split('/')
                .all(|segment| !segment.ends_with(['.', ' ']));
        if unchanged {
            return Self(Cow::Borrowed(path));
        }
        let mut out = String::with_capacity(path.len());
        // Empty segments (`a//b`, or a doubled backslash as escaped names
        // show one) are dropped, as RepoPath drops them.
        for segment in path.split(['/', '\\']).filter(|s| !s.is_empty()) {
            if !out.is_empty() {
                out.push('/');
            }
            fold_segment(segment, &mut out);
        }
        Self(Cow::Owned(out))
    }

    /// The folded text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn fold_segment(segment: &str, out: &mut String) {
    let start = out.len();
    if segment.is_ascii() {
        out.extend(segment.chars().map(|c| c.to_ascii_lowercase()));
    } else {
        // Unicode's canonical caseless form: NFD, full case folding (ß is
        // ss, ſ is s, ς is σ), then NFC, without ignorable code points.
        let visible: String = segment
            .chars()
            .filter(|c| !is_ignorable(*c))
            .nfd()
            .collect();
        out.extend(caseless::default_case_fold_str(&visible).nfc());
    }
    // NTFS alternate data streams: `name:stream[:type]` is `name`.
    if let Some(colon) = out[start..].find(':')
        && colon > 0
    {
        out.truncate(start + colon);
    }
    // Windows drops trailing dots and spaces (but `.` and `..` stay).
    let kept = out[start..].trim_end_matches(['.', ' ']).len();
    if kept > 0 {
        out.truncate(start + kept);
    }
}

/// Unicode's Default_Ignorable_Code_Point: characters that render as
/// nothing and that macOS and many tools drop from names.
fn is_ignorable(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFF8
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

/// Why a text is not a path pattern.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// The pattern names a place outside the repository.
    #[error("`{text}` {problem}")]
    Path {
        /// The pattern as written.
        text: String,
        /// What is wrong with it.
        problem: PathError,
    },
    /// The glob does not parse.
    #[error("`{text}` is not a valid glob: {message}")]
    Glob {
        /// The pattern as written.
        text: String,
        /// The glob parser's message.
        message: String,
    },
}

/// A path pattern from an anchor, a configuration or the built-ins.
///
/// - A pattern with any of `* ? [ {` is a glob. `*` and `?` never match `/`;
///   `**` matches any number of segments (`**/*.md` is a Markdown file at
///   any depth, `*.md` one at the top).
/// - Anything else is a plain path covering itself and everything below it
///   (`docs` and `docs/` both cover `docs/a/b.md`); an empty pattern, `.`
///   and `**` cover everything.
///
/// Backslashes are separators (as in [`RepoPath`]), so glob escapes are not
/// available: write `[*]` for a literal `*`. `./` prefixes, `.` segments and
/// `..` that stays inside the repository are normalised away.
#[derive(Clone, Debug)]
pub struct PathPattern {
    text: String,
    kind: PatternKind,
}

#[derive(Clone, Debug)]
struct Globs {
    exact: GlobMatcher,
    folded: Glob,
    folded_matcher: GlobMatcher,
    /// For `X/**` and `X/*`: `X` itself, folded.
    folder: Option<Glob>,
    folder_matcher: Option<GlobMatcher>,
    /// `<folded>/**`: anything below a path the pattern matches (for the
    /// one-pass "no" of [`PatternSet`]).
    below: Glob,
    /// The folded segments before the first one with a glob character:
    /// everything the pattern matches lies at or below it.
    literal_prefix: String,
}

#[derive(Clone, Debug)]
enum PatternKind {
    Glob(Box<Globs>),
    Prefix { exact: String, folded: String },
}

impl PathPattern {
    /// Compiles `text`.
    pub fn new(text: &str) -> Result<Self, PatternError> {
        let trimmed = text.trim();
        let normal = normal_segments(trimmed)
            .map_err(|problem| PatternError::Path {
                text: text.to_owned(),
                problem,
            })?
            .join("/");
        let kind = if normal.contains(['*', '?', '[', '{']) {
            let compile = |pattern: &str| {
                GlobBuilder::new(pattern)
                    .literal_separator(true)
                    .backslash_escape(false)
                    .build()
                    .map_err(|e| PatternError::Glob {
                        text: text.to_owned(),
                        message: e.kind().to_string(),
                    })
            };
            let folded = PathKey::of(&normal).as_str().to_owned();
            let folder = ["/**", "/*"]
                .iter()
                .find_map(|suffix| folded.strip_suffix(suffix))
                .filter(|rest| !rest.is_empty())
                .map(compile)
                .transpose()?;
            let literal_prefix = folded
                .split('/')
                .take_while(|seg| !seg.contains(['*', '?', '[', '{']))
                .collect::<Vec<_>>()
                .join("/");
            let below = compile(&format!("{folded}/**"))?;
            let folded = compile(&folded)?;
            PatternKind::Glob(Box::new(Globs {
                literal_prefix,
                below,
                exact: compile(&normal)?.compile_matcher(),
                folded_matcher: folded.compile_matcher(),
                folder_matcher: folder.as_ref().map(Glob::compile_matcher),
                folded,
                folder,
            }))
        } else {
            PatternKind::Prefix {
                folded: PathKey::of(&normal).as_str().to_owned(),
                exact: normal,
            }
        };
        Ok(Self {
            text: text.to_owned(),
            kind,
        })
    }

    /// The pattern as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The path a plain (non-glob) pattern names; `None` for a glob or a
    /// pattern that covers everything.
    pub fn literal(&self) -> Option<RepoPath> {
        match &self.kind {
            PatternKind::Prefix { exact, .. } => RepoPath::new(exact).ok(),
            PatternKind::Glob(_) => None,
        }
    }

    /// Whether `path`, exactly as written, is matched: for patterns that
    /// grant something.
    pub fn matches(&self, path: &RepoPath) -> bool {
        match &self.kind {
            PatternKind::Glob(g) => g.exact.is_match(path.as_str()),
            PatternKind::Prefix { exact, .. } => under_prefix(exact, path.as_str()),
        }
    }

    /// Whether an action on `path` touches something this pattern restricts,
    /// under every spelling a common filesystem treats as the same file: the
    /// path itself, a folder the pattern names that holds it (`docs/*` covers
    /// `docs/legal/x.md`), or what the pattern names inside it when `path` is
    /// a folder above everything the pattern can match (`docs` holds all of
    /// `docs/legal/**`). For patterns that restrict.
    pub fn covers(&self, path: &RepoPath) -> bool {
        self.covers_key(&path.key())
    }

    /// [`covers`](Self::covers) with a key computed once for many patterns.
    pub fn covers_key(&self, key: &PathKey<'_>) -> bool {
        self.covers_all_of_key(key) || self.lies_below(key.as_str())
    }

    /// Whether `folder` and everything below it is restricted by this
    /// pattern (folded): the pattern names it, a folder holding it, or all of
    /// its contents (`X/**`, `X/*`). `docs/legal/**` covers all of
    /// `docs/legal`, not all of `docs`.
    pub fn covers_all_of(&self, folder: &RepoPath) -> bool {
        self.covers_all_of_key(&folder.key())
    }

    fn covers_all_of_key(&self, key: &PathKey<'_>) -> bool {
        let key = key.as_str();
        match &self.kind {
            PatternKind::Prefix { folded, .. } => under_prefix(folded, key),
            PatternKind::Glob(g) => {
                // The path, then each folder above it.
                std::iter::once(key)
                    .chain(key.rmatch_indices('/').map(|(i, _)| &key[..i]))
                    .any(|candidate| {
                        g.folded_matcher.is_match(candidate)
                            || g.folder_matcher
                                .as_ref()
                                .is_some_and(|f| f.is_match(candidate))
                    })
            }
        }
    }

    /// Whether every path the pattern can match lies strictly below `key`:
    /// a plain pattern's path lies below it, or a glob's literal folder is
    /// `key` or lies below it (a glob always has a segment after it).
    fn lies_below(&self, key: &str) -> bool {
        let strictly_below = |prefix: &str| {
            prefix.len() > key.len()
                && prefix.starts_with(key)
                && prefix.as_bytes()[key.len()] == b'/'
        };
        match &self.kind {
            PatternKind::Prefix { folded, .. } => strictly_below(folded),
            PatternKind::Glob(g) => {
                !key.is_empty() && (g.literal_prefix == key || strictly_below(&g.literal_prefix))
            }
        }
    }
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn under_prefix(prefix: &str, path: &str) -> bool {
    prefix.is_empty()
        || path == prefix
        || (path.len() > prefix.len()
            && path.starts_with(prefix)
            && path.as_bytes()[prefix.len()] == b'/')
}

/// Patterns compiled together: each path's key is computed once, and the
/// folded globs are matched in one pass (most paths match none).
#[derive(Clone, Debug, Default)]
pub struct PatternSet {
    patterns: Vec<PathPattern>,
    /// Every folded glob (and folder form) of `patterns`, for a quick "no";
    /// `None` (every pattern is tried) if the set could not be built.
    folded: Option<GlobSet>,
    /// For each glob of `folded`, the index of the pattern it belongs to.
    owners: Vec<usize>,
}

impl PatternSet {
    /// Compiles every text, or returns the first error.
    pub fn new<S: AsRef<str>>(texts: &[S]) -> Result<Self, PatternError> {
        texts
            .iter()
            .map(|t| PathPattern::new(t.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map(Self::of)
    }

    fn of(patterns: Vec<PathPattern>) -> Self {
        let mut builder = GlobSetBuilder::new();
        let mut owners = Vec::new();
        for (i, pattern) in patterns.iter().enumerate() {
            if let PatternKind::Glob(g) = &pattern.kind {
                builder.add(g.folded.clone());
                builder.add(g.below.clone());
                owners.extend([i, i]);
                if let Some(folder) = &g.folder {
                    builder.add(folder.clone());
                    owners.push(i);
                }
            }
        }
        Self {
            folded: builder.build().ok(),
            owners,
            patterns,
        }
    }

    /// Whether there are no patterns.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The patterns, in the order given.
    pub fn patterns(&self) -> &[PathPattern] {
        &self.patterns
    }

    /// The first pattern that [covers](PathPattern::covers) `path`.
    pub fn covering(&self, path: &RepoPath) -> Option<&PathPattern> {
        if self.patterns.is_empty() {
            return None;
        }
        self.covering_key(&path.key())
    }

    /// Whether some pattern covers all of the folder whose key is `key`
    /// (so every path below it is covered too).
    pub fn covers_all_of_key(&self, key: &PathKey<'_>) -> bool {
        self.patterns.iter().any(|p| p.covers_all_of_key(key))
    }

    /// The first pattern that covers the path whose key is `key`.
    pub fn covering_key(&self, key: &PathKey<'_>) -> Option<&PathPattern> {
        let k = key.as_str();
        let Some(set) = &self.folded else {
            return self.patterns.iter().find(|p| p.covers_key(key));
        };
        // One pass over the globs picks the candidates: the set holds each
        // glob, its folder form and `<glob>/**`, so a glob matching the
        // path or a folder above it shows. Only those patterns (and plain
        // paths, and patterns lying below the path: string compares) are
        // asked in full, in the order given.
        // Most paths match no glob: one allocation-free pass says so. The
        // globs that match are gathered in a buffer kept per thread, and
        // their patterns marked in a bit set on the stack when they fit.
        thread_local! {
            static MATCHED: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let mut small: u128 = 0;
        let mut large: Vec<bool> = Vec::new();
        if set.is_match(k) {
            MATCHED.with(|matched| {
                let mut matched = matched.borrow_mut();
                set.matches_into(k, &mut matched);
                if self.patterns.len() > 128 {
                    large = vec![false; self.patterns.len()];
                }
                for &i in matched.iter() {
                    let owner = self.owners[i];
                    match large.get_mut(owner) {
                        Some(slot) => *slot = true,
                        None => small |= 1 << owner,
                    }
                }
            });
        }
        let candidate = |i: usize| {
            large
                .get(i)
                .copied()
                .unwrap_or(i < 128 && small & (1 << i) != 0)
        };
        self.patterns
            .iter()
            .enumerate()
            .find(|(i, p)| {
                (candidate(*i)
                    || p.lies_below(k)
                    || matches!(&p.kind, PatternKind::Prefix { folded, .. } if under_prefix(folded, k)))
                    && p.covers_key(key)
            })
            .map(|(_, p)| p)
    }

    /// The first pattern that [matches](PathPattern::matches) `path`.
    pub fn matching(&self, path: &RepoPath) -> Option<&PathPattern> {
        self.patterns.iter().find(|p| p.matches(path))
    }
}

impl FromIterator<PathPattern> for PatternSet {
    fn from_iter<I: IntoIterator<Item = PathPattern>>(iter: I) -> Self {
        Self::of(iter.into_iter().collect())
    }
}

/// What a path reaches on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reach {
    /// Every other repository path the kernel passes through on the way:
    /// after each symlink is substituted, the whole path as it then stands,
    /// ending with the final target. Empty when no symlink is involved.
    pub reached: Vec<RepoPath>,
    /// The symlinks followed, in order (repository paths of the links).
    pub links: Vec<RepoPath>,
    /// A link points outside the repository (or `..` climbs out of it after
    /// a link): the outside place, as the link wrote it.
    pub outside: Option<PathBuf>,
    /// More than 40 links followed: the kernel would refuse (`ELOOP`).
    pub too_many_links: bool,
    /// The final target is a regular file with this many hard links (1 when
    /// it does not exist or the platform does not say).
    pub hard_links: u64,
    /// The final target, physically resolved.
    pub target: Option<RepoPath>,
    /// When the final target is an existing folder: every path below it
    /// (links not followed), sorted; what an action on the folder touches.
    pub contents: Vec<RepoPath>,
    /// The folder held more than [`MAX_FOLDER_ENTRIES`] entries, or a name
    /// that is not a repository path: `contents` is incomplete.
    pub contents_truncated: bool,
}

impl Reach {
    /// Whether writing to the path would go through a symlink.
    pub fn through_symlink(&self) -> bool {
        !self.links.is_empty()
    }
}

/// Most symlinks a path lookup follows before the kernel gives up.
const MAX_LINKS: usize = 40;

/// Most entries of a folder target that [`resolve`] lists in
/// [`Reach::contents`].
pub const MAX_FOLDER_ENTRIES: usize = 10_000;

/// What `written` reaches under `root`, resolved as the kernel does: each
/// segment that is a symlink is replaced by its target in turn, `..` is
/// applied after a link (to the link's target, not lexically), and a
/// symlink as the final segment is followed too. Segments that do not exist
/// are taken as folders a writer would create, and the walk goes on (so
/// `new/../link` still goes through `link`). Separators are the platform's:
/// on Unix a backslash is part of a name, as the kernel sees it. `written`
/// is checked like [`RepoPath::new`] (no NUL, not absolute) but is walked as
/// written, not lexically normalised. When the final target is an existing
/// folder, what it holds is listed in [`Reach::contents`].
pub fn resolve(root: &Path, written: &str) -> Result<Reach, PathError> {
    segments(written)?;
    let separators: &[char] = if cfg!(windows) { &['/', '\\'] } else { &['/'] };
    let mut pending: Vec<String> = written
        .split(separators)
        .rev()
        .filter(|s| !s.is_empty() && *s != ".")
        .map(str::to_owned)
        .collect();
    let real_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut reach = Reach {
        reached: Vec::new(),
        links: Vec::new(),
        outside: None,
        too_many_links: false,
        hard_links: 1,
        target: None,
        contents: Vec::new(),
        contents_truncated: false,
    };
    let mut current: Vec<String> = Vec::new();
    while let Some(segment) = pending.pop() {
        if segment == ".." {
            if current.pop().is_none() {
                if reach.links.is_empty() {
                    return Err(PathError::Escapes);
                }
                reach.outside = Some(PathBuf::from(".."));
                return Ok(reach);
            }
            continue;
        }
        current.push(segment);
        let here = current.iter().fold(real_root.clone(), |p, s| p.join(s));
        let Ok(meta) = std::fs::symlink_metadata(&here) else {
            // Not there (yet): a writer would create it; keep walking.
            continue;
        };
        if !meta.file_type().is_symlink() {
            continue;
        }
        if reach.links.len() >= MAX_LINKS {
            reach.too_many_links = true;
            return Ok(reach);
        }
        let Ok(target) = std::fs::read_link(&here) else {
            continue;
        };
        reach.links.push(RepoPath(current.join("/")));
        current.pop();
        if target.is_absolute() {
            let inside = target
                .strip_prefix(&real_root)
                .or_else(|_| target.strip_prefix(root));
            match inside {
                Ok(rest) => {
                    current.clear();
                    push_components(&mut pending, rest);
                }
                Err(_) => {
                    reach.outside = Some(target);
                    return Ok(reach);
                }
            }
        } else {
            push_components(&mut pending, &target);
        }
        // The whole path as it now stands, `..` applied lexically only for
        // the record; the walk goes on physically.
        let standing: Vec<&str> = current
            .iter()
            .map(String::as_str)
            .chain(pending.iter().rev().map(String::as_str))
            .collect();
        if let Ok(path) = RepoPath::new(&standing.join("/")) {
            reach.reached.push(path);
        }
    }
    let target = current.join("/");
    if let Some(last) = reach.reached.last()
        && last.as_str() != target
        && let Ok(path) = RepoPath::new(&target)
    {
        reach.reached.push(path);
    }
    reach.reached.dedup();
    reach.target = RepoPath::new(&target).ok();
    let here = current.iter().fold(real_root, |p, s| p.join(s));
    reach.hard_links = hard_links(&here);
    if let Some(folder) = reach.target.clone()
        && std::fs::symlink_metadata(&here).is_ok_and(|m| m.is_dir())
    {
        list_folder(&here, &folder, &mut reach);
    }
    Ok(reach)
}

/// Everything below `dir` (links not followed), up to [`MAX_FOLDER_ENTRIES`].
fn list_folder(dir: &Path, folder: &RepoPath, reach: &mut Reach) {
    let mut stack = vec![(dir.to_path_buf(), folder.as_str().to_owned())];
    while let Some((disk, name)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&disk) else {
            continue;
        };
        for entry in entries.flatten() {
            if reach.contents.len() >= MAX_FOLDER_ENTRIES {
                reach.contents_truncated = true;
                return;
            }
            let child = format!("{name}/{}", escape_os(&entry.file_name()));
            let Ok(path) = RepoPath::new(&child) else {
                // A name no repository path can spell (`..\\x` on Unix):
                // what the folder holds cannot all be judged.
                reach.contents_truncated = true;
                continue;
            };
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push((entry.path(), child));
            }
            reach.contents.push(path);
        }
    }
    reach.contents.sort();
}

/// Pushes `path`'s components so that the first is popped next.
fn push_components(pending: &mut Vec<String>, path: &Path) {
    let parts: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".to_owned()),
            _ => None,
        })
        .collect();
    pending.extend(parts.into_iter().rev());
}

/// Whether `a` and `b` are names of one existing file (same device and
/// inode); `false` where the platform does not say.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::symlink_metadata(a), std::fs::symlink_metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        false
    }
}

#[cfg(unix)]
fn hard_links(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .ok()
        .filter(|m| m.file_type().is_file())
        .map_or(1, |m| m.nlink())
}

#[cfg(not(unix))]
fn hard_links(_path: &Path) -> u64 {
    1
}

/// A file name as waypost shows it in every output (JSON, SARIF, text),
/// reversibly: a name that is valid UTF-8 with no backslash and no control
/// character is shown as it is; any other name has each `\` doubled and
/// each ASCII control character and each byte that is not part of valid
/// UTF-8 written `\xNN`. [`unescape_name`] gives the bytes
/// back, so every reported path names a real file.
pub fn escape_name(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) if !text.contains(|c: char| c == '\\' || c.is_control()) => Cow::Borrowed(text),
        _ => {
            let mut out = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                for c in chunk.valid().chars() {
                    if c == '\\' {
                        out.push_str("\\\\");
                    } else if c.is_ascii_control() {
                        // A newline in a name must not start a new line of
                        // a report.
                        out.push_str(&format!("\\x{:02X}", u32::from(c)));
                    } else {
                        out.push(c);
                    }
                }
                for b in chunk.invalid() {
                    out.push_str(&format!("\\x{b:02X}"));
                }
            }
            Cow::Owned(out)
        }
    }
}

/// The bytes of a name shown by [`escape_name`].
pub fn unescape_name(shown: &str) -> Cow<'_, [u8]> {
    if !shown.contains('\\') {
        return Cow::Borrowed(shown.as_bytes());
    }
    let bytes = shown.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'\\', Some(b'\\')) => {
                out.push(b'\\');
                i += 2;
            }
            (b'\\', Some(b'x')) => {
                let hex = shown
                    .get(i + 2..i + 4)
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        out.push(byte);
                        i += 4;
                    }
                    None => {
                        out.push(b'\\');
                        i += 1;
                    }
                }
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// The shown name of a path on disk (see [`escape_name`]).
pub fn escape_os(name: &std::ffi::OsStr) -> Cow<'_, str> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        escape_name(name.as_bytes())
    }
    #[cfg(not(unix))]
    {
        match name.to_string_lossy() {
            Cow::Borrowed(text) => escape_name(text.as_bytes()),
            Cow::Owned(text) => Cow::Owned(escape_name(text.as_bytes()).into_owned()),
        }
    }
}

/// `root` joined with the repository path `shown` (as [`escape_name`]
/// shows it, `/`-separated): the file it names on disk.
pub fn on_disk(root: &Path, shown: &str) -> PathBuf {
    let bytes = unescape_name(shown);
    let mut out = root.to_path_buf();
    for segment in bytes.split(|b| *b == b'/').filter(|s| !s.is_empty()) {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            out.push(std::ffi::OsStr::from_bytes(segment));
        }
        #[cfg(not(unix))]
        out.push(String::from_utf8_lossy(segment).as_ref());
    }
    out
}
