//! `broken_markdown_link`: Markdown references to files that do not exist.
//!
//! During the walk each document is parsed as CommonMark
//! ([`super::markdown`]) and every reference is resolved with one `stat`;
//! only the ones that miss are kept. After the walk, and only if some
//! missed, the repository is asked two things about them
//! ([`super::lookup`]): whether git ignores the location (then it is a
//! build output or a run artifact, not drift), and whether a file of that
//! name exists exactly once elsewhere (then the gap says where it probably
//! moved). Memory follows the findings, not the tree.

use std::cell::OnceCell;
use std::collections::BTreeSet;
use std::sync::{LazyLock, Mutex};

use regex::Regex;
use waypost_schemas::{Excerpt, GapType, RiskLevel};

use super::lookup::{after_walk, unique_by_name};
use super::markdown::{Kind, Reference, references};
use crate::detector::{Detector, Finding, ScanContext, ScannedFile};
use crate::resolve::{DocSites, FolderCache, Folders, join, normalise, parent};

/// A code span that looks like a repository path: folders, then a file
/// name with an extension.
static CODE_PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[A-Za-z0-9_.-]+/)+[A-Za-z0-9_.-]+\.[A-Za-z0-9]{1,8}$").expect("literal")
});

/// Markdown links and code-span paths to files that do not exist.
/// Keeps the references that miss until the walk ends.
#[derive(Default)]
pub(crate) struct BrokenMarkdownLink {
    /// Each missing reference with its finding, built on the walker's
    /// thread; `finish` only drops ignored ones and adds `moved_to`.
    missing: Mutex<Vec<(Missing, Finding)>>,
    /// What the folders above documents hold (manifests, site generator
    /// configuration): each folder is read once however many documents
    /// sit below it (memory follows folders with documents, not files).
    folders: FolderCache,
}

/// A reference whose target is not on disk, judged after the walk.
#[derive(Debug)]
struct Missing {
    /// The document (repository-relative).
    doc: String,
    line: u32,
    column: u32,
    /// The document's line, for the excerpt.
    line_text: String,
    /// What kind of reference it is (`link`, `image`, `definition`,
    /// `html`, `code_span`).
    reference: &'static str,
    code_span: bool,
    /// The path as written: without angle brackets, `#fragment` or
    /// `?query`, not percent-decoded. Replacing exactly this text at
    /// `line`:`column` rewrites the reference.
    written: String,
    /// Where a reader would look (repository-relative, normalised), the
    /// first one reported: for a link, where a forge looks (a site
    /// generator's places were looked in too, see [`crate::resolve`]); for
    /// a code span each of the document's folder, its package root and the
    /// repository root whose first folder exists.
    resolved: Vec<String>,
    /// Written with a trailing `/`.
    is_dir: bool,
    /// Only likely missing: a link starting with `/` in a page a site
    /// generator builds (the site's root depends on where it is deployed),
    /// or a link to a page (`x`, `x/`, `x.html`) in a site waypost has no
    /// rule for.
    uncertain: bool,
}

