//! Hostile input is refused before anything is created.

use std::path::Path;

use waypost_parallel::{Repository, Run, StartError};

use crate::support::{anchor, config, git, repo};

/// Everything waypost keeps in the repository's common directory.
fn coordination_files(r: &Repository) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![r.coordination_dir()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
        {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(
                    path.strip_prefix(r.coordination_dir())
                        .expect("under")
                        .display()
                        .to_string(),
                );
            }
        }
    }
    out.sort();
    out
}

fn branches(repo: &Path) -> String {
    git(
        repo,
        &["for-each-ref", "--format=%(refname)", "refs/heads/"],
    )
}

#[test]
fn run_ids_with_separators_or_dot_dot_are_refused() {
    let repo = repo();
    let r = Repository::open(repo.path()).expect("open");
    for id in [
        "../escape",
        "a/b",
        "a\\b",
        "..",
        "x..y",
        ".hidden",
        "-flag",
        "",
        "sp ace",
    ] {
        let err = Run::start(&r, &anchor(None), id, "main", &config()).expect_err(id);
        assert!(matches!(err, StartError::InvalidRunId(_)), "{id}: {err}");
    }
    assert_eq!(branches(repo.path()), "refs/heads/main\n");
    assert!(
        coordination_files(&r).is_empty(),
        "{:?}",
        coordination_files(&r)
    );
}

#[test]
fn a_base_that_does_not_exist_is_refused() {
    let repo = repo();
    let r = Repository::open(repo.path()).expect("open");
    for base in [
        "no-such-branch",
        "0123456789abcdef0123456789abcdef01234567",
        "--all",
        "main~5",
    ] {
        let err = Run::start(&r, &anchor(None), "fix-1", base, &config()).expect_err(base);
        assert!(
            matches!(err, StartError::UnknownBase { .. }) && err.to_string().contains(base),
            "{base}: {err}"
        );
    }
    assert_eq!(branches(repo.path()), "refs/heads/main\n");
    assert!(coordination_files(&r).is_empty());
}

#[test]
fn a_merge_in_progress_is_refused() {
    let repo = repo();
    git(repo.path(), &["checkout", "--quiet", "-b", "other"]);
    repo.write("README.md", "# other\n").commit_all("other");
    git(repo.path(), &["checkout", "--quiet", "main"]);
    repo.write("README.md", "# main\n").commit_all("main");
    let merge = waypost_test_support::hermetic_git(repo.path())
        .args(["merge", "other"])
        .output()
        .expect("git merge");
    assert!(!merge.status.success(), "the merge conflicts");
    let r = Repository::open(repo.path()).expect("open");
    let err = Run::start(&r, &anchor(None), "fix-1", "main", &config()).expect_err("merging");
    assert!(
        matches!(err, StartError::OperationInProgress { .. }) && err.to_string().contains("merge"),
        "{err}"
    );
    assert!(coordination_files(&r).is_empty());
    assert!(!branches(repo.path()).contains("waypost/"));
}

#[test]
fn a_worktree_folder_that_is_a_symlink_out_of_the_repository_is_refused() {
    let repo = repo();
    let outside = tempfile::tempdir().expect("outside");
    let r = Repository::open(repo.path()).expect("open");
    std::fs::create_dir_all(r.coordination_dir()).expect("coordination dir");
    std::os::unix::fs::symlink(outside.path(), r.coordination_dir().join("worktrees"))
        .expect("symlink");
    let err = Run::start(&r, &anchor(None), "fix-1", "main", &config()).expect_err("symlink");
    assert!(matches!(err, StartError::SymlinkedPath { .. }), "{err}");
    assert_eq!(std::fs::read_dir(outside.path()).expect("read").count(), 0);
    assert!(!branches(repo.path()).contains("waypost/"));

    // The run's own folder as a link is refused too.
    std::fs::remove_file(r.coordination_dir().join("worktrees")).expect("unlink");
    std::fs::create_dir(r.coordination_dir().join("worktrees")).expect("dir");
    std::os::unix::fs::symlink(outside.path(), r.coordination_dir().join("worktrees/fix-2"))
        .expect("symlink");
    let err = Run::start(&r, &anchor(None), "fix-2", "main", &config()).expect_err("symlink");
    assert!(matches!(err, StartError::SymlinkedPath { .. }), "{err}");
    assert_eq!(std::fs::read_dir(outside.path()).expect("read").count(), 0);
    assert!(!branches(repo.path()).contains("waypost/"));
}

#[test]
fn a_path_that_is_not_a_repository_is_refused() {
    let dir = tempfile::tempdir().expect("temp");
    let err = Repository::open(dir.path()).expect_err("not a repo");
    assert!(matches!(err, StartError::NotARepository { .. }), "{err}");
}
