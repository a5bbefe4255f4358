//! Where the program that reads a path looks for it.
//!
//! A path written in a file means nothing on its own: `cargo test` runs a
//! crate's tests in the crate's folder, `include_str!` reads next to the
//! source file, pytest runs from its rootdir, mdBook turns `x.md` into
//! `x.html`, MkDocs and VitePress serve pages from their own folders. A
//! detector that judges such a path asks this module where its reader
//! looks, and reports it missing only when it is in none of those places.
//!
//! Each reader's rule is a small module of its own:
//!
//! | Reader | Module | Where it looks |
//! |---|---|---|
//! | Cargo tests and benches | [`rust`] | the package root (`Cargo.toml` with `[package]`); `include_str!`/`include_bytes!` next to the source file; `CARGO_MANIFEST_DIR` joins at the package root |
//! | pytest | [`pytest`] | the rootdir (the folder of the `pytest.ini`, `pyproject.toml`, `tox.ini` or `setup.cfg` that configures it), its `testpaths`, the test file's folder |
//! | Node (JavaScript, TypeScript) | [`node`] | the nearest `package.json` folder, the file's folder |
//! | mdBook | [`mdbook`] | below `book.toml`'s `src`: `x.html` is built from `x.md`, `index.html` from `README.md` |
//! | MkDocs | [`mkdocs`] | below `mkdocs.yml`'s `docs_dir`: `x.html` and `x/` are built from `x.md` (or `x/index.md`) |
//! | VitePress | [`vitepress`] | below the folder holding `.vitepress/`: `/x` and `x` are pages built from `x.md`, `/x` also from `public/x` |
//! | Markdown as a forge shows it | [`DocSites::places`] | the document's folder; `/x` from the repository root |
//! | Translated documentation | [`translations`] | a page in a language folder (`docs/de/…`) also as its English counterpart (`docs/en/…`), whose pages and images a translation falls back to |
//!
//! A new ecosystem is one more module and one more line in the function
//! that chooses by file ([`code_places`]); a new site generator, one more
//! field of [`DocSites`], found in `DocSites::of_page` and asked in
//! `DocSites::site_places`.
//!
//! What each folder holds (which of these files) is read once per folder
//! asked about, with one directory listing, and kept for the scan:
//! memory follows the folders that hold files with references, not the
//! tree.

pub(crate) mod mdbook;
pub(crate) mod mkdocs;
pub(crate) mod node;
pub(crate) mod pytest;
pub(crate) mod rust;
pub(crate) mod translations;
pub(crate) mod vitepress;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use waypost_schemas::io::{Links, MAX_CONFIG_BYTES, read_text};
use waypost_schemas::paths::RepoPath;

/// Files whose presence makes a folder the root of a package, where a
/// reader also looks for the paths its files name.
pub(crate) const MANIFESTS: [&str; 10] = [
    "Cargo.toml",
    "pyproject.toml",
    "setup.py",
    "package.json",
    "go.mod",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "Gemfile",
    "composer.json",
];

/// What one folder holds that decides how paths below it are read.
#[derive(Debug, Default)]
pub(crate) struct Folder {
    /// A `Cargo.toml` with a `[package]` table.
    pub(crate) cargo_package: bool,
    /// A `package.json`.
    pub(crate) node_package: bool,
    /// Any of [`MANIFESTS`].
    pub(crate) manifest: bool,
    /// The `testpaths` of the pytest configuration here, when a file here
    /// configures pytest (an empty list when it names none).
    pub(crate) pytest: Option<Vec<String>>,
    /// A `book.toml`: its `src` folder (relative to this one).
    pub(crate) book_src: Option<String>,
    /// An `mkdocs.yml`: its `docs_dir` (relative to this one).
    pub(crate) mkdocs_docs: Option<String>,
    /// A `.vitepress` folder.
    pub(crate) vitepress: bool,
    /// The `srcDir` its configuration names (relative to this folder; `""`
    /// when it names none).
    pub(crate) vitepress_src: String,
    /// The configuration of a site generator waypost has no rule for
    /// (Docusaurus, Hugo, Jekyll, Sphinx, Astro, ...).
    pub(crate) other_site: bool,
}