impl Detector for BrokenMarkdownLink {
    fn id(&self) -> &'static str {
        "broken_markdown_link"
    }
    fn gap_type(&self) -> GapType {
        GapType::DocDrift
    }
    fn description(&self) -> &'static str {
        "a Markdown link or a path in a code span points at a file that does not exist"
    }
    fn wants(&self, path: &str) -> bool {
        path.ends_with(".md")
    }
    fn check_file(&self, file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, _out: &mut Vec<Finding>) {
        let Some(text) = file.text_str() else {
            return;
        };
        // A document under a name shown escaped (not UTF-8, or holding a
        // backslash): links relative to it cannot be resolved as written,
        // so none is judged rather than all reported missing.
        if file.path.contains('\\') || crate::resolve::is_test_input(file.path) {
            return;
        }
        let history = is_history(file.path);
        let doc = Document::new(Folders::new(file.root, &self.folders), file.path, text);
        let mut last: Option<(String, Excerpt)> = None;
        let missing: Vec<(Missing, Finding)> = references(text)
            .iter()
            .filter_map(|r| match r.kind {
                // A changelog tells what was true then: the files its
                // prose names may since have moved, as they should.
                Kind::CodeSpan if history => None,
                Kind::CodeSpan => doc.code_span(r),
                Kind::Link | Kind::Image | Kind::Definition | Kind::Html => doc.link(r),
            })
            .map(|mut m| {
                // References that show the same part of a line (all of a
                // short one) share its excerpt: one hash and one redaction.
                let excerpt = match &last {
                    Some((text, excerpt)) if *text == m.line_text => excerpt.clone(),
                    _ => {
                        let excerpt = Excerpt::new(m.doc.clone(), &m.line_text);
                        last = Some((std::mem::take(&mut m.line_text), excerpt.clone()));
                        excerpt
                    }
                };
                let finding = self.finding(&m, excerpt);
                // The excerpt holds what is shown of the line now.
                m.line_text = String::new();
                (m, finding)
            })
            .collect();
        if !missing.is_empty() {
            self.missing
                .lock()
                .expect("no panics while locked")
                .extend(missing);
        }
    }
    fn finish(&self, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        // Take the state, so a detector value reused for another scan starts empty.
        let missing = std::mem::take(&mut *self.missing.lock().expect("no panics while locked"));
        self.folders.clear();
        if missing.is_empty() {
            return;
        }
        let (repo, mut ignore) = after_walk(ctx);
        // A reference into a git-ignored location (a build output, a run
        // artifact) names something that is made, not something lost.
        let missing: Vec<(Missing, Finding)> = missing
            .into_iter()
            .filter(|(m, _)| !m.resolved.iter().any(|p| ignore.ignores(p, m.is_dir)))
            .collect();
        let names: BTreeSet<&str> = missing
            .iter()
            .filter(|(m, _)| !m.is_dir)
            .filter_map(|(m, _)| m.resolved.first().map(|p| file_name(p)))
            .collect();
        let moved = match &repo {
            Some(repo) if !names.is_empty() => unique_by_name(repo, ctx.root, &names),
            _ => Default::default(),
        };
        for (m, finding) in missing {
            let moved_to = (!m.is_dir)
                .then(|| m.resolved.first().and_then(|p| moved.get(file_name(p))))
                .flatten();
            out.push(match moved_to {
                Some(to) => match site_root_of(&m, to) {
                    Some(root) => served_from(finding, &m, root, to),
                    None => with_moved_to(finding, &m, to),
                },
                None => finding,
            });
        }
    }
}

/// A changelog or release notes: a history of the project.
fn is_history(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let stem = name.split('.').next().unwrap_or("");
    matches!(
        stem,
        "changelog"
            | "changes"
            | "history"
            | "news"
            | "release-notes"
            | "release_notes"
            | "releasenotes"
            | "releases"
    )
}

impl BrokenMarkdownLink {
    /// The finding for a missing reference, as if nothing of its name
    /// existed elsewhere ([`with_moved_to`] adds where it probably went).
    fn finding(&self, m: &Missing, excerpt: Excerpt) -> Finding {
        let verb = if m.code_span { "names" } else { "links to" };
        let written = &m.written;
        let title = format!("{} {verb} `{written}`, which does not exist", m.doc);
        let description = description(m, !(m.code_span || m.uncertain));
        // A code span is prose: it may name a file the reader is to create,
        // or one of another project. Likely, unless the file is known to
        // have moved (see `with_moved_to`).
        let mut finding = Finding::of(self, RiskLevel::Low, &m.doc, title)
            .describe(description)
            .at_line_with(m.line, excerpt)
            .remedy("fix the path or remove the reference", false)
            .likely_if(m.code_span || m.uncertain)
            .with_evidence("reference", m.reference);
        if let Some(location) = finding.locations.first_mut() {
            location.start_column = Some(m.column);
        }
        // What a plan needs to rewrite exactly this reference: the text to
        // replace (at the location) and, when known, where the file went.
        finding.with_evidence("written_as", written.as_str())
    }
}

/// What a missing reference means. One that is only likely missing says
/// why it may not be: a code span may name an example or a file the reader
/// is to create; a link rooted in a site's page, or to a page of a site
/// waypost has no rule for, leads where the site's build puts it.
fn description(m: &Missing, certain: bool) -> String {
    let resolved = m.resolved.first().map_or("", String::as_str);
    if certain {
        format!(
            "`{resolved}` is not in the repository: the documentation no longer matches the code."
        )
    } else if m.code_span {
        format!(
            "`{resolved}` is not in the repository. If the text means a file of this repository, the documentation no longer matches the code; if it names an example or a file the reader creates, nothing is wrong."
        )
    } else {
        format!(
            "`{resolved}` is not in the repository. The page is built by a site whose build decides where the link leads, which waypost cannot tell for sure; if nothing is built there, the documentation no longer matches the code."
        )
    }
}

