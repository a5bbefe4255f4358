//! mdBook: the pages of a book are the Markdown files below the `src`
//! folder its `book.toml` names (`src` by default); each `x.md` is built
//! into `x.html`, and a `README.md` into `index.html`, so a link to
//! `x.html` is a link to `x.md`. A link starting with `/` starts at the
//! book's `src` folder.

use super::{html_sources, join, parent};

/// The `src` folder a `book.toml` names, `src` when it names none.
pub(crate) fn src(book_toml: &str) -> String {
    book_toml
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| {
            t.get("book")?
                .get("src")?
                .as_str()
                .map(|s| s.trim_end_matches('/').to_owned())
        })
        .unwrap_or_else(|| "src".into())
}

/// Where mdBook looks for `target`, linked from `doc`, a page of the book
/// whose pages are below `src`.
pub(crate) fn places(src: &str, doc: &str, target: &str) -> Vec<String> {
    let path = match target.strip_prefix('/') {
        Some(rooted) => join(src, rooted),
        None => join(parent(doc), target),
    };
    // mdBook turns `.md` into `.html` and `README` into `index`, nothing
    // more: an extensionless link is broken in the book too.
    html_sources(&path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::{Folders, doc_places};

    #[test]
    fn html_links_are_pages_built_from_markdown_below_src() {
        assert_eq!(src("[book]\ntitle = \"x\"\n"), "src");
        assert_eq!(src("[book]\nsrc = \"pages/\"\n"), "pages");
        let dir = tempfile::tempdir().expect("temp");
        let root = dir.path();
        std::fs::create_dir_all(root.join("guide/pages/cli")).expect("mkdir");
        std::fs::write(root.join("guide/book.toml"), "[book]\nsrc = \"pages\"\n").expect("write");
        let cache = crate::resolve::FolderCache::default();
        let folders = Folders::new(root, &cache);
        assert_eq!(
            doc_places(&folders, "guide/pages/cli/init.md", "../intro.html"),
            ["guide/pages/intro.html", "guide/pages/intro.md"]
        );
        assert_eq!(
            doc_places(&folders, "guide/pages/cli/init.md", "/index.html"),
            [
                "index.html",
                "guide/pages/index.html",
                "guide/pages/index.md",
                "guide/pages/README.md"
            ]
        );
        // A document outside the book is plain Markdown.
        assert_eq!(
            doc_places(&folders, "guide/NOTES.md", "intro.html"),
            ["guide/intro.html"]
        );
    }
}