/// What the folders asked about so far hold, each read once; a detector
/// keeps one for the scan and empties it when the scan ends.
#[derive(Default)]
pub(crate) struct FolderCache(
    Mutex<HashMap<String, Arc<Folder>>>,
    /// Folder -> whether it and every folder above it is a real folder
    /// (not a link): only those are read or looked into.
    Mutex<HashMap<String, bool>>,
);

impl FolderCache {
    /// Forgets every folder (a detector reused for another scan starts
    /// afresh).
    pub(crate) fn clear(&self) {
        self.0.lock().expect("no panics while locked").clear();
        self.1.lock().expect("no panics while locked").clear();
    }
}

/// The folders of the tree at `root`, read through a [`FolderCache`].
#[derive(Clone, Copy)]
pub(crate) struct Folders<'a> {
    root: &'a Path,
    known: &'a FolderCache,
}

impl<'a> Folders<'a> {
    pub(crate) fn new(root: &'a Path, known: &'a FolderCache) -> Self {
        Self { root, known }
    }

    /// What `dir` (repository-relative, `""` for the root) holds.
    pub(crate) fn get(&self, dir: &str) -> Arc<Folder> {
        if let Some(known) = self
            .known
            .0
            .lock()
            .expect("no panics while locked")
            .get(dir)
        {
            return Arc::clone(known);
        }
        // Read outside the lock: another thread may read the same folder
        // at the same time, and both get the same answer. A folder reached
        // through a link is not read: it may lie outside the repository.
        let folder = Arc::new(if self.is_dir(dir) {
            read_folder(&join_disk(self.root, dir))
        } else {
            Folder::default()
        });
        self.known
            .0
            .lock()
            .expect("no panics while locked")
            .entry(dir.to_owned())
            .or_insert(folder)
            .clone()
    }

    /// The nearest folder from `dir` up to the root (both included) for
    /// which `wanted` holds, with what it holds.
    pub(crate) fn nearest(
        &self,
        dir: &str,
        wanted: impl Fn(&Folder) -> bool,
    ) -> Option<(String, Arc<Folder>)> {
        let mut dir = dir;
        loop {
            let folder = self.get(dir);
            if wanted(&folder) {
                return Some((dir.to_owned(), folder));
            }
            if dir.is_empty() {
                return None;
            }
            dir = parent(dir);
        }
    }

    /// Whether `path` (repository-relative, normalised) exists inside the
    /// repository: reached through real folders only (a folder that is a
    /// link may lead out of it), the last segment not followed (a link
    /// that is there is there). One `lstat`, nothing read.
    pub(crate) fn exists(&self, path: &str) -> bool {
        self.is_dir(parent(path)) && std::fs::symlink_metadata(join_disk(self.root, path)).is_ok()
    }

    /// Whether `path` (repository-relative, normalised, `""` for the root)
    /// is a real folder below real folders, none of them a link. Each
    /// folder is asked about once.
    pub(crate) fn is_dir(&self, path: &str) -> bool {
        if path.is_empty() {
            return true;
        }
        if let Some(known) = self
            .known
            .1
            .lock()
            .expect("no panics while locked")
            .get(path)
        {
            return *known;
        }
        let real = self.is_dir(parent(path))
            && std::fs::symlink_metadata(join_disk(self.root, path)).is_ok_and(|m| m.is_dir());
        self.known
            .1
            .lock()
            .expect("no panics while locked")
            .insert(path.to_owned(), real);
        real
    }
}

/// Where `dir` (repository-relative, as reported; `""` for the root) is
/// on disk below `root`.
pub(crate) fn join_disk(root: &Path, dir: &str) -> std::path::PathBuf {
    if dir.is_empty() {
        root.to_owned()
    } else {
        waypost_schemas::paths::on_disk(root, dir)
    }
}

