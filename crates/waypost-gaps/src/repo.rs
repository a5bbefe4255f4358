//! Repository state through gix, read-only: nothing is locked or written.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// What the scanner reads from git.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepoState {
    /// The git directory.
    pub git_dir: PathBuf,
    /// HEAD's commit id (hex), if HEAD points at a commit.
    pub head: Option<String>,
    /// The branch HEAD names, if it is not detached.
    pub branch: Option<String>,
    /// HEAD names an object the repository does not have.
    pub head_missing: bool,
    /// HEAD is on an unborn branch (no commit yet).
    pub unborn: bool,
    /// SHA-256 (hex) over every index entry (stage, blob id, path).
    pub index_digest: String,
    /// The index entries detectors asked to keep (see
    /// [`crate::Detector::keeps_index_entry`]) and every conflicted entry:
    /// (path, blob id hex, stage), sorted. Not every entry: a large
    /// repository's index is not held through the scan.
    pub index: Vec<(String, String, u32)>,
    /// The changes `git status` reports for the kept paths (staged and in
    /// the work tree; untracked files are the walk's to find), sorted by
    /// path.
    pub changes: Vec<crate::changes::Change>,
    /// The index's submodule entries (gitlinks): their contents belong to
    /// another repository, so files below them are not untracked here.
    pub submodules: Vec<String>,
}

impl RepoState {
    /// Whether the index has an entry for `path` (at any stage). Answers
    /// for the kept entries: ask only about paths a detector keeps.
    pub fn tracks(&self, path: &str) -> bool {
        // Sorted by path, then id, then stage.
        let start = self.index.partition_point(|(p, _, _)| p.as_str() < path);
        self.index.get(start).is_some_and(|(p, _, _)| p == path)
    }

    /// The changes reported for `path` (kept paths only).
    pub fn changes_of(&self, path: &str) -> &[crate::changes::Change] {
        let start = self.changes.partition_point(|c| c.path.as_str() < path);
        let end = start + self.changes[start..].partition_point(|c| c.path == path);
        &self.changes[start..end]
    }

