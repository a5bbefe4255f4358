//! What changed, judged the way `git status` judges it: staged changes
//! (HEAD's tree against the index) and work-tree changes (the index against
//! the files), through gix's status and filter support.
//!
//! The work tree is compared by the index's stat data first and hashed only
//! where stat cannot settle it (a different size or time, or a racily clean
//! entry written in the same second as the index). Hashing applies git's
//! conversions: `text`, `eol`, `core.autocrlf`, `core.eol`, `ident` and
//! `working-tree-encoding`, with `core.fileMode` and `core.symlinks`
//! honoured. Nothing is written: the index is not refreshed, and no lock
//! (not even git's optional one) is taken.
//!
//! Clean and smudge filter drivers (`filter=lfs` and the like) are never
//! run: a scan does not execute programs named in configuration. A path
//! whose content differs and whose `filter` attribute names a configured
//! driver is reported as [`ChangeKind::Unknown`], never as modified: the
//! driver's clean output, which git would compare, is not known. A filter
//! with no driver configured is a no-op for git as for waypost.

use gix::bstr::{BStr, ByteSlice as _};

/// One change git reports for a path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    /// In the index, not in HEAD.
    StagedAdded,
    /// In HEAD, not in the index.
    StagedDeleted,
    /// In both, with a different blob or mode.
    StagedModified,
    /// In the index, gone from the work tree.
    Deleted,
    /// Its content differs from the index after git's conversions.
    Modified,
    /// A file became a link or something else (or the other way round).
    TypeChanged,
    /// Only its executable bit changed (seen only with `core.fileMode` on).
    ModeChanged,
    /// A submodule checked out at another commit than the index records.
    SubmoduleChanged,
    /// Added with `git add --intent-to-add`: in the index with no content
    /// yet, new to git all the same.
    IntentToAdd,
    /// Its bytes differ from the index, but git would pass it through the
    /// named clean filter driver first, which waypost does not run: whether
    /// git sees a change is not known.
    Unknown {
        /// The `filter` attribute's value.
        filter: String,
    },
}

impl ChangeKind {
    /// Staged (HEAD against the index) rather than in the work tree.
    pub fn is_staged(&self) -> bool {
        matches!(
            self,
            Self::StagedAdded | Self::StagedDeleted | Self::StagedModified
        )
    }

    /// A short stable name (`staged_deleted`, `modified`, …), recorded in
    /// a finding's evidence: two changes of one path are two findings.
    pub fn id(&self) -> &'static str {
        match self {
            Self::StagedAdded => "staged_added",
            Self::StagedDeleted => "staged_deleted",
            Self::StagedModified => "staged_modified",
            Self::Deleted => "deleted",
            Self::Modified => "modified",
            Self::TypeChanged => "type_changed",
            Self::ModeChanged => "mode_changed",
            Self::SubmoduleChanged => "submodule_changed",
            Self::IntentToAdd => "intent_to_add",
            Self::Unknown { .. } => "unknown",
        }
    }

    /// How a report says it: "`path` …".
    pub fn describe(&self) -> String {
        match self {
            Self::StagedAdded => "is staged as a new file".into(),
            Self::StagedDeleted => "is staged for deletion".into(),
            Self::StagedModified => "has staged changes".into(),
            Self::Deleted => "was deleted in the work tree".into(),
            Self::Modified => "has unstaged changes".into(),
            Self::TypeChanged => {
                "changed its type in the work tree (file, link, folder or special file)".into()
            }
            Self::ModeChanged => "changed its executable bit".into(),
            Self::SubmoduleChanged => {
                "is a submodule checked out at another commit than the index records".into()
            }
            Self::IntentToAdd => "is a new file, added with intent to add".into(),
            Self::Unknown { filter } => format!(
                "may have changed: its bytes differ from the index, but git would compare it through the `{filter}` filter driver, which waypost does not run"
            ),
        }
    }
}

/// A path git reports as changed, and how.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Change {
    /// Repository-relative, shown as the walk shows it (escaped when not
    /// plain UTF-8).
    pub path: String,
    /// What changed.
    pub kind: ChangeKind,
}

fn shown(path: &BStr) -> String {
    waypost_schemas::paths::escape_name(path.as_ref()).into_owned()
}

/// What the walk learnt of a kept file: its path (as the walk shows it) and
/// the metadata of the file it opened (one `fstat`, no second lookup).
pub(crate) type Seen = (String, gix::index::fs::Metadata);

/// The staged changes of the paths `keep` accepts: HEAD's `tree` against
/// `index`.
pub(crate) fn staged_changes(
    repo: &gix::Repository,
    index: &gix::index::File,
    tree: gix::ObjectId,
    keep: &dyn Fn(&str) -> bool,
) -> Result<Vec<Change>, String> {
    let mut out = Vec::new();
    staged(repo, index, tree, keep, &mut out)?;
    Ok(out)
}

