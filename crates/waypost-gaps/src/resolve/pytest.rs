//! pytest: tests run from the rootdir, the folder of the configuration
//! file that configures pytest (`pytest.ini`, even empty; `pyproject.toml`
//! with `[tool.pytest.ini_options]` or `[tool.pytest]`; `tox.ini` with
//! `[pytest]`; `setup.cfg` with `[tool:pytest]`), found from the test file
//! upwards; without one, the nearest Python project folder
//! (`pyproject.toml`, `setup.py`). A path is also read from the rootdir's
//! `testpaths` and next to the test file (`Path(__file__).parent`).

use super::{Folders, join, parent};

/// How many `testpaths` one configuration names at most that are looked in.
const MAX_TESTPATHS: usize = 64;

/// pytest's order among its configuration files (lower wins when one
/// folder holds several).
pub(crate) fn precedence(name: &str) -> usize {
    [
        "pytest.ini",
        ".pytest.ini",
        "pyproject.toml",
        "tox.ini",
        "setup.cfg",
    ]
    .iter()
    .position(|n| *n == name)
    .unwrap_or(usize::MAX)
}

/// The `testpaths` of `name` (a configuration file's name) holding `text`,
/// when it configures pytest; `None` when it does not.
pub(crate) fn configures(name: &str, text: &str) -> Option<Vec<String>> {
    match name {
        // pytest.ini counts even without a [pytest] section.
        "pytest.ini" | ".pytest.ini" => Some(ini_section(text, "pytest").unwrap_or_default()),
        "tox.ini" => ini_section(text, "pytest"),
        "setup.cfg" => ini_section(text, "tool:pytest"),
        "pyproject.toml" => {
            let table = text.parse::<toml::Table>().ok()?;
            let pytest = table.get("tool")?.get("pytest")?;
            let options = pytest.get("ini_options").unwrap_or(pytest);
            Some(
                options
                    .get("testpaths")
                    .and_then(toml::Value::as_array)
                    .map(|paths| {
                        paths
                            .iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        }
        _ => None,
    }
}

/// pytest's `testpaths` in an INI file's `[section]` (whitespace-separated,
/// continued on indented lines), or `None` when there is no such section.
pub(crate) fn ini_section(text: &str, section: &str) -> Option<Vec<String>> {
    let header = format!("[{section}]");
    let mut found = false;
    let mut in_section = false;
    let mut in_value = false;
    let mut paths = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_section = trimmed == header;
            found |= in_section;
            in_value = false;
            continue;
        }
        if !in_section || trimmed.starts_with(['#', ';']) {
            continue;
        }
        let continued = in_value && line.starts_with([' ', '\t']) && !trimmed.is_empty();
        let value = if continued {
            Some(trimmed)
        } else {
            in_value = false;
            trimmed
                .split_once(['=', ':'])
                .filter(|(key, _)| key.trim() == "testpaths")
                .map(|(_, value)| value.trim())
        };
        if let Some(value) = value {
            in_value = true;
            paths.extend(value.split_whitespace().map(str::to_owned));
        }
    }
    found.then_some(paths)
}

/// The folders a path in the test file `file` is read from: the rootdir,
/// each of its `testpaths`, and the file's folder.
pub(crate) fn bases(folders: &Folders<'_>, file: &str) -> Vec<String> {
    let mut bases = Vec::new();
    let configured = folders.nearest(parent(file), |f| f.pytest.is_some());
    match configured {
        Some((rootdir, folder)) => {
            bases.push(rootdir.clone());
            for testpath in folder.pytest.iter().flatten().take(MAX_TESTPATHS) {
                if !testpath.contains(['*', '?', '[']) {
                    bases.push(join(&rootdir, testpath));
                }
            }
        }
        None => {
            if let Some((project, _)) = folders.nearest(parent(file), |f| f.manifest) {
                bases.push(project);
            }
        }
    }
    bases.push(parent(file).to_owned());
    bases
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::{CodeUse, code_places};

    #[test]
    fn which_files_configure_pytest() {
        assert_eq!(configures("pytest.ini", ""), Some(vec![]));
        assert_eq!(
            configures(
                "pytest.ini",
                "[pytest]\ntestpaths = tests\n    integration\n"
            ),
            Some(vec!["tests".into(), "integration".into()])
        );
        assert_eq!(configures("tox.ini", "[tox]\nenvlist = py3\n"), None);
        assert_eq!(
            configures("tox.ini", "[pytest]\naddopts = -q\n"),
            Some(vec![])
        );
        assert_eq!(configures("setup.cfg", "[metadata]\nname = x\n"), None);
        assert_eq!(
            configures("setup.cfg", "[tool:pytest]\ntestpaths: t\n"),
            Some(vec!["t".into()])
        );
        assert_eq!(
            configures("pyproject.toml", "[project]\nname = \"x\"\n"),
            None
        );
        assert_eq!(
            configures(
                "pyproject.toml",
                "[tool.pytest.ini_options]\ntestpaths = [\"tests\"]\n"
            ),
            Some(vec!["tests".into()])
        );
    }

    #[test]
    fn paths_are_read_from_the_rootdir_its_testpaths_and_the_test_folder() {
        let dir = tempfile::tempdir().expect("temp");
        let root = dir.path();
        std::fs::create_dir_all(root.join("backend/tests/unit")).expect("mkdir");
        std::fs::write(
            root.join("backend/pyproject.toml"),
            "[tool.pytest.ini_options]\ntestpaths = [\"tests\"]\n",
        )
        .expect("write");
        // A tox.ini without [pytest] does not configure it.
        std::fs::write(root.join("backend/tests/tox.ini"), "[tox]\n").expect("write");
        let cache = crate::resolve::FolderCache::default();
        let folders = Folders::new(root, &cache);
        assert_eq!(
            code_places(
                &folders,
                "backend/tests/unit/test_a.py",
                "data/x.json",
                CodeUse::Runtime
            ),
            [
                "backend/data/x.json",
                "backend/tests/data/x.json",
                "backend/tests/unit/data/x.json",
                "data/x.json"
            ]
        );
    }
}
