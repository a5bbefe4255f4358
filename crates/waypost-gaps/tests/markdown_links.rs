//! `broken_markdown_link` on documents that mix every kind of reference,
//! with the expected findings written out by hand.

use waypost_schemas::GapReportV1;
use waypost_test_support::TestRepo;

use crate::support::scan_dir;

/// One finding as the test states it: document, line, column, the path as
/// written, and where the file probably moved.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Broken {
    doc: String,
    line: u32,
    column: u32,
    written: String,
    moved_to: Option<String>,
}

fn broken(doc: &str, line: u32, column: u32, written: &str, moved_to: Option<&str>) -> Broken {
    Broken {
        doc: doc.to_owned(),
        line,
        column,
        written: written.to_owned(),
        moved_to: moved_to.map(str::to_owned),
    }
}

/// The `broken_markdown_link` gaps of `report`, in its order.
fn link_gaps(report: &GapReportV1) -> Vec<&waypost_schemas::Gap> {
    report
        .gaps
        .iter()
        .filter(|g| g.detector.as_deref() == Some("broken_markdown_link"))
        .collect()
}

/// The `broken_markdown_link` gap of `report` for the reference written
/// as `written`.
fn written_as<'r>(report: &'r GapReportV1, written: &str) -> &'r waypost_schemas::Gap {
    link_gaps(report)
        .into_iter()
        .find(|g| g.evidence.as_ref().expect("evidence").extra["written_as"] == written)
        .unwrap_or_else(|| panic!("no gap for {written}: {:#?}", report.gaps))
}

/// Every `broken_markdown_link` gap of `report`, sorted.
fn found(report: &GapReportV1) -> Vec<Broken> {
    let mut all: Vec<Broken> = link_gaps(report)
        .into_iter()
        .map(|g| {
            let evidence = g.evidence.as_ref().expect("evidence");
            let location = &evidence.locations[0];
            let extra = &evidence.extra;
            let text = |key: &str| extra.get(key).and_then(|v| v.as_str()).map(str::to_owned);
            Broken {
                doc: location.path.clone(),
                line: location.start_line,
                column: location.start_column.expect("a column"),
                written: text("written_as").expect("written_as"),
                moved_to: text("moved_to"),
            }
        })
        .collect();
    all.sort();
    all
}

/// Links of every CommonMark kind, HTML, code, ignored locations and moved
/// files. Line numbers are on the left in the comments of the test below.
const INDEX: &str = r#"# Index

