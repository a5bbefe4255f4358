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
    /// The git mode (`0o100644`, `0o100755`, `0o120000`, ...) of each kept
    /// stage-0 entry.
    pub modes: std::collections::BTreeMap<String, u32>,
}

impl RepoState {
    /// Whether the index has an entry for `path` (at any stage). Answers
    /// for the kept entries: ask only about paths a detector keeps.
    pub fn tracks(&self, path: &str) -> bool {
        // Sorted by path, then id, then stage.
        let start = self.index.partition_point(|(p, _, _)| p.as_str() < path);
        self.index.get(start).is_some_and(|(p, _, _)| p == path)
    }
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

/// Reads `root`'s repository, or `None` when it is not one, keeping the
/// index entries whose path `keep` accepts (and conflicted ones). `Err`
/// carries gix's message for a repository that cannot be read.
pub(crate) fn read(root: &Path, keep: &dyn Fn(&str) -> bool) -> Result<Option<RepoState>, String> {
    let Some(git_dir) = git_dir(root)? else {
        return Ok(None);
    };
    // gix reads these without a bound and would wait on a FIFO forever.
    check_git_files(&git_dir)?;
    // Isolated: no user or system configuration changes what is read.
    let repo = gix::open_opts(root, gix::open::Options::isolated()).map_err(|e| e.to_string())?;
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
    if let Ok(index) = repo.index_or_empty() {
        for entry in index.entries() {
            let path = entry.path(&index);
            let stage = entry.stage_raw();
            digest.update(stage.to_le_bytes());
            digest.update(entry.id.as_bytes());
            digest.update(path);
            digest.update([0]);
            // Only kept entries are turned into owned strings; a name that
            // is not UTF-8 is escaped as the walk shows it.
            let path = waypost_schemas::paths::escape_name(path.as_ref());
            if stage != 0 || keep(&path) {
                if stage == 0 {
                    state.modes.insert(path.to_string(), entry.mode.bits());
                }
                state
                    .index
                    .push((path.into_owned(), entry.id.to_string(), stage));
            }
        }
    }
    state.index_digest = waypost_schemas::canonical::hex(&digest.finalize());
    state.index.sort();
    Ok(Some(state))
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

/// Largest work-tree file whose blob id is computed to compare it with the
/// index; a larger one counts as changed.
const MAX_COMPARED_BYTES: u64 = 64 * 1024 * 1024;

/// What is at a tracked path in the work tree, as git would hash it.
pub(crate) enum WorkTree {
    /// Nothing there.
    Missing,
    /// Its blob id (a file's content, or a symlink's target path: git
    /// stores links that way; the link is never read through) and its git
    /// mode (`0o120000` link, `0o100755` executable, `0o100644` file).
    Blob(String, u32),
    /// Something git cannot compare (a FIFO, a device, a file over the cap).
    Other,
}

/// The work-tree state of the tracked path `shown` under `root`.
pub(crate) fn work_tree_blob(root: &Path, shown: &str) -> WorkTree {
    let path = waypost_schemas::paths::on_disk(root, shown);
    // A folder above it replaced by a link: git sees the path as gone.
    if let Some(parent) = shown.rsplit_once('/').map(|(p, _)| p)
        && let Ok(reach) = waypost_schemas::paths::resolve(root, parent)
        && (reach.through_symlink() || reach.outside.is_some())
    {
        return WorkTree::Other;
    }
    let Ok(meta) = std::fs::symlink_metadata(&path) else {
        return WorkTree::Missing;
    };
    let mode = if meta.file_type().is_symlink() {
        0o120_000
    } else if is_executable(&meta) {
        0o100_755
    } else {
        0o100_644
    };
    let bytes = if meta.file_type().is_symlink() {
        match std::fs::read_link(&path) {
            Ok(target) => link_bytes(&target),
            Err(_) => return WorkTree::Other,
        }
    } else {
        match waypost_schemas::io::read_file(
            &path,
            MAX_COMPARED_BYTES,
            waypost_schemas::io::Links::Refuse,
        ) {
            Ok(bytes) => bytes,
            Err(_) => return WorkTree::Other,
        }
    };
    blob_id(&bytes).map_or(WorkTree::Other, |id| WorkTree::Blob(id, mode))
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    false
}

/// A link target's bytes as git stores them.
fn link_bytes(target: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        target.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        target.to_string_lossy().replace('\\', "/").into_bytes()
    }
}

/// Git's blob id (SHA-1, hex) of `data`, as `git hash-object` computes it.
pub(crate) fn blob_id(data: &[u8]) -> Option<String> {
    gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, data)
        .ok()
        .map(|id| id.to_string())
}

/// The blob id of each of `paths` in HEAD's tree (`None`: not in HEAD).
pub(crate) fn head_blobs(
    root: &Path,
    paths: &[&str],
) -> std::collections::BTreeMap<String, Option<String>> {
    let repo = gix::open_opts(root, gix::open::Options::isolated()).ok();
    paths
        .iter()
        .map(|path| {
            let id = repo.as_ref().and_then(|repo| {
                let tree = repo.head_tree().ok()?;
                // Shown names are escaped; the tree holds the bytes.
                let bytes = waypost_schemas::paths::unescape_name(path);
                let entry = tree
                    .lookup_entry(bytes.split(|b| *b == b'/'))
                    .ok()
                    .flatten()?;
                Some(entry.object_id().to_string())
            });
            ((*path).to_owned(), id)
        })
        .collect()
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
pub(crate) fn commits_in_range(root: &Path, range: &str) -> Result<Vec<CommitInfo>, String> {
    let (base, tip) = range
        .split_once("..")
        .ok_or_else(|| format!("`{range}` is not a range (expected BASE..HEAD)"))?;
    let tip = if tip.is_empty() { "HEAD" } else { tip };
    let repo = gix::open_opts(root, gix::open::Options::isolated()).map_err(|e| e.to_string())?;
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
        diff_trees(&repo, parent_tree, Some(tree), "", &mut changed);
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
