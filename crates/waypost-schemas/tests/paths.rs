//! RepoPath, PathPattern, PathKey and resolve.

use proptest::prelude::*;
use waypost_schemas::paths::{PathError, PathPattern, PatternError, RepoPath, resolve};

#[test]
fn repo_paths_are_normalised_or_refused_with_the_reason() {
    for (text, normal) in [
        ("a/b", "a/b"),
        ("./a//b/", "a/b"),
        ("a/./b/../c", "a/c"),
        ("a\\b\\c", "a/b/c"),
        ("x~", "x~"),
    ] {
        assert_eq!(RepoPath::new(text).expect(text).as_str(), normal, "{text}");
    }
    for (text, error) in [
        ("", PathError::Root),
        (".", PathError::Root),
        ("a/..", PathError::Root),
        ("..", PathError::Escapes),
        ("a/../../b", PathError::Escapes),
        ("..\\x", PathError::Escapes),
        ("/etc", PathError::Absolute),
        ("\\\\server\\share", PathError::Absolute),
        ("C:\\x", PathError::Absolute),
        ("c:x", PathError::Absolute),
        ("~/x", PathError::Absolute),
        ("~user/x", PathError::Absolute),
        ("a\0b", PathError::Nul),
    ] {
        assert_eq!(RepoPath::new(text), Err(error), "{text:?}");
    }
    assert_eq!(
        PathError::Escapes.to_string(),
        "climbs out of the repository with `..`"
    );
}