/// One listing of `dir`, then the few files that matter read (bounded,
/// never through a link).
fn read_folder(dir: &Path) -> Folder {
    let mut folder = Folder::default();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return folder;
    };
    let text = |name: &str| read_text(&dir.join(name), MAX_CONFIG_BYTES, Links::Refuse).ok();
    let mut pytest_rank: Option<usize> = None;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if MANIFESTS.contains(&name) {
            folder.manifest = true;
        }
        match name {
            "Cargo.toml" => {
                folder.cargo_package = text(name).is_some_and(|t| rust::has_package(&t));
            }
            "package.json" => folder.node_package = true,
            "pytest.ini" | ".pytest.ini" | "pyproject.toml" | "tox.ini" | "setup.cfg" => {
                // The first in pytest's own order wins, whatever order the
                // folder lists them in.
                let rank = pytest::precedence(name);
                if let Some(paths) = text(name).and_then(|t| pytest::configures(name, &t))
                    && pytest_rank.is_none_or(|r| rank < r)
                {
                    folder.pytest = Some(paths);
                    pytest_rank = Some(rank);
                }
            }
            "book.toml" => folder.book_src = text(name).map(|t| mdbook::src(&t)),
            "mkdocs.yml" | "mkdocs.yaml" => {
                folder.mkdocs_docs = text(name).map(|t| mkdocs::docs_dir(&t));
            }
            ".vitepress" => {
                folder.vitepress = entry.file_type().is_ok_and(|t| t.is_dir());
                if folder.vitepress {
                    folder.vitepress_src = vitepress::src_dir(&dir.join(".vitepress"));
                }
            }
            // Site generators without a module of their own: their pages'
            // links cannot be judged for sure.
            "docusaurus.config.js"
            | "docusaurus.config.ts"
            | "docusaurus.config.mjs"
            | "hugo.toml"
            | "hugo.yaml"
            | "hugo.json"
            | "_config.yml"
            | "conf.py"
            | "astro.config.mjs"
            | "astro.config.ts"
            | "gatsby-config.js"
            | "_quarto.yml"
            | "antora.yml" => folder.other_site = true,
            _ => {}
        }
    }
    folder
}

/// The folder of `path` (`""` at the root).
pub(crate) fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// `base/path`, or `path` at the root.
pub(crate) fn join(base: &str, path: &str) -> String {
    if base.is_empty() {
        path.to_owned()
    } else {
        format!("{base}/{path}")
    }
}

/// `a/./b/../c` -> `a/c`; `None` if it is not a path inside the repository.
pub(crate) fn normalise(path: &str) -> Option<String> {
    RepoPath::new(path).ok().map(|p| p.as_str().to_owned())
}

/// `path` with `base` and a `/` in front removed, when it lies below `base`
/// (`""` is above everything).
pub(crate) fn below<'p>(path: &'p str, base: &str) -> Option<&'p str> {
    if base.is_empty() {
        return Some(path);
    }
    path.strip_prefix(base)?.strip_prefix('/')
}

/// A file that is a test's input rather than part of the project: below a
/// fixture folder ([`is_fixture`]), or below a test folder (`tests`,
/// `test`, `__tests__`) unless it is a README (which explains the tests to
/// a reader). Test inputs are often broken on purpose: a broken link, a
/// file that is not there.
pub(crate) fn is_test_input(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let readme = name.to_ascii_lowercase().starts_with("readme.");
    is_fixture(path) || (!readme && path.split('/').rev().skip(1).any(is_test_folder))
}

/// A file below a fixture folder (`fixtures`, `testdata`, `test_data`,
/// `__snapshots__`, a `data`, `snapshots` or `samples` folder of a test
/// folder, ...): data a test reads, kept as it is on purpose (a BOM, CRLF,
/// bytes that are not UTF-8, a broken link).
pub(crate) fn is_fixture(path: &str) -> bool {
    // The folders: every segment but the last (the file's name).
    let folders = path.rsplit_once('/').map_or("", |(folders, _)| folders);
    let mut in_tests = false;
    for folder in folders.split('/') {
        if matches!(
            folder,
            "fixtures" | "testdata" | "test_data" | "test-data" | "__fixtures__" | "__snapshots__"
        ) || (in_tests && matches!(folder, "data" | "snapshots" | "samples"))
        {
            return true;
        }
        in_tests |= is_test_folder(folder);
    }
    false
}