[one](gone-a.md) and [two](gone-b.md#part) and [fine](here.md) ![pic](img/missing.png)
[spaced](<my file.md>) and [spaced gone](<no such file.md>) and [encoded](my%20file.md) and [encoded gone](no%20such.md?x=1)
[anchor](#top) [web](https://example.org/gone.md) [mail](mailto:me@example.org) <https://example.org/x.md> [rooted](/src/lib.rs) [rooted gone](/src/gone.rs)

Used [ref][r1] and [ref gone][r2].

[r1]: here.md
[r2]: <gone ref.md> "title"
[unused]: unused-gone.md

<p>An <a href="here.md">ok</a> and <a href="gone-html.md#x">gone</a> and <img src="img/gone.png"></p>

<div>
<a href="gone-block.md">block</a>
<!-- <a href="commented-out.md"> -->
</div>

```
[fenced](fenced-gone.md) <a href="fenced.md">
```

    [indented](indented-gone.md)

Inline `[code](code-gone.md)` is code.

Built: [report](../build/report.html), [deps](../node_modules/x/index.js), [scratch](../scratch/notes.md), [nested](../services/api/generated/out.md)
Moved: [plan](old/design-plan.md) and [twice](old/setup-guide.md) and `design/design-plan.md`.
"#;

/// Code spans read from the document's folder, its package root
/// (`services/api`, which has a `pyproject.toml`) and the repository root.
const GUIDE: &str = r#"# API guide

From the folder `local/notes.py`, from the package `app/main.py`, from the root `src/lib.rs`.
Missing: `app/gone.py` and `local/gone.py` and `src/gone.rs`, three on a line.
Not ours: `django/contrib/admin.py`; `generated/schema.py` is built.
In a link: [main](../app/main.py) and [gone](../app/missing.py).
"#;

fn fixture() -> TestRepo {
    let repo = TestRepo::new();
    repo.write(".gitignore", "/build/\nnode_modules/\n")
        .write("docs/index.md", INDEX)
        .write("docs/here.md", "# Here\n")
        .write("docs/my file.md", "# Spaces\n")
        .write("docs/img/logo.png", "png\n")
        .write("src/lib.rs", "pub fn f() {}\n")
        .write("design/design-plan.md", "# Plan\n")
        .write("one/setup-guide.md", "# One\n")
        .write("two/setup-guide.md", "# Two\n")
        .write("services/api/pyproject.toml", "[project]\nname = \"api\"\n")
        .write("services/api/.gitignore", "generated/\n")
        .write("services/api/app/main.py", "print()\n")
        .write("services/api/docs/guide.md", GUIDE)
        .write("services/api/docs/local/notes.py", "print()\n")
        // Ignored, so not committed; its folder exists.
        .write("services/api/generated/other.py", "print()\n")
        .commit_all("fixture");
    repo.write(".git/info/exclude", "scratch/\n");
    repo
}

#[test]
fn every_broken_reference_and_only_broken_ones() {
    let repo = fixture();
    let report = scan_dir(repo.path()).report;
    let index = "docs/index.md";
    let guide = "services/api/docs/guide.md";
    let expected = vec![
        // 3: two broken links and a broken image on one line; `here.md` exists.
        broken(index, 3, 7, "gone-a.md", None),
        broken(index, 3, 28, "gone-b.md", None),
        broken(index, 3, 71, "img/missing.png", None),
        // 4: angle brackets with a space, percent-encoding with a query;
        // `my file.md` exists, written either way.
        broken(index, 4, 43, "no such file.md", None),
        broken(index, 4, 108, "no%20such.md", None),
        // 5: anchors, schemes and autolinks are skipped; `/` is the root.
        broken(index, 5, 144, "/src/gone.rs", None),
        // 7 uses the definitions: checked once, at 9 to 11, used or not.
        broken(index, 10, 8, "gone ref.md", None),
        broken(index, 11, 11, "unused-gone.md", None),
        // 13: inline HTML; 16: an HTML block; 17 is a comment.
        broken(index, 13, 45, "gone-html.md", None),
        broken(index, 13, 84, "img/gone.png", None),
        broken(index, 16, 10, "gone-block.md", None),
        // 20 to 26: fenced, indented and inline code are not links.
        // 28: git-ignored locations (root .gitignore, a pattern without a
        // slash, info/exclude, a nested .gitignore) are not drift.
        // 29: one file of that name elsewhere, and one that exists twice.
        broken(
            index,
            29,
            15,
            "old/design-plan.md",
            Some("design/design-plan.md"),
        ),
        broken(index, 29, 47, "old/setup-guide.md", None),
        // Code spans: found from the folder, the package and the root on
        // line 3; missing from each on line 4; line 5 is another project
        // and an ignored folder.
        broken(guide, 4, 11, "app/gone.py", None),
        broken(guide, 4, 29, "local/gone.py", None),
        broken(guide, 4, 49, "src/gone.rs", None),
        broken(guide, 6, 46, "../app/missing.py", None),
    ];
    assert_eq!(found(&report), expected);

    // What a reader and a plan see of the moved one and of a spaced one.
    let gap = |written: &str| {
        report
            .gaps
            .iter()
            .find(|g| {
                g.evidence
                    .as_ref()
                    .and_then(|e| e.extra.get("written_as"))
                    .and_then(|v| v.as_str())
                    == Some(written)
            })
            .expect("the gap")
    };
    let moved = gap("old/design-plan.md");
    assert_eq!(
        moved.title.as_deref(),
        Some(
            "docs/index.md links to `old/design-plan.md`, which does not exist; did you mean `design/design-plan.md`?"
        )
    );
    assert_eq!(
        moved
            .safe_remediation
            .as_ref()
            .and_then(|r| r.approach.as_deref()),
        Some("replace `old/design-plan.md` with the path to `design/design-plan.md`")
    );
    let spaced = gap("no such file.md");
    assert!(
        spaced
            .description
            .as_deref()
            .is_some_and(|d| d.starts_with("`docs/no such file.md` is not in the repository")),
        "{:?}",
        spaced.description
    );
    assert!(
        spaced
            .description
            .as_deref()
            .is_some_and(|d| !d.contains("nothing is wrong")),
        "a certain link is not hedged: {:?}",
        spaced.description
    );
    let code = gap("app/gone.py");
    assert_eq!(
        code.title.as_deref(),
        Some("services/api/docs/guide.md names `app/gone.py`, which does not exist")
    );
    assert!(!code.is_certain(), "a code span is prose");
    assert!(
        code.description.as_deref().is_some_and(|d| {
            d.starts_with("`services/api/app/gone.py` ")
                && d.contains(
                    "if it names an example or a file the reader creates, nothing is wrong",
                )
        }),
        "{:?}",
        code.description
    );
}

#[test]
fn a_code_span_whose_file_moved_is_certain_and_says_where() {
    let repo = TestRepo::new();
    repo.write(
        "backend/README.md",
        "# Backend\n\nSettings live in `app/config.py`; start with `app/start.py`; the store is `app/store.js`.\n",
    )
    .write("backend/app/core/config.py", "DEBUG = False\n")
    .write("backend/app/main.py", "\n")
    .write("examples/shop/store.js", "\n")
    .commit_all("init");
    let report = scan_dir(repo.path()).report;
    assert_eq!(link_gaps(&report).len(), 3, "{:#?}", report.gaps);

    // Moved within the folder it names: a stale path, not prose.
    let moved = written_as(&report, "app/config.py");
    assert!(moved.is_certain(), "{moved:#?}");
    assert_eq!(
        moved.description.as_deref(),
        Some(
            "`backend/app/config.py` is not in the repository: the documentation no longer matches the code. The only file of that name is `backend/app/core/config.py`: it probably moved there."
        )
    );

    // Its only namesake is in another part of the tree: still likely
    // prose, though where it might have gone is said.
    let namesake = written_as(&report, "app/store.js");
    assert!(!namesake.is_certain(), "{namesake:#?}");
    let evidence = namesake.evidence.as_ref().expect("evidence");
    assert_eq!(evidence.extra["moved_to"], "examples/shop/store.js");
    assert!(
        namesake.description.as_deref().is_some_and(|d| {
            d.contains("nothing is wrong") && d.ends_with("it probably moved there.")
        }),
        "{:?}",
        namesake.description
    );

    let never = written_as(&report, "app/start.py");
    assert!(!never.is_certain(), "{never:#?}");
    assert!(
        never
            .description
            .as_deref()
            .is_some_and(|d| d.contains("nothing is wrong")),
        "{:?}",
        never.description
    );
}

#[test]
fn without_git_ignore_files_still_count_and_nothing_is_said_to_have_moved() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("folders");
        std::fs::write(path, text).expect("write");
    };
    write(".gitignore", "out/\n");
    write(
        "README.md",
        "[built](out/site.html) [gone](docs/plan.md) [there](README.md)\n",
    );
    write("archive/plan.md", "# Plan\n");
    let report = scan_dir(dir.path()).report;
    assert_eq!(
        found(&report),
        [broken("README.md", 1, 31, "docs/plan.md", None)]
    );
}