/// The folder a site serves at its root, when a link rooted at `/` names
/// a file whose whole path is found below it: `/img/logo.png` with the
/// only `logo.png` at `website/static/img/logo.png` is a site's static
/// file (`website/static/`), not a file that moved.
fn site_root_of<'t>(m: &Missing, to: &'t str) -> Option<&'t str> {
    if m.code_span || !m.written.starts_with('/') {
        return None;
    }
    let path = m.resolved.first()?;
    to.strip_suffix(path.as_str())?.strip_suffix('/')
}

/// `finding` for the rooted link `m` whose path is found at `file`, below
/// `root`: only likely missing, since a site that serves `root` at its own
/// root serves the file where the link says.
fn served_from(mut finding: Finding, m: &Missing, root: &str, file: &str) -> Finding {
    finding.likely = true;
    finding.description = description(m, false);
    finding.description.push_str(&format!(
        " A site serving `{root}/` at its root serves `{file}` there."
    ));
    finding
}

/// `finding` for the missing reference `m`, whose file probably moved
/// `to`: "did you mean", the remedy that rewrites it, and `moved_to`.
fn with_moved_to(mut finding: Finding, m: &Missing, to: &str) -> Finding {
    let written = &m.written;
    finding.title.push_str(&format!("; did you mean `{to}`?"));
    // A code span naming a file that moved within the folder it names is a
    // stale reference, not prose. One whose only namesake is elsewhere
    // (`src/app/store.js` against an example's `examples/x/store.js`, a
    // layout's `docs/mkdocs.yml` against the root's) is as likely prose as
    // it was. A link stays as sure as it was: where a site starts is what
    // made it unsure, and a file of that name says nothing about that.
    if m.code_span
        && m.resolved
            .first()
            .is_some_and(|resolved| moved_within(resolved, to))
    {
        finding.likely = false;
        finding.description = description(m, true);
    }
    finding.description.push_str(&format!(
        " The only file of that name is `{to}`: it probably moved there."
    ));
    finding
        .remedy(
            &format!("replace `{written}` with the path to `{to}`"),
            false,
        )
        .with_evidence("moved_to", to)
}

/// Whether a file at `from` that is now at `to` moved within the folders
/// `from` names: both start with the same folder, and `to` is at least as
/// deep (`backend/app/x.py` to `backend/app/core/x.py`, `src/old/x.rs` to
/// `src/new/x.rs`), rather than to some other part of the tree or up to a
/// shared file (`layouts/docs/base.html` to `layouts/base.html`).
fn moved_within(from: &str, to: &str) -> bool {
    fn first(dir: &str) -> Option<&str> {
        dir.split('/').next().filter(|f| !f.is_empty())
    }
    let (from, to) = (parent(from), parent(to));
    first(from).is_some_and(|f| first(to) == Some(f))
        && to.split('/').count() >= from.split('/').count()
}

/// One document being checked, with what is worked out about it only
/// when a reference needs it.
struct Document<'a> {
    folders: Folders<'a>,
    path: &'a str,
    /// Its folder (repository-relative, `""` at the root).
    dir: &'a str,
    text: &'a str,
    line_starts: OnceCell<Vec<usize>>,
    /// The byte offset and 1-based column of the last reference placed.
    last_column: std::cell::Cell<(usize, usize)>,
    /// The nearest folder from the document's up that holds a manifest.
    package: OnceCell<Option<String>>,
    /// What builds the document, worked out for its first missing link.
    sites: OnceCell<DocSites>,
}

impl<'a> Document<'a> {
    fn new(folders: Folders<'a>, path: &'a str, text: &'a str) -> Self {
        Self {
            folders,
            path,
            dir: path.rsplit_once('/').map_or("", |(d, _)| d),
            text,
            line_starts: OnceCell::new(),
            last_column: std::cell::Cell::new((0, 1)),
            package: OnceCell::new(),
            sites: OnceCell::new(),
        }
    }

