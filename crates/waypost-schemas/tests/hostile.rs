//! Hostile files: reads never block, never follow a link they were told not
//! to, never allocate past their cap; a killed writer leaves no pile of
//! temporary files.

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use waypost_schemas::io::{Links, ReadError, read_file, write_atomic};

/// Runs `f` on a thread and fails the test if it takes longer than `limit`
/// (instead of hanging CI).
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("did not finish within {limit:?}"))
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo");
    assert!(status.success());
}

#[cfg(unix)]
#[test]
fn schema_012_a_fifo_is_refused_at_once() {
    let dir = tempfile::tempdir().expect("temp");
    let fifo = dir.path().join("waypost.toml");
    mkfifo(&fifo);
    for links in [Links::Follow, Links::Refuse] {
        let path = fifo.clone();
        let err = within(Duration::from_secs(5), move || {
            read_file(&path, 1024, links)
        })
        .expect_err("a FIFO");
        assert!(
            matches!(err, ReadError::NotAFile { kind: "a FIFO", .. }),
            "{err}"
        );
        assert!(err.to_string().contains("waypost.toml"), "{err}");
    }
}

#[cfg(unix)]
#[test]
fn schema_012_a_link_to_a_device_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().expect("temp");
    let link = dir.path().join("Cargo.toml");
    std::os::unix::fs::symlink("/dev/zero", &link).expect("link");
    let path = link.clone();
    let err = within(Duration::from_secs(5), move || {
        read_file(&path, 1024, Links::Follow)
    })
    .expect_err("a device");
    assert!(
        matches!(
            err,
            ReadError::NotAFile {
                kind: "a character device",
                ..
            }
        ),
        "{err}"
    );
    let err = read_file(&link, 1024, Links::Refuse).expect_err("a link");
    assert!(matches!(err, ReadError::Symlink { .. }), "{err}");
    // A link to a regular file is read when links are followed.
    std::fs::write(dir.path().join("real.toml"), "x = 1\n").expect("write");
    std::os::unix::fs::symlink("real.toml", dir.path().join("alias.toml")).expect("link");
    assert_eq!(
        read_file(&dir.path().join("alias.toml"), 1024, Links::Follow).expect("read"),
        b"x = 1\n"
    );
    // A folder is named as one.
    let err = read_file(dir.path(), 1024, Links::Follow).expect_err("a folder");
    assert!(
        matches!(
            err,
            ReadError::NotAFile {
                kind: "a folder",
                ..
            }
        ),
        "{err}"
    );
}

/// The child side of the crash test: writes 2 MB files into the folder
/// named by `WAYPOST_CRASH_DIR` until it is killed. Not a test on its own.
#[test]
#[ignore = "run by schema_013_atomic_writes_survive_kill_9 in a child process"]
fn crash_child_writer() {
    let Some(dir) = std::env::var_os("WAYPOST_CRASH_DIR") else {
        return;
    };
    let target = Path::new(&dir).join("state.json");
    for seq in 0u64.. {
        let fill = char::from(b'a' + u8::try_from(seq % 26).expect("small"));
        let body: String = std::iter::repeat_n(fill, 2 * 1024 * 1024).collect();
        let text = format!("{{\"seq\":{seq},\"body\":\"{body}\"}}\n");
        write_atomic(&target, text.as_bytes()).expect("write");
    }
}

/// Counts the temporary files `write_atomic` may leave: anything in the
/// folder but the target.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != "state.json")
        .collect()
}

#[cfg(unix)]
#[test]
#[allow(
    clippy::print_stderr,
    reason = "the crash test reports its figures (shown with --nocapture)"
)]
fn schema_013_atomic_writes_survive_kill_9() {
    let full = std::env::var("WAYPOST_STRESS").is_ok_and(|v| v == "full");
    let kills = if full { 200 } else { 50 };
    let dir = tempfile::tempdir().expect("temp");
    let mut jitter = waypost_test_support::Jitter::new(0x9E37_79B9_7F4A_7C15);
    let mut most_leftovers = 0;
    let mut complete = 0;
    let start = Instant::now();
    for _ in 0..kills {
        let mut child = std::process::Command::new(std::env::current_exe().expect("exe"))
            .args([
                "--exact",
                "hostile::crash_child_writer",
                "--ignored",
                "--quiet",
            ])
            .env("WAYPOST_CRASH_DIR", dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn the writer");
        std::thread::sleep(Duration::from_millis(20 + jitter.below(80)));
        child.kill().expect("kill -9");
        child.wait().expect("reap");
        // The target is whole: one of the writer's files, never a mix.
        if let Ok(text) = std::fs::read_to_string(dir.path().join("state.json")) {
            let value: serde_json::Value =
                serde_json::from_str(&text).expect("a whole JSON document");
            let body = value["body"].as_str().expect("body");
            assert_eq!(body.len(), 2 * 1024 * 1024, "a whole body");
            let first = body.chars().next().expect("not empty");
            assert!(body.chars().all(|c| c == first), "one write's bytes only");
            complete += 1;
        }
        let left = leftovers(dir.path());
        most_leftovers = most_leftovers.max(left.len());
        assert!(left.len() <= 1, "temporary files piled up: {left:?}");
    }
    // The next writer removes what a dead one left.
    write_atomic(&dir.path().join("state.json"), b"{}\n").expect("write");
    assert_eq!(leftovers(dir.path()), Vec::<String>::new());
    eprintln!(
        "kill -9 x {kills}: {complete} complete targets read back, at most {most_leftovers} temporary file left at once, {:.1?}",
        start.elapsed()
    );
}

#[cfg(unix)]
#[test]
fn the_sole_writer_never_writes_through_a_link_left_at_its_temporary_name() {
    use waypost_schemas::io::write_atomic_sole_writer;
    let dir = tempfile::tempdir().expect("temp");
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "keep me").expect("write");
    std::os::unix::fs::symlink(&victim, dir.path().join(".rec.json.tmp")).expect("link");
    write_atomic_sole_writer(&dir.path().join("rec.json"), b"{}\n").expect("write");
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "keep me");
    assert_eq!(
        std::fs::read(dir.path().join("rec.json")).expect("read"),
        b"{}\n"
    );
    assert!(
        !std::fs::symlink_metadata(dir.path().join("rec.json"))
            .expect("meta")
            .file_type()
            .is_symlink()
    );
    // A FIFO there does not block it.
    let fifo = dir.path().join(".rec.json.tmp");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo")
            .success()
    );
    let target = dir.path().join("rec.json");
    within(Duration::from_secs(5), move || {
        write_atomic_sole_writer(&target, b"{\"a\":1}\n")
    })
    .expect("write");
}
