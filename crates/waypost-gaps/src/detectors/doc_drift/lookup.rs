//! What the broken-link detector asks about the repository after the walk,
//! only for the targets it found missing: whether git ignores a location,
//! and where a missing file probably moved.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::rc::Rc;

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use waypost_schemas::io::{Links, MAX_CONFIG_BYTES, read_text};

use crate::resolve::{join_disk, parent};

/// What a detector asks about the repository after the walk: the
/// repository (opened only when the scan read it, so the git files gix
/// reads have been checked by the engine; isolated, so no user
/// configuration changes what is read) and git's ignore rules.
pub(crate) fn after_walk<'a>(
    ctx: &crate::detector::ScanContext<'a>,
) -> (Option<gix::Repository>, IgnoreRules<'a>) {
    let repo = ctx
        .repo
        .and_then(|_| gix::open_opts(ctx.root, gix::open::Options::isolated()).ok());
    let exclude = repo.as_ref().map(|r| r.common_dir().join("info/exclude"));
    let ignore = IgnoreRules::new(ctx.root, exclude.as_deref());
    (repo, ignore)
}

/// Git's ignore rules for the locations asked about: each folder's
/// `.gitignore` is read (bounded, never through a link) the first time a
/// path below it is asked about, so what is kept follows the questions,
/// not the tree.
pub(crate) struct IgnoreRules<'a> {
    root: &'a Path,
    /// The repository's `info/exclude`, weaker than every `.gitignore`.
    exclude: Option<Gitignore>,
    /// Folder (repository-relative, `""` for the root) -> what applies to
    /// the paths in it, for the folders asked about and those above them.
    folders: HashMap<String, Rc<Below>>,
}

/// What applies to the paths in one folder.
struct Below {
    /// Git ignores the folder itself, and so everything in it.
    ignored: bool,
    /// The `.gitignore` files of the folder and of those above it, deepest
    /// first, each with the length of its folder's path (what is cut off a
    /// path to match it against that file's rules).
    rules: Vec<(usize, Rc<Gitignore>)>,
}

impl<'a> IgnoreRules<'a> {
    /// Rules for the tree at `root`, with the repository's exclude file
    /// when there is one.
    pub(crate) fn new(root: &'a Path, exclude_file: Option<&Path>) -> Self {
        Self {
            root,
            exclude: exclude_file.and_then(|file| rules_in(root, file)),
            folders: HashMap::new(),
        }
    }

    /// Whether git ignores `path` (repository-relative, normalised), as it
    /// decides: each folder on the way down first (nothing below an
    /// ignored folder is looked at, so a rule cannot re-include it), then
    /// the path itself; at each step the deepest `.gitignore` with a
    /// matching rule decides, its last matching rule winning, and
    /// `info/exclude` only when no `.gitignore` matches. Each folder is
    /// answered once however many paths lie below it.
    pub(crate) fn ignores(&mut self, path: &str, is_dir: bool) -> bool {
        let below = self.below(parent(path));
        below.ignored || self.decides(path, is_dir, &below.rules)
    }

    /// What applies in `folder`, worked out from what applies in the folder
    /// above it.
    fn below(&mut self, folder: &str) -> Rc<Below> {
        if let Some(known) = self.folders.get(folder) {
            return Rc::clone(known);
        }
        let (ignored, mut rules) = if folder.is_empty() {
            (false, Vec::new())
        } else {
            let above = self.below(parent(folder));
            let ignored = above.ignored || self.decides(folder, true, &above.rules);
            (ignored, above.rules.clone())
        };
        // Nothing in an ignored folder is looked at: its own rules do not matter.
        if !ignored {
            let base = join_disk(self.root, folder);
            if let Some(own) = rules_in(&base, &base.join(".gitignore")) {
                rules.insert(0, (folder.len(), Rc::new(own)));
            }
        }
        let below = Rc::new(Below { ignored, rules });
        self.folders.insert(folder.to_owned(), Rc::clone(&below));
        below
    }

