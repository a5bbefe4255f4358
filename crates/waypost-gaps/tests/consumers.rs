//! Paths are judged where the program that reads them looks: one tree per
//! convention, each with references its reader resolves (no finding) and
//! references it cannot (one finding each).
//!
//! The trees are plain folders, not repositories: with no index to search,
//! a reference is judged by the convention alone (a repository adds the
//! "it exists elsewhere" and "git ignores it" checks, tested last).

use std::collections::BTreeSet;
use std::path::Path;

use waypost_gaps::ScanConfig;

use crate::support::{context, scan_config};

/// Writes `files` (path, content) below `root`.
fn tree(root: &Path, files: &[(&str, &str)]) {
    for (path, content) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    }
}

/// (detector, file, the reference as written, certain) of every
/// reference finding in a scan of `root`.
fn references(root: &Path) -> BTreeSet<(String, String, String, bool)> {
    let report = scan_config(root, &ScanConfig::default(), &context()).report;
    report
        .gaps
        .iter()
        .filter(|g| {
            matches!(
                g.detector.as_deref(),
                Some("broken_markdown_link" | "missing_test_fixture")
            )
        })
        .map(|g| {
            let evidence = g.evidence.as_ref().expect("evidence");
            (
                g.detector.clone().unwrap_or_default(),
                evidence.file_paths[0].clone(),
                evidence.extra["written_as"]
                    .as_str()
                    .expect("written_as")
                    .to_owned(),
                g.is_certain(),
            )
        })
        .collect()
}

fn expect(items: &[(&str, &str, &str, bool)]) -> BTreeSet<(String, String, String, bool)> {
    items
        .iter()
        .map(|(d, f, w, c)| ((*d).into(), (*f).into(), (*w).into(), *c))
        .collect()
}

/// `folder/rest`: expected fixture paths are written in two parts, so the
/// scan of this repository (which reads this file too) does not take an
/// expectation for a fixture a test reads.
fn at(folder: &str, rest: &str) -> String {
    format!("{folder}/{rest}")
}

#[test]
fn a_cargo_workspace_reads_fixtures_from_the_package_root() {
    let dir = tempfile::tempdir().expect("temp");
    tree(
        dir.path(),
        &[
            ("Cargo.toml", "[workspace]\nmembers = [\"crates/parser\"]\n"),
            (
                "crates/parser/Cargo.toml",
                "[package]\nname = \"parser\"\nversion = \"0.1.0\"\n",
            ),
            (
                "crates/parser/test_data/parser/ok/0001_fn.rs",
                "fn f() {}\n",
            ),
            ("crates/parser/tests/fixtures/expected.txt", "ok\n"),
            ("crates/parser/tests/data/manifest.json", "{}\n"),
            // A generated runner, kept with the test data and compiled
            // into the crate's tests: paths relative to the package root,
            // where `cargo test` runs it.
            (
                "crates/parser/test_data/generated/runner.rs",
                concat!(
                    "#[test] fn ok_0001() { run(\"test_data/parser/ok/0001_fn.rs\"); }\n",
                    "#[test] fn ok_0002() { run(\"test_data/parser/ok/0002_gone.rs\"); }\n",
                ),
            ),
            // include_str! reads next to the source file; a
            // CARGO_MANIFEST_DIR join from the package root.
            (
                "crates/parser/tests/compiled.rs",
                concat!(
                    "const A: &str = include_str!(\"fixtures/expected.txt\");\n",
                    "const B: &str = include_str!(\"fixtures/missing.txt\");\n",
                    "fn m() -> PathBuf { Path::new(env!(\"CARGO_MANIFEST_DIR\")).join(\"tests/data/manifest.json\") }\n",
                    "fn n() -> PathBuf { Path::new(env!(\"CARGO_MANIFEST_DIR\")).join(\"tests/data/gone.json\") }\n",
                    "fn r() { std::fs::read(\"tests/data/manifest.json\").unwrap(); }\n",
                    "fn s() { std::fs::read(\"tests/data/absent.json\").unwrap(); }\n",
                ),
            ),
        ],
    );
    let fixture = "missing_test_fixture";
    assert_eq!(
        references(dir.path()),
        expect(&[
            // `run(…)` may join it to anything: likely.
            (
                fixture,
                "crates/parser/test_data/generated/runner.rs",
                &at("test_data", "parser/ok/0002_gone.rs"),
                false
            ),
            (
                fixture,
                "crates/parser/tests/compiled.rs",
                &at("fixtures", "missing.txt"),
                true
            ),
            (
                fixture,
                "crates/parser/tests/compiled.rs",
                &at("tests/data", "gone.json"),
                true
            ),
            (
                fixture,
                "crates/parser/tests/compiled.rs",
                &at("tests/data", "absent.json"),
                true
            ),
        ])
    );
}

