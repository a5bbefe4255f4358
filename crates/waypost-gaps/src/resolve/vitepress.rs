//! VitePress: the pages of a site are the Markdown files below its source
//! folder (the folder that holds `.vitepress/`, or the `srcDir` its
//! configuration names); a link names a page without its extension
//! (`./guide/features`, `/guide/`), which VitePress builds from
//! `guide/features.md` (or `guide/index.md`); a link starting with `/`
//! starts at the source folder, and names a static asset in its `public/`
//! folder too.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use waypost_schemas::io::{Links, MAX_CONFIG_BYTES, read_text};

use super::{join, page_sources, parent};

/// `srcDir: 'src'` in a VitePress configuration.
static SRC_DIR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"\bsrcDir\s*:\s*['"`]([^'"`]+)['"`]"#).expect("literal"));

/// The `srcDir` the configuration in `dot_vitepress` names (read bounded,
/// never through a link), `""` when it names none.
pub(crate) fn src_dir(dot_vitepress: &Path) -> String {
    [
        "config.ts",
        "config.mts",
        "config.js",
        "config.mjs",
        "config.cts",
        "config.cjs",
    ]
    .iter()
    .find_map(|name| read_text(&dot_vitepress.join(name), MAX_CONFIG_BYTES, Links::Refuse).ok())
    .and_then(|text| {
        SRC_DIR.captures(&text).map(|c| {
            c[1].trim_start_matches("./")
                .trim_end_matches('/')
                .to_owned()
        })
    })
    .unwrap_or_default()
}

/// A folder's VitePress source folder (its `srcDir`, `""` for the folder
/// itself), when it holds `.vitepress/`.
pub(crate) fn source(folder: &super::Folder) -> Option<&str> {
    folder.vitepress.then_some(folder.vitepress_src.as_str())
}

/// Where VitePress looks for `target`, linked from `doc`, a page of the
/// site whose pages are below `site`.
pub(crate) fn places(site: &str, doc: &str, target: &str) -> Vec<String> {
    match target.strip_prefix('/') {
        Some(rooted) => {
            let mut places = page_sources(&join(site, rooted));
            places.push(join(&join(site, "public"), rooted));
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

    #[test]
    fn a_configured_source_folder_is_where_rooted_links_start() {
        let dir = tempfile::tempdir().expect("temp");
        let root = dir.path();
        std::fs::create_dir_all(root.join(".vitepress")).expect("mkdir");
        std::fs::create_dir_all(root.join("src/guide")).expect("mkdir");
        std::fs::write(
            root.join(".vitepress/config.ts"),
            "export default defineConfig({\n  srcDir: 'src',\n})\n",
        )
        .expect("write");
        let cache = crate::resolve::FolderCache::default();
        let folders = Folders::new(root, &cache);
        let places = doc_places(&folders, "src/guide/a.md", "/guide/b.md");
        assert!(places.contains(&"src/guide/b.md".to_owned()), "{places:?}");
        let places = doc_places(&folders, "src/guide/a.md", "/logo.svg");
        assert!(
            places.contains(&"src/public/logo.svg".to_owned()),
            "{places:?}"
        );
    }
}
