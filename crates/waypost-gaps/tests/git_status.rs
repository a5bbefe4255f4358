//! waypost's "changed" judgements against real `git status`: a table of
//! repository states, each compared path by path with what
//! `git status --porcelain=v2 -z` prints for the same state.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use waypost_gaps::{ChangeKind, ScanConfig, git_changes};
use waypost_test_support::TestRepo;

use crate::support::{context, scan_config};

/// What git reports: staged paths, work-tree paths and untracked paths.
#[derive(Debug, Default, PartialEq, Eq)]
struct Status {
    staged: BTreeSet<String>,
    work_tree: BTreeSet<String>,
    untracked: BTreeSet<String>,
}

/// `git status` for `root` with the configuration the scanner reads (the
/// repository's, the user's and the system's), no renames, every untracked
/// file listed, and no optional lock (the index is not refreshed).
fn git_status(root: &Path) -> Status {
    let mut git = Command::new("git");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GIT_") {
            git.env_remove(key);
        }
    }
    let output = git
        .current_dir(root)
        .args([
            "--no-optional-locks",
            "status",
            "--porcelain=v2",
            "-z",
            "--no-renames",
            "--untracked-files=all",
            "--ignore-submodules=none",
        ])
        .output()
        .expect("run git status");
    assert!(
        output.status.success(),
        "git status: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut status = Status::default();
    for record in output.stdout.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let record = String::from_utf8_lossy(record);
        let fields: Vec<&str> = record.splitn(9, ' ').collect();
        match fields[0] {
            "1" => {
                let xy = fields[1].as_bytes();
                let path = fields[8].to_owned();
                if xy[0] != b'.' {
                    status.staged.insert(path.clone());
                }
                if xy[1] != b'.' {
                    status.work_tree.insert(path);
                }
            }
            "?" => {
                status.untracked.insert(record[2..].to_owned());
            }
            other => panic!("unexpected porcelain record kind {other}: {record}"),
        }
    }
    status
}

/// waypost's judgement, split the way git's is; paths whose change
/// waypost cannot judge (an unrun filter driver) come back separately, and
/// so do the tracked paths a scan protecting every path reports as changed
/// (a scan settles most files by the stat data its walk saw, not by gix's
/// status alone: both must agree with git).
fn waypost_status(root: &Path) -> (Status, BTreeSet<String>, BTreeSet<String>) {
    let changes = git_changes(root).expect("read").expect("a repository");
    let mut status = Status::default();
    let mut unknown = BTreeSet::new();
    for change in changes {
        match change.kind {
            ChangeKind::Unknown { .. } => {
                unknown.insert(change.path);
            }
            kind if kind.is_staged() => {
                status.staged.insert(change.path);
            }
            _ => {
                status.work_tree.insert(change.path);
            }
        }
    }
    // Untracked files are the scan's walk to find: every path protected,
    // the "new, untracked" findings are waypost's untracked set.
    let config = ScanConfig {
        protected_paths: vec!["**".into()],
        ..ScanConfig::default()
    };
    let report = scan_config(root, &config, &context()).report;
    let mut scanned_changes = BTreeSet::new();
    for gap in &report.gaps {
        if gap.detector.as_deref() != Some("protected_path_modified") {
            continue;
        }
        let path = gap.evidence.as_ref().expect("evidence").file_paths[0].clone();
        if gap
            .title
            .as_deref()
            .is_some_and(|t| t.contains("untracked"))
        {
            status.untracked.insert(path);
        } else {
            scanned_changes.insert(path);
        }
    }
    (status, unknown, scanned_changes)
}

fn set_mtime(path: &Path, when: SystemTime) {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open for set_modified");
    file.set_modified(when).expect("set mtime");
}