fn is_test_folder(folder: &str) -> bool {
    matches!(folder, "tests" | "test" | "__tests__")
}

/// How a path found in source code is used, as far as the line shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CodeUse {
    /// Read at run time, relative to the working directory.
    Runtime,
    /// Compiled in relative to the source file (`include_str!`,
    /// `include_bytes!`).
    Include,
    /// Joined to the package root at compile time (`CARGO_MANIFEST_DIR`).
    ManifestDir,
}

/// Where the reader of `file` (repository-relative) looks for `written`,
/// a path found in it and used as `usage` says: normalised candidates,
/// most likely first, duplicates removed. Chosen by the file's kind: Rust,
/// Python, JavaScript or TypeScript; for any other file, its folder and
/// the repository root.
pub(crate) fn code_places(
    folders: &Folders<'_>,
    file: &str,
    written: &str,
    usage: CodeUse,
) -> Vec<String> {
    let extension = file.rsplit_once('.').map_or("", |(_, e)| e);
    let mut bases: Vec<String> = match extension {
        "rs" => rust::bases(folders, file, usage),
        "py" => pytest::bases(folders, file),
        "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" => node::bases(folders, file),
        _ => vec![parent(file).to_owned()],
    };
    // A test run from the repository root (a CI script, a workspace-level
    // runner) finds it there too.
    if usage == CodeUse::Runtime {
        bases.push(String::new());
    }
    candidates(bases.iter().map(|b| join(b, written)))
}

/// What builds a document: the sites above it that waypost has a rule
/// for, whether some other site generator does, and its English
/// counterpart when it is a translated page. Worked out once per document,
/// however many of its links are looked up.
pub(crate) struct DocSites {
    /// The source folder of the mdBook that builds it.
    book_src: Option<String>,
    /// The `docs_dir` of the MkDocs site that builds it.
    mkdocs_docs: Option<String>,
    /// The source folder of the VitePress site that builds it.
    vitepress: Option<String>,
    /// A site generator waypost has no rule for sits above it.
    other_site: bool,
    /// Some site's configuration sits above it (one waypost has a rule for
    /// or not), whether or not that site builds it.
    near_site: bool,
    /// The English page it translates, and what builds that page.
    english: Option<(String, Box<DocSites>)>,
}

impl DocSites {
    /// What builds the document `doc`.
    pub(crate) fn of(folders: &Folders<'_>, doc: &str) -> Self {
        let mut sites = Self::of_page(folders, doc);
        sites.english = english_page(folders, doc).map(|page| {
            let built = Self::of_page(folders, &page);
            (page, Box::new(built))
        });
        sites
    }

    fn of_page(folders: &Folders<'_>, doc: &str) -> Self {
        Self {
            book_src: site_source(folders, doc, |f| f.book_src.as_deref()),
            mkdocs_docs: site_source(folders, doc, |f| f.mkdocs_docs.as_deref()),
            vitepress: site_source(folders, doc, vitepress::source),
            other_site: folders.nearest(parent(doc), |f| f.other_site).is_some(),
            near_site: folders
                .nearest(parent(doc), |f| {
                    f.book_src.is_some() || f.mkdocs_docs.is_some() || f.vitepress || f.other_site
                })
                .is_some(),
            english: None,
        }
    }

    /// Whether a site generator builds the document (one waypost has a rule
    /// for, one it has none for, or a translation's English site): its
    /// links name pages and a site root, not only files.
    pub(crate) fn on_a_site(&self) -> bool {
        self.book_src.is_some()
            || self.mkdocs_docs.is_some()
            || self.vitepress.is_some()
            || self.other_site
            || self.english.is_some()
    }

    /// Whether a site generator waypost has no rule for sits above it.
    pub(crate) fn other_site(&self) -> bool {
        self.other_site
    }