    /// Whether the deepest of `rules` with a matching rule ignores `path`
    /// (or, when none matches, `info/exclude`).
    fn decides(&self, path: &str, is_dir: bool, rules: &[(usize, Rc<Gitignore>)]) -> bool {
        for (folder_len, rules) in rules {
            // The path below that folder (past its `/`).
            let below = path
                .get(folder_len + usize::from(*folder_len > 0)..)
                .unwrap_or("");
            match rules.matched(Path::new(below), is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        self.exclude
            .as_ref()
            .is_some_and(|rules| rules.matched(path, is_dir).is_ignore())
    }
}

/// The rules in `file`, matched relative to `base`. A file that is absent
/// or cannot be read safely (a FIFO, a link, too large: the walk refused
/// it too) gives no rules.
fn rules_in(base: &Path, file: &Path) -> Option<Gitignore> {
    let text = read_text(file, MAX_CONFIG_BYTES, Links::Refuse).ok()?;
    let mut builder = GitignoreBuilder::new(base);
    for line in text.lines() {
        // A line git cannot parse is one git ignores too.
        let _ = builder.add_line(None, line);
    }
    builder.build().ok()
}

/// For each of `paths` (repository-relative, without a leading or trailing
/// `/`) that the repository's index holds as the end of a path or of a
/// folder, the tracked files that hold it and are in the work tree (at most
/// [`MAX_SAME_NAME`] each): `data/x.json` is held by
/// `crates/a/tests/data/x.json`, `fixtures/set` by
/// `tests/fixtures/set/a.txt`. One pass over the index.
pub(crate) fn tracked_somewhere(
    repo: &gix::Repository,
    root: &Path,
    paths: &BTreeSet<&str>,
) -> BTreeMap<String, Vec<String>> {
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let Ok(index) = repo.index_or_empty() else {
        return found;
    };
    for entry in index.entries() {
        let Ok(path) = std::str::from_utf8(entry.path(&index)) else {
            continue;
        };
        let starts =
            std::iter::once(0).chain(memchr::memchr_iter(b'/', path.as_bytes()).map(|i| i + 1));
        for start in starts {
            let rest = &path[start..];
            let ends =
                memchr::memchr_iter(b'/', rest.as_bytes()).chain(std::iter::once(rest.len()));
            for end in ends {
                if let Some(&hit) = paths.get(&rest[..end]) {
                    let holders = found.entry(hit.to_owned()).or_default();
                    // A file deleted from the work tree holds nothing.
                    if holders.len() < MAX_SAME_NAME && root.join(path).is_file() {
                        holders.push(path.to_owned());
                    }
                }
            }
        }
    }
    found
}

/// How many index entries of one file name are kept at most: past this the
/// name is too common to say where a file went.
const MAX_SAME_NAME: usize = 8;

/// For each of `names` that exactly one file in the repository's index has
/// (as its last path segment) and that file exists in the work tree: that
/// file (repository-relative). One pass over the index, keeping only the
/// entries whose name is asked for.
pub(crate) fn unique_by_name(
    repo: &gix::Repository,
    root: &Path,
    names: &BTreeSet<&str>,
) -> BTreeMap<String, String> {
    let Ok(index) = repo.index_or_empty() else {
        return BTreeMap::new();
    };
    let mut found: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut previous: Option<&[u8]> = None;
    for entry in index.entries() {
        let path: &[u8] = entry.path(&index);
        // A conflicted path has an entry per stage, one after the other.
        if previous == Some(path) {
            continue;
        }
        previous = Some(path);
        let name = memchr::memrchr(b'/', path).map_or(path, |slash| &path[slash + 1..]);
        let Ok(name) = std::str::from_utf8(name) else {
            continue;
        };
        if let Some(&wanted) = names.get(name) {
            let paths = found.entry(wanted).or_default();
            if paths.len() <= MAX_SAME_NAME
                && let Ok(path) = std::str::from_utf8(path)
            {
                paths.push(path.to_owned());
            }
        }
    }
    found
        .into_iter()
        .filter_map(|(name, paths)| {
            if paths.len() > MAX_SAME_NAME {
                return None;
            }
            // An entry whose file is gone from the work tree is not where
            // the file went (it may be the missing target itself).
            let mut present = paths.into_iter().filter(|p| root.join(p).is_file());
            match (present.next(), present.next()) {
                (Some(only), None) => Some((name.to_owned(), only)),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::IgnoreRules;

    #[test]
    fn ignore_rules_decide_as_git_does() {
        let dir = tempfile::tempdir().expect("temp");
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).expect("mkdir");
        std::fs::write(root.join(".gitignore"), "*.log\n!keep.log\nbuild/\n").expect("write");
        std::fs::write(root.join("a/.gitignore"), "!x.log\nsecret/\n").expect("write");
        std::fs::write(root.join("a/b/.gitignore"), "*.tmp\n").expect("write");
        let mut rules = IgnoreRules::new(root, None);
        // What `git check-ignore --no-index` says of each.
        for (path, ignored) in [
            ("x.log", true),
            ("keep.log", false),
            ("a/x.log", false),
            ("a/y.log", true),
            ("build/out.txt", true),
            ("build/keep.log", true),
            ("a/secret/k.txt", true),
            ("a/b/c.tmp", true),
            ("c.tmp", false),
            ("a/b/d.txt", false),
            ("a/b/e.log", true),
        ] {
            assert_eq!(rules.ignores(path, false), ignored, "{path}");
        }
        assert!(rules.ignores("build", true));
        assert!(
            !rules.ignores("build", false),
            "only a folder matches `build/`"
        );
    }
}
