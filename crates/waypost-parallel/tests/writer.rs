//! Run-scoped artifacts: only under the run directory, never through
//! links, never shared files, only with a current lease.

use waypost_fences::ClaimError;
use waypost_parallel::{ArtifactWriteError, Repository, Run};

use crate::support::{anchor, config, repo};

#[test]
fn parallel_002_artifacts_land_in_the_run_directory_and_nowhere_else() {
    let repo = repo();
    let r = Repository::open(repo.path()).expect("open");
    let run = Run::start(&r, &anchor(None), "fix-1", "main", &config()).expect("start");
    let writer = run.writer();
    let run_dir = writer.layout().run_dir();
    let path = writer.write("logs/agent.txt", b"hello\n").expect("write");
    assert_eq!(path, run_dir.join("logs/agent.txt"));
    assert_eq!(std::fs::read(&path).expect("read"), b"hello\n");

    for hostile in [
        "../other-run/x.txt",
        "/etc/passwd",
        "logs/../../x",
        "",
        "a//b",
        "./x",
    ] {
        let err = writer.write(hostile, b"x").expect_err(hostile);
        assert!(
            matches!(err, ArtifactWriteError::BadPath { .. }),
            "{hostile}: {err}"
        );
    }
    // Shared files of the project, and the shared names at the run's top.
    let project = writer.layout().project_dir();
    for shared in [
        project.join("baseline.json"),
        project.join("runs/retry.json"),
        run_dir.join("baseline.json"),
        run_dir.join("retries.json"),
        run_dir.join("../other-run/gaps/gap_report_v1.json"),
    ] {
        let err = writer.write_at(&shared, b"{}").expect_err("shared");
        assert!(
            matches!(err, ArtifactWriteError::SharedFile { .. }),
            "{}: {err}",
            shared.display()
        );
        assert!(!shared.exists());
    }
    let elsewhere = r.root().join("src/lib.rs");
    let err = writer.write_at(&elsewhere, b"x").expect_err("outside");
    assert!(
        matches!(err, ArtifactWriteError::OutsideRun { .. }),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&elsewhere).expect("read"),
        "pub fn one() -> u32 { 1 }\n"
    );
    run.finish().expect("finish");
}

#[test]
fn parallel_002_a_symlink_inside_the_run_directory_is_never_followed() {
    let repo = repo();
    let outside = tempfile::tempdir().expect("outside");
    let r = Repository::open(repo.path()).expect("open");
    let run = Run::start(&r, &anchor(None), "fix-1", "main", &config()).expect("start");
    let writer = run.writer();
    let run_dir = writer.layout().run_dir();
    std::fs::create_dir_all(&run_dir).expect("run dir");
    std::os::unix::fs::symlink(outside.path(), run_dir.join("logs")).expect("link dir");
    let err = writer.write("logs/a.txt", b"x").expect_err("linked folder");
    assert!(matches!(err, ArtifactWriteError::Symlink { .. }), "{err}");
    std::fs::create_dir(run_dir.join("proofs")).expect("dir");
    std::os::unix::fs::symlink(outside.path().join("target"), run_dir.join("proofs/p.json"))
        .expect("link file");
    let err = writer
        .write("proofs/p.json", b"x")
        .expect_err("linked file");
    assert!(matches!(err, ArtifactWriteError::Symlink { .. }), "{err}");
    assert_eq!(std::fs::read_dir(outside.path()).expect("read").count(), 0);
    run.finish().expect("finish");
}

#[test]
fn parallel_002_a_writer_whose_lease_ended_or_was_taken_over_is_refused() {
    let repo = repo();
    let r = Repository::open(repo.path()).expect("open");
    let run = Run::start(&r, &anchor(None), "fix-1", "main", &config()).expect("start");
    let old = run.writer().clone();
    let old_token = run.fencing_token();
    old.write("logs/a.txt", b"first\n").expect("current");
    run.finish().expect("finish");
    let err = old.write("logs/a.txt", b"late\n").expect_err("ended");
    assert!(
        matches!(
            err,
            ArtifactWriteError::Fenced(ClaimError::StaleToken { current: None, .. })
        ),
        "{err}"
    );
    let next = Run::start(&r, &anchor(None), "fix-1", "main", &config()).expect("again");
    assert!(next.fencing_token() > old_token);
    next.writer()
        .write("logs/a.txt", b"successor\n")
        .expect("write");
    let err = old.write("logs/a.txt", b"late\n").expect_err("taken over");
    assert!(
        matches!(err, ArtifactWriteError::Fenced(ClaimError::StaleToken { current: Some(t), .. }) if t == next.fencing_token()),
        "{err}"
    );
    assert_eq!(
        std::fs::read(next.writer().layout().run_dir().join("logs/a.txt")).expect("read"),
        b"successor\n"
    );
    next.finish().expect("finish");
}