    /// Whether `path` lies inside a submodule's folder.
    pub fn in_submodule(&self, path: &str) -> bool {
        let start = self.submodules.partition_point(|s| s.as_str() < path);
        // A submodule `a` sorts before `a/x`; only the nearest smaller entry
        // can be a prefix folder.
        start
            .checked_sub(1)
            .and_then(|i| self.submodules.get(i))
            .is_some_and(|s| {
                path.strip_prefix(s.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
            })
    }
}

/// How gix opens a repository for a scan: the configuration git itself
/// would read for the same state (the repository's, the user's and the
/// system's, so `core.autocrlf` or `core.fileMode` set anywhere count as
/// they do for `git status`), but no environment variables and no
/// `include` files, and no section trusted for commands: no filter driver,
/// hook or helper named in configuration is ever run.
pub(crate) fn open_options() -> gix::open::Options {
    use gix::open::permissions::{Attributes, Config};
    use gix::sec::Permission;
    let mut permissions = gix::open::Permissions::isolated();
    permissions.config = Config {
        git_binary: false,
        system: true,
        git: true,
        user: true,
        env: false,
        includes: false,
    };
    permissions.attributes = Attributes {
        git_binary: false,
        system: true,
        git: true,
    };
    permissions.env.home = Permission::Allow;
    permissions.env.xdg_config_home = Permission::Allow;
    gix::open::Options::isolated()
        .permissions(permissions)
        .filter_config_section(|_| false)
}

/// Where the repository's git directory is, read safely: `.git` itself, or
/// the folder a `.git` file names (`gitdir: …`, a linked worktree). `None`
/// when there is no `.git`.
fn git_dir(root: &Path) -> Result<Option<PathBuf>, String> {
    let dot_git = root.join(".git");
    let Ok(meta) = std::fs::symlink_metadata(&dot_git) else {
        return Ok(None);
    };
    if meta.is_dir() {
        return Ok(Some(dot_git));
    }
    if !meta.is_file() {
        return Err(".git is neither a folder nor a regular file".into());
    }
    let text = read_git_file(&dot_git).ok_or(".git is a file waypost cannot read safely")?;
    let pointer = text
        .trim()
        .strip_prefix("gitdir:")
        .ok_or(".git is a file without a `gitdir:` line")?
        .trim();
    Ok(Some(root.join(pointer)))
}

/// The files gix and the walker read from a git directory, checked before
/// either reads them: each one that exists must be a regular file (not a
/// link, FIFO or device) within its cap. The error names the file.
fn check_git_files(git_dir: &Path) -> Result<PathBuf, String> {
    const INDEX_CAP: u64 = 2 * 1024 * 1024 * 1024;
    let check = |path: &Path, cap: u64| -> Result<(), String> {
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return Ok(());
        };
        if !meta.is_file() {
            return Err(format!("{} is not a regular file", path.display()));
        }
        if meta.len() > cap {
            return Err(format!("{} is larger than {cap} bytes", path.display()));
        }
        Ok(())
    };
    let small = waypost_schemas::io::MAX_CONFIG_BYTES;
    for name in [
        "HEAD",
        "config",
        "commondir",
        "packed-refs",
        "objects/info/alternates",
    ] {
        check(&git_dir.join(name), small)?;
    }
    check(&git_dir.join("index"), INDEX_CAP)?;
    let common = match read_git_file(&git_dir.join("commondir")) {
        Some(text) => git_dir.join(text.trim()),
        None => git_dir.to_owned(),
    };
    for name in [
        "config",
        "packed-refs",
        "info/exclude",
        "objects/info/alternates",
    ] {
        check(&common.join(name), small)?;
    }
    if let Some(head) = read_git_file(&git_dir.join("HEAD"))
        && let Some(reference) = head.trim().strip_prefix("ref: ")
    {
        if reference.split('/').any(|s| s == ".." || s.is_empty()) {
            return Err(format!(
                "HEAD names `{reference}`, which is not a reference"
            ));
        }
        check(&git_dir.join(reference), small)?;
        check(&common.join(reference), small)?;
    }
    Ok(common)
}

/// The repository's `info/exclude`, checked as the walker would need it:
/// `None` when there is none (or no repository).
pub(crate) fn exclude_file(root: &Path) -> Result<Option<PathBuf>, String> {
    let Some(git_dir) = git_dir(root)? else {
        return Ok(None);
    };
    let common = check_git_files(&git_dir)?;
    let exclude = common.join("info/exclude");
    Ok(std::fs::symlink_metadata(&exclude)
        .is_ok_and(|m| m.is_file())
        .then_some(exclude))
}

/// Opens `root`'s repository once for the whole scan, or `None` when it is
/// not one. `Err` names what cannot be read.
pub(crate) fn open(root: &Path) -> Result<Option<gix::Repository>, String> {
    let Some(git_dir) = git_dir(root)? else {
        return Ok(None);
    };
    // gix reads these without a bound and would wait on a FIFO forever.
    check_git_files(&git_dir)?;
    gix::open_opts(root, open_options())
        .map(Some)
        .map_err(|e| e.to_string())
}

/// What is left to learn after [`read`]: what `git status` says changed
/// about the kept paths, in two parts. The staged part needs only git's
/// own files: run it (on another thread, while the tree is walked) with
/// [`PendingChanges::staged`]. The work-tree part settles most files by
/// the stat data the walk saw when it opened them: run it after the walk
/// with [`PendingChanges::work_tree`]. Put both in [`RepoState::changes`].
pub(crate) struct PendingChanges {
    /// The work tree: gix's handle is for one thread, so the staged part
    /// opens its own (its git files were checked when the scan opened it).
    root: std::path::PathBuf,
    index: gix::index::File,
    /// HEAD's tree, when staged changes are possible: `None` when HEAD
    /// cannot be read (another detector reports that) or when the index's
    /// own record of its tree (the cache-tree, valid) names HEAD's tree, so
    /// index and HEAD hold the same files, as git concludes too.
    head_tree: Option<gix::ObjectId>,
}