#[test]
fn a_pytest_project_reads_from_its_rootdir_testpaths_and_test_folder() {
    let dir = tempfile::tempdir().expect("temp");
    tree(
        dir.path(),
        &[
            (
                "backend/pyproject.toml",
                "[project]\nname = \"api\"\n\n[tool.pytest.ini_options]\ntestpaths = [\"tests\"]\n",
            ),
            ("backend/fixtures/users.json", "[]\n"),
            ("backend/tests/fixtures/orders.json", "[]\n"),
            ("backend/tests/unit/fixtures/local.json", "[]\n"),
            (
                "backend/tests/unit/test_users.py",
                concat!(
                    "def test_rootdir():\n    open(\"fixtures/users.json\")\n",
                    "def test_testpaths():\n    open(\"fixtures/orders.json\")\n",
                    "def test_here():\n    open(\"fixtures/local.json\")\n",
                    "def test_gone():\n    open(\"fixtures/gone.json\")\n",
                    "def test_output():\n    open(\"fixtures/out.json\", \"w\")\n",
                ),
            ),
        ],
    );
    assert_eq!(
        references(dir.path()),
        expect(&[(
            "missing_test_fixture",
            "backend/tests/unit/test_users.py",
            &at("fixtures", "gone.json"),
            true
        )])
    );
}

#[test]
fn a_node_package_reads_from_its_package_folder() {
    let dir = tempfile::tempdir().expect("temp");
    tree(
        dir.path(),
        &[
            ("package.json", "{\"private\": true}\n"),
            ("packages/web/package.json", "{\"name\": \"web\"}\n"),
            ("packages/web/fixtures/page.html", "<p>\n"),
            (
                "packages/web/test/render.test.ts",
                concat!(
                    "test(\"a\", () => readFileSync(\"fixtures/page.html\"));\n",
                    "test(\"b\", () => readFileSync(\"fixtures/gone.html\"));\n",
                ),
            ),
        ],
    );
    assert_eq!(
        references(dir.path()),
        expect(&[(
            "missing_test_fixture",
            "packages/web/test/render.test.ts",
            &at("fixtures", "gone.html"),
            true
        )])
    );
}

#[test]
fn an_mdbook_links_to_pages_built_from_markdown() {
    let dir = tempfile::tempdir().expect("temp");
    tree(
        dir.path(),
        &[
            (
                "guide/book.toml",
                "[book]\ntitle = \"Guide\"\nsrc = \"pages\"\n",
            ),
            ("guide/pages/README.md", "# Guide\n"),
            ("guide/pages/intro.md", "# Intro\n"),
            (
                "guide/pages/cli/start.md",
                // The guide names the book's files from the book's folder.
                "[intro](../intro.html) [home](../index.html) [top](/intro.html) [gone](../gone.html)\nEdit `pages/intro.md`.\n",
            ),
        ],
    );
    assert_eq!(
        references(dir.path()),
        expect(&[(
            "broken_markdown_link",
            "guide/pages/cli/start.md",
            "../gone.html",
            true
        )])
    );
}

#[test]
fn an_mkdocs_site_links_to_pages_below_its_docs_dir() {
    let dir = tempfile::tempdir().expect("temp");
    tree(
        dir.path(),
        &[
            (
                "mkdocs.yml",
                "site_name: Demo\ndocs_dir: content\nmarkdown_extensions:\n  - toc\n",
            ),
            ("content/setup.md", "# Setup\n"),
            ("content/img/logo.png", "png"),
            (
                "content/tutorial/first.md",
                "[a](../setup/) [b](../setup.md) [c](../setup.html) [d](/img/logo.png) [e](../gone/)\n",
            ),
        ],
    );
    assert_eq!(
        references(dir.path()),
        expect(&[(
            "broken_markdown_link",
            "content/tutorial/first.md",
            "../gone/",
            true
        )])
    );
}

#[test]
fn a_vitepress_site_links_to_pages_without_their_extension() {
    let dir = tempfile::tempdir().expect("temp");
    tree(
        dir.path(),
        &[
            ("docs/.vitepress/config.mts", "export default {}\n"),
            ("docs/guide/features.md", "# Features\n"),
            ("docs/public/logo.svg", "<svg/>\n"),
            (
                "docs/guide/index.md",
                "[a](./features) [b](/guide/features) [c](/logo.svg) [d](./gone)\n",
            ),
        ],
    );
    assert_eq!(
        references(dir.path()),
        expect(&[(
            "broken_markdown_link",
            "docs/guide/index.md",
            "./gone",
            true
        )])
    );
}

#[test]
fn plain_markdown_has_no_pages_to_build() {
    let dir = tempfile::tempdir().expect("temp");
    tree(
        dir.path(),
        &[
            ("docs/setup.md", "# Setup\n"),
            // No site generator: nothing turns setup.md into setup.html.
            ("README.md", "[a](docs/setup.md) [b](docs/setup.html)\n"),
        ],
    );
    assert_eq!(
        references(dir.path()),
        expect(&[("broken_markdown_link", "README.md", "docs/setup.html", true)])
    );
}