/// The work-tree changes of the stage-0 entries of `kept` (which holds
/// only the kept entries: any other would be missing from the work tree's
/// view). An entry whose file the walk opened (`seen`, sorted by path) is
/// settled by that file's stat data where gix's own rules settle it
/// without reading: same type and executable bit, stat data matching the
/// index, not racily clean. gix's status judges the rest.
pub(crate) fn work_tree_changes(
    repo: &gix::Repository,
    mut kept: gix::index::File,
    seen: &[Seen],
) -> Result<Vec<Change>, String> {
    if !seen.is_empty() {
        let stat = repo
            .stat_options()
            .map_err(|e| format!("read core.checkStat and core.trustCTime: {e}"))?;
        let fs = repo
            .filesystem_options()
            .map_err(|e| format!("read core.fileMode and core.symlinks: {e}"))?;
        let timestamp = kept.timestamp();
        kept.remove_entries(|_, path, entry| {
            let path = shown(path);
            let Ok(at) = seen.binary_search_by(|(p, _)| p.as_str().cmp(&path)) else {
                return false;
            };
            // Racily clean (changed within the index's own second): stat
            // cannot settle it, gix reads it.
            stat_unchanged(entry, &seen[at].1, stat, fs)
                .is_some_and(|now| !now.is_racy(timestamp, stat))
        });
    }
    let mut out = Vec::new();
    work_tree(repo, kept, &mut out)?;
    Ok(out)
}

/// The file's stat data when `metadata` (of the file at `entry`'s path,
/// reached through real folders) shows the entry unchanged by stat data
/// alone, as gix's status decides before it would read the file: the same
/// checks, in the same order, through gix's own functions. `None` when
/// stat cannot tell.
fn stat_unchanged(
    entry: &gix::index::Entry,
    metadata: &gix::index::fs::Metadata,
    stat: gix::index::entry::stat::Options,
    fs: gix::fs::Capabilities,
) -> Option<gix::index::entry::Stat> {
    use gix::index::entry::Flags;
    // Entries gix's status treats specially (skipped, intent to add,
    // conflicted, submodules) are left to it.
    if entry.stage_raw() != 0
        || entry.mode.is_submodule()
        || entry.flags.intersects(
            Flags::UPTODATE
                | Flags::SKIP_WORKTREE
                | Flags::ASSUME_VALID
                | Flags::FSMONITOR_VALID
                | Flags::INTENT_TO_ADD,
        )
        || metadata.is_dir()
        || entry
            .mode
            .change_to_match_fs(metadata, fs.symlink, fs.executable_bit)
            .is_some()
    {
        return None;
    }
    let now = gix::index::entry::Stat::from_fs(metadata).ok()?;
    (now.matches(&entry.stat, stat) && (!entry.id.is_empty_blob() || entry.stat.size == 0))
        .then_some(now)
}

/// HEAD's tree against the index, as `git diff --cached` without renames.
fn staged(
    repo: &gix::Repository,
    index: &gix::index::File,
    tree: gix::ObjectId,
    keep: &dyn Fn(&str) -> bool,
    out: &mut Vec<Change>,
) -> Result<(), String> {
    use gix::diff::index::ChangeRef;
    repo.tree_index_status(
        &tree,
        index,
        None,
        gix::status::tree_index::TrackRenames::Disabled,
        |change, _, _| {
            let (path, kind) = match &change {
                ChangeRef::Addition { location, .. } => (location, ChangeKind::StagedAdded),
                ChangeRef::Deletion { location, .. } => (location, ChangeKind::StagedDeleted),
                ChangeRef::Modification { location, .. } => (location, ChangeKind::StagedModified),
                // Renames are off; were one reported, both ends changed.
                ChangeRef::Rewrite {
                    source_location,
                    location,
                    ..
                } => {
                    let source = shown(source_location.as_ref());
                    if keep(&source) {
                        out.push(Change {
                            path: source,
                            kind: ChangeKind::StagedDeleted,
                        });
                    }
                    (location, ChangeKind::StagedAdded)
                }
            };
            let path = shown(path.as_ref());
            if keep(&path) {
                out.push(Change { path, kind });
            }
            Ok(std::ops::ControlFlow::Continue(()))
        },
    )
    .map_err(|e| format!("compare HEAD with the index: {e}"))?;
    Ok(())
}