impl PendingChanges {
    /// The staged changes of the paths `keep` accepts (the same `keep` as
    /// [`read`]).
    pub(crate) fn staged(
        &self,
        keep: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<crate::changes::Change>, String> {
        let Some(tree) = self.head_tree else {
            return Ok(Vec::new());
        };
        let repo = gix::open_opts(&self.root, open_options()).map_err(|e| e.to_string())?;
        crate::changes::staged_changes(&repo, &self.index, tree, keep)
    }

    /// The work-tree changes of the kept paths, `seen` holding what the
    /// walk saw of the kept files it opened, sorted by path (see
    /// [`crate::changes::work_tree_changes`]).
    pub(crate) fn work_tree(
        self,
        repo: &gix::Repository,
        seen: &[crate::changes::Seen],
    ) -> Result<Vec<crate::changes::Change>, String> {
        crate::changes::work_tree_changes(repo, self.index, seen)
    }
}

/// Reads the repository's state, keeping the index entries whose path
/// `keep` accepts (and conflicted ones). What changed about them is left
/// to the returned job (`None` when no entry is kept). `Err` carries
/// gix's message for a repository that cannot be read.
pub(crate) fn read(
    root: &Path,
    repo: &gix::Repository,
    keep: &dyn Fn(&str) -> bool,
) -> Result<(RepoState, Option<PendingChanges>), String> {
    let mut state = RepoState {
        git_dir: repo.git_dir().to_owned(),
        ..RepoState::default()
    };
    match repo.head_name() {
        Ok(Some(name)) => state.branch = Some(name.shorten().to_string()),
        Ok(None) => {}
        Err(e) => return Err(e.to_string()),
    }
    match repo.head_id() {
        Ok(id) => {
            state.head = Some(id.to_string());
            state.head_missing = !repo.has_object(id);
        }
        Err(_) => {
            // Unborn, or a reference to an object that is not there: the
            // branch's ref (loose or packed) tells them apart.
            let head_file = read_git_file(&state.git_dir.join("HEAD")).unwrap_or_default();
            let target = match head_file.trim().strip_prefix("ref: ") {
                Some(name) => loose_or_packed(&state.git_dir, name),
                None => Some(head_file.trim().to_owned()),
            };
            match target {
                Some(id) => {
                    state.head_missing = true;
                    state.head = Some(id);
                }
                None => state.unborn = true,
            }
        }
    }
    let mut digest = Sha256::new();
    let index = repo.index_or_empty().ok();
    // Which entries are kept, by position: the job comparing them gets
    // only those.
    let mut kept_at = Vec::new();
    if let Some(index) = &index {
        kept_at.reserve(index.entries().len());
        for entry in index.entries() {
            let path = entry.path(index);
            let stage = entry.stage_raw();
            digest.update(stage.to_le_bytes());
            digest.update(entry.id.as_bytes());
            digest.update(path);
            digest.update([0]);
            // Only kept entries are turned into owned strings; a name that
            // is not UTF-8 is escaped as the walk shows it.
            let path = waypost_schemas::paths::escape_name(path.as_ref());
            if entry.mode == gix::index::entry::Mode::COMMIT {
                state.submodules.push(path.to_string());
            }
            let kept = keep(&path);
            kept_at.push(kept);
            if stage != 0 || kept {
                state
                    .index
                    .push((path.into_owned(), entry.id.to_string(), stage));
            }
        }
    }
    state.index_digest = waypost_schemas::canonical::hex(&digest.finalize());
    // Git keeps the index by path, then stage: this order (path, id,
    // stage) already, unless a name had to be escaped or a conflicted
    // path's stages are not in the order of their ids.
    if !state.index.is_sorted() {
        state.index.sort();
    }
    state.submodules.sort();
    let Some(index) = index else {
        return Ok((state, None));
    };
    let kept: Vec<&str> = state
        .index
        .iter()
        .filter(|(_, _, stage)| *stage == 0)
        .map(|(p, _, _)| p.as_str())
        .collect();
    if kept.is_empty() {
        return Ok((state, None));
    }
    check_attribute_files(root, &state.git_dir, &kept)?;
    for submodule in state.submodules.iter().filter(|s| keep(s)) {
        check_submodule(root, submodule)?;
    }
    // A HEAD that cannot be read has no tree to compare the index with:
    // another detector reports it, and nothing is judged staged. A valid
    // cache-tree naming HEAD's tree settles it without reading a tree: git
    // trusts it the same way (it is the tree `git commit` would write).
    let head_tree = if state.head_missing {
        None
    } else {
        repo.head_tree_id_or_empty()
            .ok()
            .map(|id| id.detach())
            .filter(|tree| {
                !index
                    .tree()
                    .is_some_and(|cache| cache.num_entries.is_some() && cache.id == *tree)
            })
    };
    Ok((
        state,
        Some(PendingChanges {
            root: root.to_owned(),
            index: {
                let mut kept = (**index).clone();
                kept.remove_entries(|at, _, _| !kept_at.get(at).copied().unwrap_or(false));
                kept
            },
            head_tree,
        }),
    ))
}

/// A kept submodule is compared by the commit its HEAD names: the files of
/// its git folder that gix reads for that are checked first, as the
/// repository's own are. One that is not cloned (no `.git`) is fine.
fn check_submodule(root: &Path, submodule: &str) -> Result<(), String> {
    let folder = waypost_schemas::paths::on_disk(root, submodule);
    match git_dir(&folder) {
        Ok(Some(git_dir)) => check_git_files(&git_dir).map(|_| ()),
        Ok(None) => Ok(()),
        Err(why) => Err(format!("submodule {submodule}: {why}")),
    }
}

/// The `.gitattributes` and `.gitignore` files gix reads to compare the kept
/// paths (in each folder above one) and `info/attributes`, checked first:
/// each one that exists must be a small regular file, or the scan stops
/// with an error naming it rather than wait on a FIFO.
fn check_attribute_files(root: &Path, git_dir: &Path, kept: &[&str]) -> Result<(), String> {
    let cap = waypost_schemas::io::MAX_CONFIG_BYTES;
    let check = |path: &Path, in_tree: bool| -> Result<(), String> {
        match std::fs::symlink_metadata(path) {
            // A link is not followed: git and gix ignore an in-tree
            // `.gitattributes` or `.gitignore` that is a symbolic link.
            Ok(meta) if in_tree && meta.file_type().is_symlink() => Ok(()),
            Ok(meta) if !meta.is_file() => Err(format!("{} is not a regular file", path.display())),
            Ok(meta) if meta.len() > cap => {
                Err(format!("{} is larger than {cap} bytes", path.display()))
            }
            _ => Ok(()),
        }
    };
    check(&git_dir.join("info/attributes"), false)?;
    let mut folders: Vec<&str> = vec![""];
    for path in kept {
        let mut rest = *path;
        while let Some((parent, _)) = rest.rsplit_once('/') {
            folders.push(parent);
            rest = parent;
        }
    }
    folders.sort_unstable();
    folders.dedup();
    for folder in folders {
        let dir = waypost_schemas::paths::on_disk(root, folder);
        for name in [".gitattributes", ".gitignore"] {
            check(&dir.join(name), true)?;
        }
    }
    Ok(())
}

/// A small text file of the git directory, read without blocking or
/// following links, within [`waypost_schemas::io::MAX_CONFIG_BYTES`].
pub(crate) fn read_git_file(path: &Path) -> Option<String> {
    waypost_schemas::io::read_text(
        path,
        waypost_schemas::io::MAX_CONFIG_BYTES,
        waypost_schemas::io::Links::Refuse,
    )
    .ok()
}

/// The id a reference names, from its loose file or `packed-refs`.
fn loose_or_packed(git_dir: &Path, name: &str) -> Option<String> {
    if let Some(text) = read_git_file(&git_dir.join(name)) {
        return Some(text.trim().to_owned());
    }
    let packed = read_git_file(&git_dir.join("packed-refs"))?;
    packed.lines().find_map(|line| {
        let (id, reference) = line.split_once(' ')?;
        (reference == name).then(|| id.to_owned())
    })
}

/// One commit of a range: its id, message, and the paths it changed
/// against its first parent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitInfo {
    /// Commit id (hex).
    pub id: String,
    /// The full message.
    pub message: String,
    /// Paths changed against the first parent, sorted.
    pub changed: Vec<String>,
}

