//! VitePress: the pages of a site are the Markdown files below the folder
//! that holds `.vitepress/`; a link names a page without its extension
//! (`./guide/features`, `/guide/`), which VitePress builds from
//! `guide/features.md` (or `guide/index.md`); a link starting with `/`
//! starts at that folder, and names a static asset in its `public/`
//! folder too.

use super::{Folders, below, join, page_sources, parent};

/// Where VitePress looks for `target`, linked from `doc`, when `doc` is a
/// page of a site (nothing otherwise).
pub(crate) fn places(folders: &Folders<'_>, doc: &str, target: &str) -> Vec<String> {
    let Some((site, _)) = folders.nearest(parent(doc), |f| f.vitepress) else {
        return Vec::new();
    };
    if below(doc, &site).is_none() {
        return Vec::new();
    }
    match target.strip_prefix('/') {
        Some(rooted) => {
            let mut places = page_sources(&join(&site, rooted));
            places.push(join(&join(&site, "public"), rooted));
            places
        }
        None => page_sources(&join(parent(doc), target)),
    }
}

#[cfg(test)]
mod tests {
    use crate::resolve::{Folders, doc_places};

    #[test]
    fn links_name_pages_without_extension_and_public_assets() {
        let dir = tempfile::tempdir().expect("temp");
        let root = dir.path();
        std::fs::create_dir_all(root.join("docs/.vitepress")).expect("mkdir");
        std::fs::create_dir_all(root.join("docs/guide")).expect("mkdir");
        let cache = crate::resolve::FolderCache::default();
        let folders = Folders::new(root, &cache);
        let places = doc_places(&folders, "docs/guide/index.md", "./features");
        assert!(
            places.contains(&"docs/guide/features.md".to_owned()),
            "{places:?}"
        );
        let places = doc_places(&folders, "docs/guide/index.md", "/logo.svg");
        assert!(
            places.contains(&"docs/public/logo.svg".to_owned()),
            "{places:?}"
        );
        let places = doc_places(&folders, "docs/guide/index.md", "/config/");
        assert!(
            places.contains(&"docs/config/index.md".to_owned()),
            "{places:?}"
        );
        // The repository's README is not a page of the site.
        assert_eq!(
            doc_places(&folders, "README.md", "./features"),
            ["features"]
        );
    }
}