    /// Whether a relative link to a page, `target`, from `doc` leads where
    /// only the deployed sites can say, with some site's configuration
    /// above `doc`: out of every site that builds `doc` (out of an mdBook's
    /// `src`: a sibling book, an older edition's pages), or, from a
    /// document the site does not build, to an `.html` page (a page another
    /// tool renders beside the site). A document no site builds links to
    /// files as a forge shows them, so its other links stay judged.
    pub(crate) fn leaves_its_site(&self, doc: &str, target: &str) -> bool {
        if !self.near_site || target.starts_with('/') {
            return false;
        }
        let sources = [&self.book_src, &self.mkdocs_docs, &self.vitepress];
        if sources.iter().all(|source| source.is_none()) {
            let name = target.rsplit('/').next().unwrap_or(target);
            return name.ends_with(".html") || name.ends_with(".htm");
        }
        let Some(resolved) = normalise(&join(parent(doc), target)) else {
            // Above the repository's root: outside every site.
            return true;
        };
        !sources
            .into_iter()
            .flatten()
            .any(|source| below(&resolved, source).is_some())
    }

    /// Where a reader of the document `doc` looks for a link's `target`
    /// (percent-decoded, without `#fragment` or `?query`): the document's
    /// folder (`/x` from the repository root), as a forge shows Markdown,
    /// and where the site generator that builds the document looks (mdBook,
    /// MkDocs, VitePress), the first being where the link is reported.
    pub(crate) fn places(&self, doc: &str, target: &str) -> Vec<String> {
        let plain = match target.strip_prefix('/') {
            Some(rooted) => rooted.to_owned(),
            None => join(parent(doc), target),
        };
        let mut places = vec![plain];
        self.site_places(doc, target, &mut places);
        if let Some((counterpart, sites)) = &self.english {
            // A rooted link starts at the site's root, which only a site
            // generator knows.
            if !target.starts_with('/') {
                places.push(join(parent(counterpart), target));
            }
            sites.site_places(counterpart, target, &mut places);
        }
        candidates(places)
    }

    /// Where the site generators that build `doc` look for `target`.
    fn site_places(&self, doc: &str, target: &str, places: &mut Vec<String>) {
        if let Some(src) = &self.book_src {
            places.extend(mdbook::places(src, doc, target));
        }
        if let Some(docs) = &self.mkdocs_docs {
            places.extend(mkdocs::places(docs, doc, target));
        }
        if let Some(site) = &self.vitepress {
            places.extend(vitepress::places(site, doc, target));
        }
    }
}

/// [`DocSites::places`] of `doc` for one `target`.
#[cfg(test)]
pub(crate) fn doc_places(folders: &Folders<'_>, doc: &str, target: &str) -> Vec<String> {
    DocSites::of(folders, doc).places(doc, target)
}

/// The source folder of the nearest site above `doc` whose configuration
/// `source` reads (the folder it names, relative to the configuration's
/// folder; `""` for that folder itself), when `doc` lies below it.
fn site_source(
    folders: &Folders<'_>,
    doc: &str,
    source: impl Fn(&Folder) -> Option<&str>,
) -> Option<String> {
    let (site, folder) = folders.nearest(parent(doc), |f| source(f).is_some())?;
    let named = source(&folder)?;
    let pages = if named.is_empty() {
        site
    } else {
        normalise(&join(&site, named))?
    };
    below(doc, &pages).is_some().then_some(pages)
}

/// The English counterpart of the translated page `doc` whose English
/// folder exists (each language-tag folder tried, deepest first).
fn english_page(folders: &Folders<'_>, doc: &str) -> Option<String> {
    translations::english_counterparts(doc)
        .into_iter()
        .find(|(english, _)| folders.is_dir(english))
        .map(|(_, page)| page)
}

/// The normalised, distinct paths of `raw` (those that leave the
/// repository dropped), in order.
fn candidates(raw: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for path in raw {
        // A trailing `/` names a folder; the folder is what must exist.
        let trimmed = path.trim_end_matches('/');
        if let Some(normal) = normalise(trimmed)
            && seen.insert(normal.clone())
        {
            out.push(normal);
        }
    }
    out
}