/// The commits in `BASE..TIP` (TIP defaults to HEAD), newest first.
pub(crate) fn commits_in_range(
    repo: &gix::Repository,
    range: &str,
) -> Result<Vec<CommitInfo>, String> {
    let (base, tip) = range
        .split_once("..")
        .ok_or_else(|| format!("`{range}` is not a range (expected BASE..HEAD)"))?;
    let tip = if tip.is_empty() { "HEAD" } else { tip };
    let resolve = |spec: &str| {
        repo.rev_parse_single(spec)
            .map(|id| id.detach())
            .map_err(|e| format!("cannot resolve `{spec}`: {e}"))
    };
    let (base, tip) = (resolve(base)?, resolve(tip)?);
    let walk = repo
        .rev_walk([tip])
        .with_hidden([base])
        .all()
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for info in walk {
        let info = info.map_err(|e| e.to_string())?;
        let commit = repo.find_commit(info.id).map_err(|e| e.to_string())?;
        let tree = commit.tree_id().map_err(|e| e.to_string())?.detach();
        let parent_tree = commit
            .parent_ids()
            .next()
            .and_then(|p| repo.find_commit(p).ok())
            .and_then(|p| p.tree_id().ok().map(|t| t.detach()));
        let mut changed = Vec::new();
        diff_trees(repo, parent_tree, Some(tree), "", &mut changed);
        changed.sort();
        out.push(CommitInfo {
            id: info.id.to_string(),
            message: commit.message_raw_sloppy().to_string(),
            changed,
        });
    }
    Ok(out)
}