#[test]
fn a_fixture_joined_from_elsewhere_or_made_by_the_tests_is_not_reported() {
    let repo = waypost_test_support::TestRepo::new();
    repo.write("Cargo.toml", "[package]\nname = \"p\"\n")
        .write(".gitignore", "/tests/fixtures/generated/\n")
        .write("tests/fixtures/shared/a.json", "{}\n")
        .write("tests/fixtures/deleted.json", "{}\n")
        .write("other/package.json", "{}\n")
        .write("other/test/fixtures/theirs.json", "{}\n")
        .write(
            "tests/it.rs",
            concat!(
                // Joined to a folder the line does not show: the package
                // has a file ending in it.
                "fn a() { base().join(\"fixtures/shared/a.json\"); }\n",
                // Made by the tests: git ignores where it would be.
                "fn b() { std::fs::read(\"tests/fixtures/generated/x.json\"); }\n",
                "fn c() { std::fs::read(\"fixtures/nowhere.json\"); }\n",
                // Tracked, but deleted from the work tree.
                "fn d() { std::fs::read(\"fixtures/deleted.json\"); }\n",
                // Only another package has a file of that name.
                "fn e() { std::fs::read(\"fixtures/theirs.json\"); }\n",
                // A name that says create is still read.
                "fn f() { std::fs::read(\"fixtures/create_table.sql\"); }\n",
                // Written, not read: an output.
                "fn g() { std::fs::write(\"fixtures/out.json\", b\"{}\"); }\n",
            ),
        )
        .commit_all("tests");
    std::fs::remove_file(repo.path().join("tests/fixtures/deleted.json")).expect("rm");
    assert_eq!(
        references(repo.path()),
        expect(&[
            (
                "missing_test_fixture",
                "tests/it.rs",
                &at("fixtures", "nowhere.json"),
                true
            ),
            (
                "missing_test_fixture",
                "tests/it.rs",
                &at("fixtures", "deleted.json"),
                true
            ),
            (
                "missing_test_fixture",
                "tests/it.rs",
                &at("fixtures", "theirs.json"),
                true
            ),
            (
                "missing_test_fixture",
                "tests/it.rs",
                &at("fixtures", "create_table.sql"),
                true
            ),
        ])
    );
}

#[test]
fn links_a_site_builds_differently_are_judged_as_its_generator_does() {
    let dir = tempfile::tempdir().expect("temp");
    tree(
        dir.path(),
        &[
            // mdBook maps .html to .md and nothing more.
            ("book/book.toml", "[book]\nsrc = \"./src\"\n"),
            ("book/src/chapter.md", "# Chapter\n"),
            ("book/src/intro.md", "[a](chapter.html) [b](./chapter)\n"),
            // MkDocs: a link to a .md file is from the source file only.
            ("mkdocs.yml", "site_name: x\n"),
            ("docs/guide/index.md", "# Guide\n"),
            ("docs/guide/a.md", "[up](../index.md)\n"),
            // A site waypost has no rule for: a page link is only likely.
            ("site/docusaurus.config.js", "module.exports = {}\n"),
            (
                "site/docs/intro.md",
                "[i](./installation) [g](./gone.png)\n",
            ),
            // A rooted link outside any site: the forge's root, certain.
            ("README.md", "[a](/docs/missing.md)\n"),
        ],
    );
    assert_eq!(
        references(dir.path()),
        expect(&[
            (
                "broken_markdown_link",
                "book/src/intro.md",
                "./chapter",
                true
            ),
            (
                "broken_markdown_link",
                "docs/guide/a.md",
                "../index.md",
                true
            ),
            (
                "broken_markdown_link",
                "site/docs/intro.md",
                "./installation",
                false
            ),
            (
                "broken_markdown_link",
                "site/docs/intro.md",
                "./gone.png",
                true
            ),
            (
                "broken_markdown_link",
                "README.md",
                "/docs/missing.md",
                true
            ),
        ])
    );
}

#[cfg(unix)]
#[test]
fn nothing_is_read_or_found_through_a_linked_folder() {
    let outside = tempfile::tempdir().expect("temp");
    std::fs::write(
        outside.path().join("book.toml"),
        "[book]\nsrc = \"guide\"\n",
    )
    .expect("write");
    std::fs::create_dir_all(outside.path().join("guide")).expect("mkdir");
    std::fs::write(outside.path().join("guide/there.md"), "# There\n").expect("write");
    let dir = tempfile::tempdir().expect("temp");
    tree(
        dir.path(),
        &[(
            "docs/de/guide/a.md",
            "[x](there.html) [y](../../en/guide/there.md)\n",
        )],
    );
    std::os::unix::fs::symlink(outside.path(), dir.path().join("docs/en")).expect("link");
    assert_eq!(
        references(dir.path()),
        expect(&[
            (
                "broken_markdown_link",
                "docs/de/guide/a.md",
                "there.html",
                true
            ),
            (
                "broken_markdown_link",
                "docs/de/guide/a.md",
                "../../en/guide/there.md",
                true
            ),
        ])
    );
}
