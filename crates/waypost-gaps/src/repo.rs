//! Repository state through gix, read-only: nothing is locked or written.

use std::path::{Path, PathBuf};

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
    /// Index entries: (path, blob id hex, stage).
    pub index: Vec<(String, String, u32)>,
}

/// Reads `root`'s repository, or `None` when it is not one. `Err` carries
/// gix's message for a repository that cannot be read.
pub(crate) fn read(root: &Path) -> Result<Option<RepoState>, String> {
    if !root.join(".git").exists() {
        return Ok(None);
    }
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
            let head_file = std::fs::read_to_string(state.git_dir.join("HEAD")).unwrap_or_default();
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
    if let Ok(index) = repo.index_or_empty() {
        for entry in index.entries() {
            state.index.push((
                entry.path(&index).to_string(),
                entry.id.to_string(),
                entry.stage_raw(),
            ));
        }
    }
    state.index.sort();
    Ok(Some(state))
}

/// The id a reference names, from its loose file or `packed-refs`.
fn loose_or_packed(git_dir: &Path, name: &str) -> Option<String> {
    if let Ok(text) = std::fs::read_to_string(git_dir.join(name)) {
        return Some(text.trim().to_owned());
    }
    let packed = std::fs::read_to_string(git_dir.join("packed-refs")).ok()?;
    packed.lines().find_map(|line| {
        let (id, reference) = line.split_once(' ')?;
        (reference == name).then(|| id.to_owned())
    })
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
                let entry = tree.lookup_entry_by_path(path).ok().flatten()?;
                Some(entry.object_id().to_string())
            });
            ((*path).to_owned(), id)
        })
        .collect()
}