    fn sites(&self) -> &DocSites {
        self.sites
            .get_or_init(|| DocSites::of(&self.folders, self.path))
    }

    /// A link, image, definition or HTML reference: resolved from the
    /// document's folder (`/x` from the repository root) and wherever the
    /// site generator that builds the document looks
    /// ([`DocSites::places`]), missing if nothing is there.
    fn link(&self, r: &Reference) -> Option<Missing> {
        let target = target(&r.dest)?;
        let joined = match target.strip_prefix('/') {
            Some(rooted) => rooted.to_owned(),
            None => join(self.dir, &target),
        };
        let normal = normalise(&joined)?;
        if self.exists(&normal) {
            return None;
        }
        // The first place is usually where a forge looks, asked just above.
        let places = self.sites().places(self.path, &target);
        if places.iter().any(|p| *p != normal && self.exists(p)) {
            return None;
        }
        let written = match &r.written {
            Some(range) => strip_suffixes(&self.text[range.clone()]).to_owned(),
            None => strip_suffixes(&r.dest).to_owned(),
        };
        let at = r.written.as_ref().map_or(r.start, |w| w.start);
        let reference = match r.kind {
            Kind::Image => "image",
            Kind::Definition => "definition",
            Kind::Html => "html",
            Kind::Link | Kind::CodeSpan => "link",
        };
        let mut missing = self.missing(at, reference, written, vec![normal], target.ends_with('/'));
        missing.uncertain = self.uncertain(&target);
        Some(missing)
    }

    /// Whether a missing link `target` is only likely missing: rooted in a
    /// page of a site, or naming a page of a site waypost has no rule for,
    /// or a page out of the site that builds the document
    /// ([`DocSites::leaves_its_site`]).
    fn uncertain(&self, target: &str) -> bool {
        let name = target
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("");
        let page = target.ends_with('/') || target.ends_with(".html") || !name.contains('.');
        let sites = self.sites();
        (target.starts_with('/') && sites.on_a_site())
            || (page && (sites.other_site() || sites.leaves_its_site(self.path, target)))
    }

    /// A code span that looks like a path: a reader looks for it from the
    /// document's folder, its package root, the folder of the site that
    /// builds it (mdBook, MkDocs, VitePress) and the repository root. It is
    /// missing if it is in none of them, and it names a repository path at
    /// all only if its first folder exists in one of them (otherwise it is
    /// prose about another project).
    fn code_span(&self, r: &Reference) -> Option<Missing> {
        let content = r.dest.trim();
        if !CODE_PATH.is_match(content) {
            return None;
        }
        let site = self
            .folders
            .nearest(self.dir, |f| {
                f.book_src.is_some() || f.mkdocs_docs.is_some() || f.vitepress
            })
            .map(|(dir, _)| dir);
        let mut bases = vec![self.dir];
        if let Some(package) = self.package() {
            bases.push(package);
        }
        // A site's documents name its files from the site's folder (an
        // mdBook's guide says `src/SUMMARY.md`).
        if let Some(site) = site.as_deref() {
            bases.push(site);
        }
        bases.push("");
        bases.dedup();
        let mut resolved = Vec::new();
        for base in bases {
            let Some(normal) = normalise(&join(base, content)) else {
                continue;
            };
            if self.exists(&normal) {
                return None;
            }
            if self.names_a_folder(base, content) && !resolved.contains(&normal) {
                resolved.push(normal);
            }
        }
        if resolved.is_empty() {
            return None;
        }
        let at = r.written.as_ref().map_or(r.start, |w| {
            w.start + r.dest.find(content).unwrap_or_default()
        });
        Some(self.missing(at, "code_span", content.to_owned(), resolved, false))
    }

    /// Whether the first folder `path` names below `base` (after any
    /// leading `./` and `../`) exists.
    fn names_a_folder(&self, base: &str, path: &str) -> bool {
        let segments: Vec<&str> = path.split('/').collect();
        let ups = segments
            .iter()
            .take_while(|s| matches!(**s, "." | ".."))
            .count();
        // At most the segment after the `./` and `../`, and never the file name.
        let upto = (ups + 1).min(segments.len() - 1);
        // `./x.js`, `../x.js`: no folder is named, only where the document
        // is; prose about some other project's files reads the same.
        if upto <= ups {
            return false;
        }
        let folder = join(base, &segments[..upto].join("/"));
        match normalise(&folder) {
            Some(folder) => self.folders.is_dir(&folder),
            // The root itself.
            None => folder.split('/').all(|s| matches!(s, "" | ".")),
        }
    }