#[test]
fn a_link_rooted_in_a_site_page_says_the_site_decides() {
    let repo = TestRepo::new();
    repo.write("mkdocs.yml", "site_name: demo\n")
        .write(
            "docs/index.md",
            "# Demo\n\nSee [the guide](/guide/setup/).\n",
        )
        .commit_all("init");
    let report = scan_dir(repo.path()).report;
    let gaps = link_gaps(&report);
    assert_eq!(gaps.len(), 1, "{gaps:#?}");
    assert!(!gaps[0].is_certain(), "{:#?}", gaps[0]);
    let description = gaps[0].description.as_deref().unwrap_or("");
    assert!(
        description.contains("a site whose build decides where the link leads")
            && !description.contains("the reader creates"),
        "{description}"
    );
}

#[test]
fn a_page_link_out_of_a_book_is_likely_and_one_inside_it_certain() {
    let repo = TestRepo::new();
    repo.write("book/book.toml", "[book]\ntitle = \"demo\"\n")
        .write(
            "book/src/ch01.md",
            "# One\n\n[std](../std/index.html), [old](../../old/ch01.html), [next](ch02.html) and [there](ch01.html).\n",
        )
        .write(
            "book/redirects/moved.md",
            "Now at [one](ch01.html); the tool is [here](../tools/note).\n",
        )
        .write("README.md", "Read [the guide](guide.html).\n")
        .commit_all("init");
    let report = scan_dir(repo.path()).report;
    let mut sure: Vec<(&str, bool)> = link_gaps(&report)
        .into_iter()
        .map(|g| {
            let evidence = g.evidence.as_ref().expect("evidence");
            let written = evidence.extra["written_as"].as_str().expect("written_as");
            (written, g.is_certain())
        })
        .collect();
    sure.sort();
    let mut expected = [
        // Out of the book's `src`: where the sites are deployed decides.
        ("../std/index.html", false),
        ("../../old/ch01.html", false),
        // A page of the book that is not there.
        ("ch02.html", true),
        // Beside the book, not built by it: another tool renders its
        // pages, but a link to a file is a link to a file.
        ("ch01.html", false),
        ("../tools/note", true),
        // No site above the README: a plain broken link.
        ("guide.html", true),
    ];
    expected.sort();
    assert_eq!(sure, expected);
}