/// Paths whose blobs differ between two trees; identical subtrees are skipped.
fn diff_trees(
    repo: &gix::Repository,
    a: Option<gix::ObjectId>,
    b: Option<gix::ObjectId>,
    prefix: &str,
    out: &mut Vec<String>,
) {
    if a == b {
        return;
    }
    let entries = |id: Option<gix::ObjectId>| {
        let mut map = std::collections::BTreeMap::new();
        if let Some(tree) = id.and_then(|id| repo.find_tree(id).ok()) {
            for entry in tree.iter().flatten() {
                // Shown as the walk shows it (escaped when not plain UTF-8).
                map.insert(
                    waypost_schemas::paths::escape_name(entry.filename().as_ref()).into_owned(),
                    (entry.oid().to_owned(), entry.mode().is_tree()),
                );
            }
        }
        map
    };
    let (ea, eb) = (entries(a), entries(b));
    let mut names: Vec<&String> = ea.keys().chain(eb.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let (x, y) = (ea.get(name), eb.get(name));
        if x == y {
            continue;
        }
        let path = format!("{prefix}{name}");
        let subtree = |e: Option<&(gix::ObjectId, bool)>| e.filter(|e| e.1).map(|e| e.0);
        if subtree(x).is_some() || subtree(y).is_some() {
            diff_trees(repo, subtree(x), subtree(y), &format!("{path}/"), out);
        }
        if x.is_some_and(|e| !e.1) || y.is_some_and(|e| !e.1) {
            out.push(path);
        }
    }
}