    /// The nearest folder from the document's up that holds a manifest
    /// (see [`crate::resolve::MANIFESTS`]).
    fn package(&self) -> Option<&str> {
        self.package
            .get_or_init(|| {
                self.folders
                    .nearest(self.dir, |f| f.manifest)
                    .map(|(dir, _)| dir)
            })
            .as_deref()
    }

    /// One `stat`; nothing is read.
    fn exists(&self, normal: &str) -> bool {
        self.folders.exists(normal)
    }

    fn missing(
        &self,
        at: usize,
        reference: &'static str,
        written: String,
        resolved: Vec<String>,
        is_dir: bool,
    ) -> Missing {
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(memchr::memchr_iter(b'\n', self.text.as_bytes()).map(|i| i + 1))
                .collect()
        });
        let line = starts.partition_point(|&s| s <= at).max(1);
        let start = starts[line - 1];
        let end = starts
            .get(line)
            .map_or(self.text.len(), |next| next - 1)
            .max(start);
        let line_text = self.text[start..end].trim_end_matches('\r');
        // Characters are counted from the last reference on the same line
        // when it came before this one: references arrive in document
        // order, so a line holding thousands costs one pass, not one each.
        let at_or_start = at.max(start);
        let (last_at, last_column) = match self.last_column.get() {
            (last_at, column) if last_at >= start && last_at <= at_or_start => (last_at, column),
            _ => (start, 1),
        };
        let column = last_column + self.text[last_at..at_or_start].chars().count();
        self.last_column.set((at_or_start, column));
        // The part of the line around the reference, not the whole line: a
        // document of one long line holding thousands of links keeps a few
        // hundred bytes per finding, not a copy of the line each.
        let offset = at.max(start) - start;
        let from = line_text.floor_char_boundary(offset.saturating_sub(EXCERPT_BEFORE));
        let to = line_text.floor_char_boundary(offset.saturating_add(EXCERPT_AFTER));
        let line_text = &line_text[from..to.max(from)];
        Missing {
            doc: self.path.to_owned(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            line_text: line_text.to_owned(),
            reference,
            code_span: reference == "code_span",
            uncertain: false,
            written,
            resolved,
            is_dir,
        }
    }
}

/// How much of a long line a finding keeps before and after its reference
/// (bytes): the excerpt shows 200 characters, and a secret starting in
/// them is still seen whole by the redactor.
const EXCERPT_BEFORE: usize = 120;
const EXCERPT_AFTER: usize = 400;

/// The repository path a link destination names, percent-decoded, or
/// `None` when it names none: a URL with a scheme (`https:`, `mailto:`,
/// `file:`; CommonMark's scheme is a letter then 1 to 31 letters, digits,
/// `+`, `.` or `-`), a network path (`//host/x`), a pure `#anchor` or
/// `?query`, or text that is not UTF-8 once decoded.
///
/// Autolinks (`<https://…>`, `<me@example.org>`) always carry a scheme in
/// CommonMark, so none names a repository file, and `<file:…>` is no
/// exception: a `file:` URL names a place on the reader's machine, which
/// the repository cannot vouch for. A relative file is linked with an
/// inline link or a reference definition, never an autolink.
fn target(dest: &str) -> Option<String> {
    // A template placeholder (`{{ page.url }}`, `{% link x %}`) is filled in
    // when the site is built, not a path; `@site/x` and `@/x` are a
    // bundler's aliases.
    if has_scheme(dest)
        || dest.starts_with("//")
        || dest.starts_with('@')
        || dest.contains("{{")
        || dest.contains("{%")
    {
        return None;
    }
    let path = strip_suffixes(dest);
    if path.is_empty() || is_placeholder(path) {
        return None;
    }
    percent_decode(path)
}

/// A destination that stands for one the reader fills in: a word such as
/// `url` or `link` (`[text](url)` in a guide to writing links), or an
/// upper-case name of a URL or link (`ENGLISH_VERSION_URL`) a build step
/// replaces. `LICENSE_MIT` and `src` can be files: they are judged.
fn is_placeholder(path: &str) -> bool {
    const WORDS: [&str; 6] = ["url", "link", "href", "uri", "target", "destination"];
    let upper_name = path.len() > 2
        && path
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    WORDS.contains(&path.to_ascii_lowercase().as_str())
        || (upper_name && ["URL", "LINK", "HREF"].iter().any(|w| path.contains(w)))
}

