//! MkDocs: the pages of a site are the Markdown files below the
//! `docs_dir` its `mkdocs.yml` names (`docs` by default); each `x.md` is
//! built into `x.html`, or into `x/index.html` with directory URLs, so a
//! link to `x.html`, `x/` or `x` is a link to `x.md` (or `x/index.md`,
//! `x/README.md`). Links are relative to the page's source file; with
//! directory URLs some are written relative to the page's URL (one folder
//! deeper, `x/` for `x.md`), which MkDocs serves as well. A link
//! starting with `/` starts at the `docs_dir`.

use super::{join, page_sources, parent};

/// The `docs_dir` an `mkdocs.yml` names, `docs` when it names none. Only
/// the top-level `docs_dir:` line is read: MkDocs files often carry YAML
/// tags that general parsers refuse.
pub(crate) fn docs_dir(mkdocs_yml: &str) -> String {
    mkdocs_yml
        .lines()
        .find_map(|line| line.strip_prefix("docs_dir:"))
        .map(|value| {
            let value = value.split(" #").next().unwrap_or("").trim();
            value
                .trim_matches(|c| c == '"' || c == '\'')
                .trim_end_matches('/')
                .to_owned()
        })
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| "docs".into())
}

/// Where MkDocs looks for `target`, linked from `doc`, a page of the site
/// whose pages are below `docs`.
pub(crate) fn places(docs: &str, doc: &str, target: &str) -> Vec<String> {
    if let Some(rooted) = target.strip_prefix('/') {
        return page_sources(&join(docs, rooted));
    }
    let mut places = page_sources(&join(parent(doc), target));
    // Relative to the page's URL: `x.md` is served at `x/`. Only for a
    // link to a page's URL: a link to a `.md` file is resolved from the
    // source file alone.
    let name = doc.rsplit('/').next().unwrap_or(doc);
    if let Some(stem) = name.strip_suffix(".md")
        && !matches!(stem, "index" | "README")
        && !target.ends_with(".md")
    {
        places.extend(page_sources(&join(&join(parent(doc), stem), target)));
    }
    places
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::{Folders, doc_places};

    #[test]
    fn links_are_pages_built_from_markdown_below_docs_dir() {
        assert_eq!(docs_dir("site_name: x\n"), "docs");
        assert_eq!(
            docs_dir("site_name: x\ndocs_dir: 'content/' # pages\n"),
            "content"
        );
        assert_eq!(
            docs_dir("  docs_dir: nested\n"),
            "docs",
            "only a top-level key"
        );
        let dir = tempfile::tempdir().expect("temp");
        let root = dir.path();
        std::fs::create_dir_all(root.join("content/tutorial")).expect("mkdir");
        std::fs::write(root.join("mkdocs.yml"), "site_name: x\ndocs_dir: content\n")
            .expect("write");
        let cache = crate::resolve::FolderCache::default();
        let folders = Folders::new(root, &cache);
        let places = doc_places(&folders, "content/tutorial/first.md", "../setup/");
        for expected in [
            "content/setup.md",
            "content/setup/index.md",
            "content/tutorial/setup.md",
        ] {
            assert!(
                places.iter().any(|p| p == expected),
                "{expected} in {places:?}"
            );
        }
        assert!(
            doc_places(&folders, "content/tutorial/first.md", "/img/a.png")
                .contains(&"content/img/a.png".to_owned())
        );
        // Outside the docs_dir: plain Markdown.
        assert_eq!(doc_places(&folders, "README.md", "setup/"), ["setup"]);
    }
}