/// The kept stage-0 entries of the index against the work tree, through
/// gix's status.
fn work_tree(
    repo: &gix::Repository,
    mut kept: gix::index::File,
    out: &mut Vec<Change>,
) -> Result<(), String> {
    use gix::status::index_worktree::Item;
    use gix::status::plumbing::index_as_worktree::{Change as WorkChange, EntryStatus};

    // The index holds only the kept entries (see `changes`): the status of
    // a repository's other files costs nothing. Conflicted ones are the
    // unmerged-entries detector's.
    kept.remove_entries(|_, _, entry| entry.stage_raw() != 0);
    if kept.entries().is_empty() {
        return Ok(());
    }
    let filters = configured_filters(repo);
    let mut attributes = if filters.is_empty() {
        None
    } else {
        Some(
            repo.attributes_only(
                &kept,
                gix::worktree::stack::state::attributes::Source::WorktreeThenIdMapping,
            )
            .map_err(|e| format!("read .gitattributes: {e}"))?,
        )
    };
    let iter = repo
        .status(gix::progress::Discard)
        .map_err(|e| format!("prepare the status: {e}"))?
        .index(gix::worktree::IndexPersistedOrInMemory::InMemory(kept))
        .untracked_files(gix::status::UntrackedFiles::None)
        .index_worktree_rewrites(None)
        // A submodule is compared by the commit it is checked out at: its
        // own work tree (its files, its untracked files) belongs to another
        // repository, and walking it would read files no check has seen.
        .index_worktree_submodules(gix::status::Submodule::Given {
            ignore: gix::submodule::config::Ignore::Dirty,
            check_dirty: false,
        })
        .into_index_worktree_iter(Vec::new())
        .map_err(|e| format!("compare the index with the work tree: {e}"))?;
    for item in iter {
        let item = item.map_err(|e| format!("compare the index with the work tree: {e}"))?;
        let Item::Modification {
            rela_path, status, ..
        } = item
        else {
            continue;
        };
        let kind = match status {
            EntryStatus::Change(WorkChange::Removed) => ChangeKind::Deleted,
            EntryStatus::Change(WorkChange::Type { .. }) => ChangeKind::TypeChanged,
            EntryStatus::Change(WorkChange::Modification {
                content_change: Some(()),
                ..
            }) => match filter_of(attributes.as_mut(), &filters, rela_path.as_bstr()) {
                Some(filter) => ChangeKind::Unknown { filter },
                None => ChangeKind::Modified,
            },
            EntryStatus::Change(WorkChange::Modification {
                executable_bit_changed: true,
                ..
            }) => ChangeKind::ModeChanged,
            EntryStatus::Change(WorkChange::SubmoduleModification(status)) => {
                if status.is_dirty() == Some(true) {
                    ChangeKind::SubmoduleChanged
                } else {
                    continue;
                }
            }
            EntryStatus::IntentToAdd => ChangeKind::IntentToAdd,
            EntryStatus::Change(WorkChange::Modification { .. })
            | EntryStatus::NeedsUpdate(_)
            | EntryStatus::Conflict { .. } => continue,
        };
        out.push(Change {
            path: shown(rela_path.as_bstr()),
            kind,
        });
    }
    Ok(())
}

/// The names of the filter drivers configuration defines (with a `clean`
/// or `process` command), which git would run and waypost does not.
fn configured_filters(repo: &gix::Repository) -> Vec<String> {
    let config = repo.config_snapshot();
    let mut names: Vec<String> = config
        .plumbing()
        .sections_by_name("filter")
        .into_iter()
        .flatten()
        .filter(|section| section.value("clean").is_some() || section.value("process").is_some())
        .filter_map(|section| section.header().subsection_name().map(|n| n.to_string()))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The `filter` attribute of `path`, when it names one of `filters`.
fn filter_of(
    attributes: Option<&mut gix::AttributeStack<'_>>,
    filters: &[String],
    path: &BStr,
) -> Option<String> {
    let stack = attributes?;
    let mut outcome = stack.selected_attribute_matches(["filter"]);
    let platform = stack.at_entry(path, None).ok()?;
    platform.matching_attributes(&mut outcome);
    outcome
        .iter_selected()
        .find_map(|m| match m.assignment.state {
            gix::attrs::StateRef::Value(value) => {
                let value = value.as_bstr().to_string();
                filters.contains(&value).then_some(value)
            }
            _ => None,
        })
}

/// What `git status` reports as changed in the repository at `root`,
/// staged and in the work tree, judged as described in this module (and
/// read-only). Untracked files are not listed: a scan's walk finds those.
/// `Ok(None)` when `root` holds no repository.
///
/// # Errors
/// [`crate::ScanError::Repository`] when the repository cannot be read.
pub fn git_changes(root: &std::path::Path) -> Result<Option<Vec<Change>>, crate::ScanError> {
    let error = |reason| crate::ScanError::Repository {
        path: root.to_owned(),
        reason,
    };
    let Some(repo) = crate::repo::open(root).map_err(error)? else {
        return Ok(None);
    };
    let (_, pending) = crate::repo::read(root, &repo, &|_| true).map_err(error)?;
    let Some(pending) = pending else {
        return Ok(Some(Vec::new()));
    };
    let mut changes = pending.staged(&|_| true).map_err(error)?;
    changes.extend(pending.work_tree(&repo, &[]).map_err(error)?);
    changes.sort();
    changes.dedup();
    Ok(Some(changes))
}
