//! Translated documentation: a site in several languages keeps each
//! language's pages in a folder named by its language tag (`docs/de/…`,
//! `i18n/pt-br/…`), and a page or image a translation lacks is taken from
//! the default language (`en`) when the site is built (MkDocs' i18n
//! plugins, Docusaurus, sites that inherit the English configuration).
//! A link in a translated page is looked for as if the page were the
//! English one too.

/// The English counterparts of `doc`, one per folder of its path that is
/// a language tag other than `en`, deepest first: (the English folder, the
/// document's path with that folder replaced by `en`)
/// (`docs/de/docs/x.md` → `docs/en/docs/x.md`). Short folder names look
/// like tags (`io`, `ui`): the caller uses a counterpart only when its
/// English folder exists.
pub(crate) fn english_counterparts(doc: &str) -> Vec<(String, String)> {
    let segments: Vec<&str> = doc.split('/').collect();
    let folders = segments.len().saturating_sub(1);
    (0..folders)
        .rev()
        .filter(|&at| segments[at] != "en" && is_language_tag(segments[at]))
        .map(|at| {
            let mut english = segments.clone();
            english[at] = "en";
            (english[..=at].join("/"), english.join("/"))
        })
        .collect()
}

/// A BCP 47 language tag as sites name folders: two lowercase letters,
/// optionally a region or script (`pt-br`, `zh-hant`, `zh_CN`).
fn is_language_tag(segment: &str) -> bool {
    let (language, rest) = match segment.split_once(['-', '_']) {
        Some((language, rest)) => (language, Some(rest)),
        None => (segment, None),
    };
    language.len() == 2
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && rest.is_none_or(|r| {
            (2..=4).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_alphabetic())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::{FolderCache, Folders, doc_places};

    #[test]
    fn a_translated_page_falls_back_to_the_english_one() {
        let counterpart = |doc: &str| {
            english_counterparts(doc)
                .into_iter()
                .next()
                .map(|(_, en)| en)
        };
        assert_eq!(
            english_counterparts("docs/de/docs/advanced/x.md"),
            [("docs/en".into(), "docs/en/docs/advanced/x.md".into())]
        );
        // Each tag-shaped folder is a candidate, deepest first.
        assert_eq!(english_counterparts("docs/zh/api/io/x.md").len(), 2);
        assert_eq!(
            counterpart("i18n/pt-br/guide.md").as_deref(),
            Some("i18n/en/guide.md")
        );
        assert_eq!(
            counterpart("docs/zh_CN/a.md").as_deref(),
            Some("docs/en/a.md")
        );
        assert_eq!(counterpart("docs/en/docs/x.md"), None);
        assert_eq!(counterpart("docs/api/x.md"), None);
        assert_eq!(counterpart("de.md"), None);
        let dir = tempfile::tempdir().expect("temp");
        let root = dir.path();
        std::fs::create_dir_all(root.join("docs/en/docs/img")).expect("mkdir");
        std::fs::write(root.join("docs/en/mkdocs.yml"), "site_name: x\n").expect("write");
        let cache = FolderCache::default();
        let folders = Folders::new(root, &cache);
        let places = doc_places(&folders, "docs/de/docs/tutorial/a.md", "/img/a.png");
        assert!(
            places.contains(&"docs/en/docs/img/a.png".to_owned()),
            "{places:?}"
        );
        let places = doc_places(
            &folders,
            "docs/de/docs/tutorial/a.md",
            "../release-notes.md",
        );
        assert!(
            places.contains(&"docs/en/docs/release-notes.md".to_owned()),
            "{places:?}"
        );
        // `io` looks like a tag, but there is no `src/en`.
        std::fs::create_dir_all(root.join("src/io")).expect("mkdir");
        assert_eq!(
            doc_places(&folders, "src/io/read.md", "x.md"),
            ["src/io/x.md"]
        );
    }
}