fn has_scheme(dest: &str) -> bool {
    let Some((scheme, _)) = dest.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && (2..=32).contains(&scheme.len())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
}

/// `dest` without its `#fragment` and `?query`.
fn strip_suffixes(dest: &str) -> &str {
    dest.split(['#', '?']).next().unwrap_or_default()
}

/// `%XX` sequences decoded; a `%` not followed by two hex digits is kept.
fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return Some(text.to_owned());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = |i: usize| bytes.get(i).and_then(|b| (*b as char).to_digit(16));
        match (bytes[at], hex(at + 1), hex(at + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push(u8::try_from(high * 16 + low).expect("two hex digits fit a byte"));
                at += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn file_name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_skip_schemes_anchors_and_decode_percent_escapes() {
        assert_eq!(target("https://example.org/x.md"), None);
        assert_eq!(target("mailto:me@example.org"), None);
        assert_eq!(target("file:///etc/passwd"), None);
        assert_eq!(target("//example.org/x.md"), None);
        assert_eq!(target("#anchor"), None);
        assert_eq!(target("?q=1"), None);
        assert_eq!(target("%FF.md"), None, "not UTF-8");
        assert_eq!(target("my%20file.md#part").as_deref(), Some("my file.md"));
        assert_eq!(target("a%2fb.md?x").as_deref(), Some("a/b.md"));
        assert_eq!(target("100%.md").as_deref(), Some("100%.md"));
        // One letter before a colon is a drive, not a scheme.
        assert_eq!(target("c:x.md").as_deref(), Some("c:x.md"));
        // Template placeholders are filled in when a site is built.
        assert_eq!(target("{{ user.url }}"), None);
        assert_eq!(target("ENGLISH_VERSION_URL"), None);
        assert_eq!(target("url"), None);
        assert_eq!(target("LICENSE").as_deref(), Some("LICENSE"));
        assert_eq!(target("README_FIRST").as_deref(), Some("README_FIRST"));
        assert_eq!(target("LICENSE_MIT").as_deref(), Some("LICENSE_MIT"));
        assert_eq!(target("src").as_deref(), Some("src"));
        assert_eq!(target("@site/static/img.png"), None);
        assert_eq!(target("{% link guide.md %}"), None);
    }

    #[test]
    fn a_move_within_the_named_folders_is_told_from_a_namesake_elsewhere() {
        assert!(moved_within("backend/app/x.py", "backend/app/core/x.py"));
        assert!(moved_within("src/old/x.rs", "src/new/x.rs"));
        assert!(!moved_within(
            "src/api/server.js",
            "examples/universal/server/server.js"
        ));
        assert!(!moved_within("docs/mkdocs.yml", "mkdocs.yml"));
        assert!(!moved_within(
            "layouts/docs/baseof.html",
            "layouts/baseof.html"
        ));
        assert!(
            !moved_within("x.py", "app/x.py"),
            "a root file names no folder"
        );
    }

    #[test]
    fn histories_are_told_apart_from_documentation() {
        assert!(is_history("CHANGELOG.md"));
        assert!(is_history("docs/en/docs/release-notes.md"));
        assert!(is_history("packages/vite/CHANGELOG.md"));
        assert!(!is_history("docs/changes-to-the-api-guide.md"));
    }

    #[test]
    fn a_code_span_that_names_no_folder_is_not_judged() {
        let dir = tempfile::tempdir().expect("temp");
        std::fs::create_dir_all(dir.path().join("docs/guide")).expect("mkdir");
        let cache = FolderCache::default();
        let doc = Document::new(Folders::new(dir.path(), &cache), "docs/a.md", "");
        assert!(!doc.names_a_folder("docs", "./Component.mjs"));
        assert!(!doc.names_a_folder("docs", "../x.js"));
        assert!(doc.names_a_folder("docs", "./guide/x.md"));
        assert!(doc.names_a_folder("", "docs/x.md"));
        assert!(!doc.names_a_folder("", "nowhere/x.md"));
    }
}