/// A page a site generator builds from a source: `x.html` from `x.md`
/// ([`html_sources`]); `x/` and `x` without a Markdown or HTML extension
/// (`guide`, `v2.0`) from `x.md`, `x/index.md` or `x/README.md`. The source
/// candidates for `path` (relative, joined already), `path` itself
/// included.
pub(crate) fn page_sources(path: &str) -> Vec<String> {
    let mut out = html_sources(path);
    if path.ends_with(".html") || path.ends_with(".md") {
        return out;
    }
    let base = path.trim_end_matches('/');
    if !base.is_empty() && !path.ends_with('/') {
        out.push(format!("{base}.md"));
    }
    if path.ends_with('/')
        || path.is_empty()
        || !base.rsplit('/').next().unwrap_or("").contains('.')
    {
        if path.ends_with('/') && !base.is_empty() {
            out.push(format!("{base}.md"));
        }
        out.push(join(base, "index.md"));
        out.push(join(base, "README.md"));
    }
    out
}

/// `path` and, for a built page, its source: `x.html` from `x.md`, and
/// `index.html` from `README.md` too.
pub(crate) fn html_sources(path: &str) -> Vec<String> {
    let mut out = vec![path.to_owned()];
    if let Some(stem) = path.strip_suffix(".html") {
        out.push(format!("{stem}.md"));
        if let Some(dir) = stem.strip_suffix("index") {
            out.push(format!("{dir}README.md"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_inputs_are_told_apart_from_documentation() {
        assert!(is_test_input("tests/testsuite/markdown/src/links.md"));
        assert!(is_test_input("crates/x/tests/fixtures/README.md"));
        assert!(is_test_input("src/__snapshots__/a.md"));
        assert!(is_test_input("crates/x/tests/data/case/tree/README.md"));
        assert!(!is_test_input("data/README.md"));
        assert!(!is_test_input("tests/testsuite/README.md"));
        assert!(!is_test_input("docs/testing.md"));
        assert!(
            !is_test_input("spec/v1/protocol.md"),
            "a specification is documentation"
        );
        assert!(!is_test_input("README.md"));
    }

    #[test]
    fn pages_come_from_markdown_sources() {
        assert_eq!(page_sources("a/b.html"), ["a/b.html", "a/b.md"]);
        assert_eq!(
            page_sources("a/index.html"),
            ["a/index.html", "a/index.md", "a/README.md"]
        );
        assert_eq!(
            page_sources("guide/"),
            ["guide/", "guide.md", "guide/index.md", "guide/README.md"]
        );
        assert_eq!(
            page_sources("guide/features"),
            [
                "guide/features",
                "guide/features.md",
                "guide/features/index.md",
                "guide/features/README.md"
            ]
        );
        assert_eq!(page_sources("logo.svg"), ["logo.svg", "logo.svg.md"]);
        assert_eq!(
            page_sources("releases/v2.0"),
            ["releases/v2.0", "releases/v2.0.md"]
        );
    }

    #[test]
    fn candidates_are_normalised_inside_the_repository_and_distinct() {
        assert_eq!(
            candidates([
                "a/./b".into(),
                "a/b/".into(),
                "../x".into(),
                "c/../d".into()
            ]),
            ["a/b", "d"]
        );
    }

    #[test]
    fn a_folder_is_read_once_and_the_nearest_match_is_found() {
        let dir = tempfile::tempdir().expect("temp");
        let root = dir.path();
        std::fs::create_dir_all(root.join("crates/a/tests")).expect("mkdir");
        std::fs::write(root.join("Cargo.toml"), "[workspace]\n").expect("write");
        std::fs::write(
            root.join("crates/a/Cargo.toml"),
            "[package]\nname = \"a\"\n",
        )
        .expect("write");
        let cache = FolderCache::default();
        let folders = Folders::new(root, &cache);
        let (found, folder) = folders
            .nearest("crates/a/tests", |f| f.cargo_package)
            .expect("a package");
        assert_eq!(found, "crates/a");
        assert!(folder.manifest);
        // The workspace root's manifest has no [package].
        assert!(!folders.get("").cargo_package);
        assert!(folders.get("").manifest);
        assert!(folders.nearest("", |f| f.cargo_package).is_none());
    }
}
