//! Node (JavaScript, TypeScript): test runners (npm scripts, Jest, Vitest,
//! Mocha) start in the package folder, the nearest one above the file
//! with a `package.json`; a path next to the file is read with its folder
//! (`__dirname`, `import.meta.url`).

use super::{Folders, parent};

/// The folders a path in `file` is read from: its package folder, then
/// its own folder.
pub(crate) fn bases(folders: &Folders<'_>, file: &str) -> Vec<String> {
    let mut bases = Vec::new();
    if let Some((package, _)) = folders.nearest(parent(file), |f| f.node_package) {
        bases.push(package);
    }
    bases.push(parent(file).to_owned());
    bases
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::{CodeUse, code_places};

    #[test]
    fn paths_are_read_from_the_package_folder_or_next_to_the_file() {
        let dir = tempfile::tempdir().expect("temp");
        let root = dir.path();
        std::fs::create_dir_all(root.join("packages/web/test/unit")).expect("mkdir");
        std::fs::write(root.join("packages/web/package.json"), "{}").expect("write");
        let cache = crate::resolve::FolderCache::default();
        let folders = Folders::new(root, &cache);
        assert_eq!(
            code_places(
                &folders,
                "packages/web/test/unit/a.test.ts",
                "assets/x.json",
                CodeUse::Runtime
            ),
            [
                "packages/web/assets/x.json",
                "packages/web/test/unit/assets/x.json",
                "assets/x.json"
            ]
        );
    }
}