#[test]
fn a_rooted_link_to_a_file_below_a_static_folder_is_likely_not_moved() {
    let repo = TestRepo::new();
    repo.write(
        "docs/intro.md",
        "![counter](/img/tutorial/counter.png) and ![gone](/img/tutorial/gone.png), see [old](/guide/setup.md).\n",
    )
    .write("website/static/img/tutorial/counter.png", "png\n")
    .write("docs/install/setup.md", "# Setup\n")
    .commit_all("init");
    let report = scan_dir(repo.path()).report;
    let gaps = link_gaps(&report);
    assert_eq!(gaps.len(), 3, "{gaps:#?}");
    let served = written_as(&report, "/img/tutorial/counter.png");
    assert!(!served.is_certain(), "{served:#?}");
    let evidence = served.evidence.as_ref().expect("evidence");
    assert!(
        !evidence.extra.contains_key("moved_to"),
        "not a move: {served:#?}"
    );
    assert!(
        served
            .description
            .as_deref()
            .is_some_and(|d| d.ends_with(
                "A site serving `website/static/` at its root serves `website/static/img/tutorial/counter.png` there."
            )),
        "{:?}",
        served.description
    );
    // Nothing of that name anywhere: broken wherever it is served.
    assert!(written_as(&report, "/img/tutorial/gone.png").is_certain());
    // Only the file name is found elsewhere: it moved.
    let moved = written_as(&report, "/guide/setup.md");
    assert_eq!(
        moved.evidence.as_ref().expect("evidence").extra["moved_to"],
        "docs/install/setup.md"
    );
}