#[test]
fn a_pattern_that_does_not_parse_is_an_error_never_dropped() {
    let err = PathPattern::new("src/[").expect_err("invalid");
    assert!(matches!(err, PatternError::Glob { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with("`src/[` is not a valid glob"),
        "{err}"
    );
    let err = PathPattern::new("../x/**").expect_err("escapes");
    assert_eq!(
        err.to_string(),
        "`../x/**` climbs out of the repository with `..`"
    );
}

#[test]
fn matching_is_exact_and_covering_folds() {
    let path = |p: &str| RepoPath::new(p).expect(p);
    let docs = PathPattern::new("docs/**").expect("glob");
    assert!(docs.matches(&path("docs/a/b.md")));
    assert!(
        !docs.matches(&path("DOCS/a.md")),
        "a permission is never folded wider"
    );
    assert!(docs.covers(&path("DOCS/a.md")), "a restriction is");
    assert!(docs.covers(&path("docs")), "the folder itself is covered");
    assert!(!docs.matches(&path("docs")));
    let top = PathPattern::new("*.md").expect("glob");
    assert!(top.matches(&path("README.md")));
    assert!(
        !top.matches(&path("docs/README.md")),
        "* stays within a folder"
    );
    let plain = PathPattern::new("deploy/").expect("plain");
    assert!(plain.matches(&path("deploy")) && plain.matches(&path("deploy/x")));
    assert!(!plain.matches(&path("deployment/x")));
    assert_eq!(plain.literal(), Some(path("deploy")));
    assert_eq!(docs.literal(), None);
}

#[test]
fn keys_fold_what_filesystems_fold() {
    let key = |p: &str| RepoPath::new(p).expect(p).key().as_str().to_owned();
    let base = key("docs/intention.toml");
    for variant in [
        "Docs/Intention.TOML",
        "docs./intention.toml",
        "docs /intention.toml ",
        "docs/intention.toml::$DATA",
        "docs/intention.toml:zone",
        "docs/inten\u{200B}tion.toml",
        "docs/\u{FEFF}intention.toml",
    ] {
        assert_eq!(key(variant), base, "{variant:?}");
    }
    assert_eq!(key("caf\u{E9}"), key("cafe\u{301}"));
    assert_eq!(key("CAF\u{C9}"), key("cafe\u{301}"));
    assert_ne!(key("docs/intention.tom"), base);
    // `.` and `..`-like names keep their dots.
    assert_eq!(key("a/.../b"), "a/.../b");
    // The borrowed fast path and the folding path agree.
    assert_eq!(key("docs/readme.md"), "docs/readme.md");
}

#[cfg(unix)]
#[test]
fn resolve_follows_links_as_the_kernel_does() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().expect("temp");
    let root = dir.path();
    std::fs::create_dir_all(root.join("a/b")).expect("mkdir");
    std::fs::create_dir_all(root.join("c")).expect("mkdir");
    std::fs::write(root.join("c/file"), "x").expect("write");
    symlink("../c", root.join("a/link")).expect("link");
    let reach = resolve(root, "a/link/file").expect("resolve");
    assert_eq!(reach.links, [RepoPath::new("a/link").expect("path")]);
    assert_eq!(reach.target, RepoPath::new("c/file").ok());
    // `..` after a link climbs from the target, not from the link.
    let reach = resolve(root, "a/link/../a/b").expect("resolve");
    assert_eq!(reach.target, RepoPath::new("a/b").ok());
    // Nothing involved: nothing reached.
    let reach = resolve(root, "a/b/new.txt").expect("resolve");
    assert!(reach.reached.is_empty() && !reach.through_symlink());
    // Outside.
    symlink("/", root.join("a/root")).expect("link");
    assert!(
        resolve(root, "a/root/etc/passwd")
            .expect("resolve")
            .outside
            .is_some()
    );
    assert_eq!(resolve(root, "../x"), Err(PathError::Escapes));
}

proptest! {
    /// Normalising is idempotent, and a normal path never climbs out.
    #[test]
    fn normal_paths_are_fixed_points(segments in prop::collection::vec("[a-z.]{1,3}|\\.\\.|\\.", 1..6)) {
        let text = segments.join("/");
        if let Ok(path) = RepoPath::new(&text) {
            prop_assert_eq!(RepoPath::new(path.as_str()), Ok(path.clone()));
            prop_assert!(!path.segments().any(|s| s == ".." || s == "." || s.is_empty()));
        }
    }
}

#[test]
fn covering_reaches_folders_above_and_below() {
    let path = |p: &str| RepoPath::new(p).expect(p);
    let legal = PathPattern::new("docs/legal/**/*.md").expect("glob");
    // The folder that holds everything the pattern can match.
    assert!(legal.covers(&path("docs/legal")));
    assert!(legal.covers(&path("docs")));
    assert!(!legal.covers(&path("src")));
    // ...but not all of it is protected: a write root there is fine.
    assert!(!legal.covers_all_of(&path("docs")));
    // A glob naming a folder covers what it holds.
    let any = PathPattern::new("docs/*").expect("glob");
    assert!(any.covers(&path("docs/legal/terms.md")));
    assert!(any.covers_all_of(&path("docs/legal")));
    // Full case folding.
    let secrets = PathPattern::new("**/secrets/**").expect("glob");
    assert!(secrets.covers(&path("a/\u{17F}ecrets/key")));
    assert!(
        PathPattern::new("strasse")
            .expect("plain")
            .covers(&path("STRA\u{DF}E/x"))
    );
}

#[test]
fn a_set_answers_as_its_patterns_do_however_many_there_are() {
    use waypost_schemas::paths::PatternSet;
    // Past 128 patterns the set marks its candidates differently: both
    // sizes must agree with asking each pattern in turn.
    for count in [3, 129, 200] {
        let texts: Vec<String> = (0..count)
            .map(|i| match i % 4 {
                0 => format!("dir{i}/**"),
                1 => format!("**/*.ext{i}"),
                2 => format!("plain{i}/file.txt"),
                _ => format!("Deep{i}/*/x?.md"),
            })
            .collect();
        let set = PatternSet::new(&texts).expect("patterns parse");
        let last = count - 1;
        for path in [
            "dir0/a/b.rs".to_owned(),
            format!("dir{}/x", last - last % 4),
            format!("a/b/c.ext{}", last - (last + 3) % 4),
            "src/main.rs".to_owned(),
            format!("deep{}/q/x1.md", 3 + 4 * ((last - 3) / 4)),
            "dir".to_owned(),
        ] {
            let path = RepoPath::new(&path).expect("a repository path");
            let expected = set.patterns().iter().find(|p| p.covers(&path));
            assert_eq!(
                set.covering(&path).map(ToString::to_string),
                expected.map(ToString::to_string),
                "{count} patterns, {path}"
            );
        }
        assert!(
            set.covering(&RepoPath::new(&format!("dir{}/y", last - last % 4)).expect("path"))
                .is_some()
        );
    }
}