#[cfg(unix)]
fn set_executable(path: &Path, executable: bool) {
    use std::os::unix::fs::PermissionsExt;
    let mode = if executable { 0o755 } else { 0o644 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A committed repository with the settings every case starts from, set
/// in the repository so a user's own configuration cannot change them.
fn base() -> TestRepo {
    let repo = TestRepo::new();
    repo.git(&["config", "core.autocrlf", "false"]);
    repo.git(&["config", "core.fileMode", "true"]);
    repo.write("kept.txt", "unchanged\n");
    repo
}

/// One repository state: its name, how to build it, and what git must say
/// (so a case cannot pass by both sides seeing nothing).
struct Case {
    name: &'static str,
    build: fn() -> TestRepo,
    git_reports_a_change: bool,
}

/// Removes `path` and has git check it out again, as a clone would: the
/// work tree gets git's line endings and the index the new stat data.
fn check_out_again(repo: &TestRepo, path: &str) {
    std::fs::remove_file(repo.path().join(path)).expect("remove");
    repo.git(&["checkout", "--", path]);
}

/// Gives `path` a new mtime, so stat data cannot settle it and git (and
/// waypost) compare its content, through git's conversions.
fn touch(repo: &TestRepo, path: &str) {
    set_mtime(
        &repo.path().join(path),
        SystemTime::now() + Duration::from_secs(5),
    );
}

fn crlf_with_text_auto() -> TestRepo {
    let repo = base();
    repo.write(".gitattributes", "* text=auto\n")
        .write("a.txt", "one\ntwo\n")
        .commit_all("lf");
    repo.git(&["config", "core.eol", "crlf"]);
    check_out_again(&repo, "a.txt");
    assert_eq!(
        std::fs::read_to_string(repo.path().join("a.txt")).expect("read"),
        "one\r\ntwo\r\n"
    );
    repo
}

fn crlf_with_text_auto_touched() -> TestRepo {
    let repo = crlf_with_text_auto();
    touch(&repo, "a.txt");
    repo
}

fn crlf_with_eol_crlf_attribute() -> TestRepo {
    let repo = base();
    repo.write(".gitattributes", "*.txt text eol=crlf\n")
        .write("a.txt", "one\ntwo\n")
        .commit_all("lf");
    check_out_again(&repo, "a.txt");
    touch(&repo, "a.txt");
    repo
}

/// CRLF written over an LF file by hand: a different size than the index
/// records, which git reports as modified without reading the content.
fn crlf_written_by_hand_under_text_auto() -> TestRepo {
    let repo = base();
    repo.write(".gitattributes", "* text=auto\n")
        .write("a.txt", "one\ntwo\n")
        .commit_all("lf");
    repo.write("a.txt", "one\r\ntwo\r\n");
    repo
}

fn crlf_without_attributes() -> TestRepo {
    let repo = base();
    repo.write("a.txt", "one\ntwo\n").commit_all("lf");
    repo.git(&["config", "core.eol", "crlf"]);
    check_out_again(&repo, "a.txt");
    // No `text` attribute and no autocrlf: checked out as stored.
    repo.write("a.txt", "one\r\ntwo\r\n");
    repo
}

fn crlf_with_autocrlf() -> TestRepo {
    let repo = base();
    repo.write("a.txt", "one\ntwo\n").commit_all("lf");
    repo.git(&["config", "core.autocrlf", "true"]);
    check_out_again(&repo, "a.txt");
    touch(&repo, "a.txt");
    repo
}

fn crlf_text_auto_real_edit() -> TestRepo {
    let repo = crlf_with_text_auto();
    // The same size: only the content tells.
    repo.write("a.txt", "one\r\nTWO\r\n");
    touch(&repo, "a.txt");
    repo
}

fn ident_expanded() -> TestRepo {
    let repo = base();
    repo.write(".gitattributes", "*.c ident\n")
        .write("m.c", "/* $Id$ */\n")
        .commit_all("ident");
    check_out_again(&repo, "m.c");
    let text = std::fs::read_to_string(repo.path().join("m.c")).expect("read");
    assert!(text.starts_with("/* $Id: "), "{text}");
    touch(&repo, "m.c");
    repo
}

#[cfg(unix)]
fn executable_bit_with_file_mode() -> TestRepo {
    let repo = base();
    repo.write("run.sh", "echo hi\n").commit_all("script");
    set_executable(&repo.path().join("run.sh"), true);
    repo
}

#[cfg(unix)]
fn executable_bit_without_file_mode() -> TestRepo {
    let repo = executable_bit_with_file_mode();
    repo.git(&["config", "core.fileMode", "false"]);
    repo
}

/// Same size, and the same mtime as the index records, written in the
/// same second as the index: only git's racy-entry rule (an entry not
/// older than the index is checked by content) shows the change.
fn racy_clean() -> TestRepo {
    let repo = base();
    repo.git(&["config", "core.trustctime", "false"]);
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
    repo.write("racy.txt", "aaaa\n");
    set_mtime(&repo.path().join("racy.txt"), when);
    repo.commit_all("racy");
    set_mtime(&repo.path().join(".git/index"), when);
    repo.write("racy.txt", "bbbb\n");
    set_mtime(&repo.path().join("racy.txt"), when);
    repo
}

/// The same, with the content unchanged: racy, but clean.
fn racy_unchanged() -> TestRepo {
    let repo = racy_clean();
    repo.write("racy.txt", "aaaa\n");
    set_mtime(
        &repo.path().join("racy.txt"),
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600),
    );
    repo
}

const POINTER: &str = "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n";

/// An LFS pointer with no LFS driver configured: git passes it through.
fn lfs_pointer_untouched() -> TestRepo {
    let repo = base();
    repo.write(
        ".gitattributes",
        "*.bin filter=lfs diff=lfs merge=lfs -text\n",
    )
    .write("model.bin", POINTER)
    .commit_all("pointer");
    // A new mtime: stat alone cannot settle it.
    set_mtime(
        &repo.path().join("model.bin"),
        SystemTime::now() + Duration::from_secs(5),
    );
    repo
}

fn lfs_pointer_edited() -> TestRepo {
    let repo = lfs_pointer_untouched();
    repo.write("model.bin", &POINTER.replace("12345", "54321"));
    repo
}

#[cfg(unix)]
fn symlink_retargeted() -> TestRepo {
    let repo = base();
    repo.write("a.txt", "a\n").write("b.txt", "b\n");
    std::os::unix::fs::symlink("a.txt", repo.path().join("link")).expect("symlink");
    repo.commit_all("link");
    std::fs::remove_file(repo.path().join("link")).expect("remove");
    std::os::unix::fs::symlink("b.txt", repo.path().join("link")).expect("symlink");
    repo
}

#[cfg(unix)]
fn symlink_became_file() -> TestRepo {
    let repo = base();
    repo.write("a.txt", "a\n");
    std::os::unix::fs::symlink("a.txt", repo.path().join("link")).expect("symlink");
    repo.commit_all("link");
    std::fs::remove_file(repo.path().join("link")).expect("remove");
    repo.write("link", "a.txt");
    repo
}

#[cfg(unix)]
fn symlink_untouched() -> TestRepo {
    let repo = base();
    repo.write("a.txt", "a\n");
    std::os::unix::fs::symlink("a.txt", repo.path().join("link")).expect("symlink");
    repo.commit_all("link");
    repo
}

/// A repository with a submodule at `sub`, committed.
fn with_submodule() -> TestRepo {
    let sub = TestRepo::new();
    sub.write("inner.txt", "inner\n").commit_all("inner");
    let repo = base();
    repo.commit_all("base");
    let url = sub.path().to_string_lossy().into_owned();
    repo.git(&[
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "--quiet",
        &url,
        "sub",
    ]);
    repo.commit_all("submodule");
    // The source repository may go: the submodule has its own clone.
    drop(sub);
    repo
}

fn submodule_new_commit() -> TestRepo {
    let repo = with_submodule();
    let sub = repo.path().join("sub");
    std::fs::write(sub.join("inner.txt"), "changed\n").expect("write");
    let status = waypost_test_support::hermetic_git(&sub)
        .args(["commit", "--quiet", "-am", "inside"])
        .status()
        .expect("git");
    assert!(status.success());
    repo
}

fn submodule_dirty() -> TestRepo {
    let repo = with_submodule();
    std::fs::write(repo.path().join("sub/inner.txt"), "dirty\n").expect("write");
    repo
}

fn intent_to_add() -> TestRepo {
    let repo = base();
    repo.commit_all("base");
    repo.write("sneaky.txt", "new\n");
    repo.git(&["add", "--intent-to-add", "sneaky.txt"]);
    repo
}

fn staged_edit_and_delete() -> TestRepo {
    let repo = base();
    repo.write("a.txt", "a\n")
        .write("b.txt", "b\n")
        .write("c.txt", "c\n");
    repo.commit_all("abc");
    repo.write("a.txt", "a2\n");
    repo.git(&["add", "a.txt"]);
    repo.git(&["rm", "--quiet", "--cached", "b.txt"]);
    std::fs::remove_file(repo.path().join("c.txt")).expect("remove");
    repo.write("new/untracked.txt", "new\n");
    repo.write(".gitignore", "ignored/\n");
    repo.write("ignored/x.txt", "x\n");
    repo
}

/// A staged edit whose index records its own tree (the cache-tree, valid
/// after `git write-tree`), which is not HEAD's: still a staged change.
fn staged_edit_with_cache_tree() -> TestRepo {
    let repo = base();
    repo.write("a.txt", "a\n").commit_all("a");
    repo.write("a.txt", "a2\n");
    repo.git(&["add", "a.txt"]);
    repo.git(&["write-tree"]);
    repo
}

fn staged_then_edited_back() -> TestRepo {
    let repo = base();
    repo.write("a.txt", "a\n").commit_all("a");
    repo.write("a.txt", "a2\n");
    repo.git(&["add", "a.txt"]);
    repo.write("a.txt", "a\n");
    repo
}

fn cases() -> Vec<Case> {
    let mut cases = vec![
        Case {
            name: "CRLF checked out under `* text=auto`",
            build: crlf_with_text_auto,
            git_reports_a_change: false,
        },
        Case {
            name: "CRLF checked out under `* text=auto`, touched",
            build: crlf_with_text_auto_touched,
            git_reports_a_change: false,
        },
        Case {
            name: "CRLF checked out under `eol=crlf`, touched",
            build: crlf_with_eol_crlf_attribute,
            git_reports_a_change: false,
        },
        Case {
            name: "CRLF written by hand under `* text=auto`",
            build: crlf_written_by_hand_under_text_auto,
            git_reports_a_change: true,
        },
        Case {
            name: "CRLF in the work tree, no attributes",
            build: crlf_without_attributes,
            git_reports_a_change: true,
        },
        Case {
            name: "CRLF checked out with core.autocrlf=true, touched",
            build: crlf_with_autocrlf,
            git_reports_a_change: false,
        },
        Case {
            name: "a real edit under `* text=auto`",
            build: crlf_text_auto_real_edit,
            git_reports_a_change: true,
        },
        Case {
            name: "an expanded `$Id$` under `ident`",
            build: ident_expanded,
            git_reports_a_change: false,
        },
        Case {
            name: "racy-clean entry with other content",
            build: racy_clean,
            git_reports_a_change: true,
        },
        Case {
            name: "racy-clean entry with the same content",
            build: racy_unchanged,
            git_reports_a_change: false,
        },
        Case {
            name: "LFS pointer, no driver, untouched",
            build: lfs_pointer_untouched,
            git_reports_a_change: false,
        },
        Case {
            name: "LFS pointer, no driver, edited",
            build: lfs_pointer_edited,
            git_reports_a_change: true,
        },
        Case {
            name: "submodule checked out at a new commit",
            build: submodule_new_commit,
            git_reports_a_change: true,
        },
        Case {
            name: "a new file added with intent to add",
            build: intent_to_add,
            git_reports_a_change: true,
        },
        Case {
            name: "submodule untouched",
            build: with_submodule,
            git_reports_a_change: false,
        },
        Case {
            name: "staged edit, staged delete, deleted, untracked, ignored",
            build: staged_edit_and_delete,
            git_reports_a_change: true,
        },
        Case {
            name: "staged edit, cache-tree written",
            build: staged_edit_with_cache_tree,
            git_reports_a_change: true,
        },
        Case {
            name: "staged edit, work tree back to HEAD",
            build: staged_then_edited_back,
            git_reports_a_change: true,
        },
    ];
    #[cfg(unix)]
    cases.extend([
        Case {
            name: "executable bit, core.fileMode=true",
            build: executable_bit_with_file_mode,
            git_reports_a_change: true,
        },
        Case {
            name: "executable bit, core.fileMode=false",
            build: executable_bit_without_file_mode,
            git_reports_a_change: false,
        },
        Case {
            name: "symbolic link retargeted",
            build: symlink_retargeted,
            git_reports_a_change: true,
        },
        Case {
            name: "symbolic link replaced by a file",
            build: symlink_became_file,
            git_reports_a_change: true,
        },
        Case {
            name: "symbolic link untouched",
            build: symlink_untouched,
            git_reports_a_change: false,
        },
    ]);
    cases
}

#[test]
fn changed_paths_agree_with_git_status() {
    let mut failures = Vec::new();
    for case in cases() {
        let repo = (case.build)();
        // waypost first: it must not depend on anything git status does.
        let (waypost, unknown, scanned) = waypost_status(repo.path());
        let git = git_status(repo.path());
        let git_tracked: BTreeSet<String> = git.staged.union(&git.work_tree).cloned().collect();
        if scanned != git_tracked {
            failures.push(format!(
                "{}: the scan's changed paths differ\n  git     {git_tracked:?}\n  scan    {scanned:?}",
                case.name
            ));
        }
        let git_changed =
            !(git.staged.is_empty() && git.work_tree.is_empty() && git.untracked.is_empty());
        if git_changed != case.git_reports_a_change {
            failures.push(format!(
                "{}: the case is wrong, git says {git:?}",
                case.name
            ));
        }
        if !unknown.is_empty() {
            failures.push(format!(
                "{}: unexpected unknown paths {unknown:?}",
                case.name
            ));
        }
        if waypost != git {
            failures.push(format!(
                "{}:\n  git     {git:?}\n  waypost {waypost:?}",
                case.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A clean filter driver git would run (here an LFS-like one that maps the
/// work-tree bytes back to what is stored): git says clean, waypost does
/// not run the driver and says "unknown", never "modified".
#[test]
fn a_filter_driver_waypost_does_not_run_is_unknown_not_modified() {
    let repo = base();
    repo.git(&["config", "filter.upper.clean", "tr a-z A-Z"]);
    repo.write(".gitattributes", "*.dat filter=upper\n")
        .write("x.dat", "hello\n")
        .commit_all("filtered");
    // Stored as "HELLO\n" through the clean filter; the work tree keeps
    // lower case, which the filter maps back to the same blob.
    assert_eq!(repo.git(&["show", "HEAD:x.dat"]), "HELLO\n");
    set_mtime(
        &repo.path().join("x.dat"),
        SystemTime::now() + Duration::from_secs(5),
    );
    let changes = git_changes(repo.path()).expect("read").expect("repository");
    let git = git_status(repo.path());
    assert!(
        git.work_tree.is_empty(),
        "git runs the filter and sees no change: {git:?}"
    );
    assert_eq!(
        changes
            .iter()
            .map(|c| (c.path.as_str(), &c.kind))
            .collect::<Vec<_>>(),
        vec![(
            "x.dat",
            &ChangeKind::Unknown {
                filter: "upper".into()
            }
        )]
    );
    // The scan says so for a protected path, without blocking on it.
    let config = ScanConfig {
        protected_paths: vec!["*.dat".into()],
        ..ScanConfig::default()
    };
    let report = scan_config(repo.path(), &config, &context()).report;
    let gap = report
        .gaps
        .iter()
        .find(|g| g.detector.as_deref() == Some("protected_path_modified"))
        .expect("reported");
    assert!(!gap.blocks_autopilot);
    assert!(
        gap.title
            .as_deref()
            .is_some_and(|t| t.contains("may have changed")),
        "{gap:?}"
    );
    // And the driver really was not run by the scan: a driver that would
    // leave a trace leaves none.
    let trace = repo.path().join("driver-ran");
    repo.git(&[
        "config",
        "filter.upper.clean",
        &format!("touch {} && tr a-z A-Z", trace.display()),
    ]);
    let _ = git_changes(repo.path()).expect("read");
    let _ = scan_config(repo.path(), &config, &context());
    assert!(!trace.exists(), "the scan ran a filter driver");
}

/// The headline case end to end: a protected file checked out with CRLF
/// under `* text=auto` is not "protected and has unstaged changes".
#[test]
fn crlf_checkout_under_text_auto_is_not_a_protected_change() {
    let repo = crlf_with_text_auto();
    let config = ScanConfig {
        protected_paths: vec!["a.txt".into()],
        ..ScanConfig::default()
    };
    let report = scan_config(repo.path(), &config, &context()).report;
    assert!(
        !report
            .gaps
            .iter()
            .any(|g| g.detector.as_deref() == Some("protected_path_modified")),
        "{:?}",
        report.gaps
    );
    // A real edit still is.
    repo.write("a.txt", "one\r\nedited\r\n");
    touch(&repo, "a.txt");
    let report = scan_config(repo.path(), &config, &context()).report;
    assert!(
        report
            .gaps
            .iter()
            .any(|g| g.detector.as_deref() == Some("protected_path_modified"))
    );
}

/// The scan leaves the repository as it found it: no index written, no
/// lock file left, even where git would refresh stat data.
#[test]
fn reading_changes_writes_nothing() {
    let repo = crlf_with_text_auto();
    let index = repo.path().join(".git/index");
    let before = std::fs::read(&index).expect("index");
    let modified = std::fs::metadata(&index)
        .and_then(|m| m.modified())
        .expect("mtime");
    let _ = git_changes(repo.path()).expect("read");
    let config = ScanConfig {
        protected_paths: vec!["**".into()],
        ..ScanConfig::default()
    };
    let _ = scan_config(repo.path(), &config, &context());
    assert_eq!(std::fs::read(&index).expect("index"), before);
    assert_eq!(
        std::fs::metadata(&index)
            .and_then(|m| m.modified())
            .expect("mtime"),
        modified
    );
    assert!(!repo.path().join(".git/index.lock").exists());
}

/// The one deliberate difference: a submodule is compared by the commit it
/// is checked out at. Edits inside it belong to its own repository (and
/// reading its work tree would read files no check has seen), so an edit
/// git reports as a dirty submodule is not a change here; a new commit is.
#[test]
fn a_submodule_is_judged_by_its_commit_not_its_work_tree() {
    let repo = submodule_dirty();
    let (waypost, _, _) = waypost_status(repo.path());
    let git = git_status(repo.path());
    assert!(git.work_tree.contains("sub"), "{git:?}");
    assert!(!waypost.work_tree.contains("sub"), "{waypost:?}");
    let repo = submodule_new_commit();
    let (waypost, _, _) = waypost_status(repo.path());
    assert!(waypost.work_tree.contains("sub"), "{waypost:?}");
}

/// Runs `f` on another thread and fails the test if it has not finished
/// within `seconds` (a scan that blocks on a FIFO never would).
fn within<T: Send + 'static>(seconds: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(f());
    });
    receive
        .recv_timeout(Duration::from_secs(seconds))
        .expect("finished in time")
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

/// Files inside a protected submodule are never read (a FIFO there does
/// not block the scan), and a hostile file of its git folder is refused by
/// name before gix would wait on it.
#[cfg(unix)]
#[test]
fn a_hostile_submodule_neither_blocks_nor_is_read() {
    let repo = with_submodule();
    std::fs::create_dir_all(repo.path().join("sub/d")).expect("mkdir");
    mkfifo(&repo.path().join("sub/d/.gitignore"));
    mkfifo(&repo.path().join("sub/d/x.txt"));
    let root = repo.path().to_owned();
    let changes = within(30, move || {
        git_changes(&root).map(|c| c.unwrap_or_default())
    });
    assert!(changes.is_ok(), "{changes:?}");

    let repo = with_submodule();
    let head = repo.path().join(".git/modules/sub/HEAD");
    std::fs::remove_file(&head).expect("rm");
    mkfifo(&head);
    let root = repo.path().to_owned();
    let error = within(30, move || git_changes(&root)).expect_err("refused");
    assert!(error.to_string().contains("modules/sub/HEAD"), "{error}");
}

/// An in-tree `.gitattributes` that is a symbolic link is ignored, as git
/// ignores it; it does not stop the scan.
#[cfg(unix)]
#[test]
fn a_linked_gitattributes_is_ignored_as_git_ignores_it() {
    let repo = crlf_with_text_auto_touched();
    std::fs::write(repo.path().join("elsewhere"), "* -text\n").expect("write");
    std::fs::remove_file(repo.path().join(".gitattributes")).expect("rm");
    std::os::unix::fs::symlink("elsewhere", repo.path().join(".gitattributes")).expect("link");
    let (waypost, _, _) = waypost_status(repo.path());
    let git = git_status(repo.path());
    assert_eq!(waypost, git);
}
