//! Hostile files on disk: FIFOs, links to devices, link loops and names
//! that are not UTF-8 never hang, exhaust memory or mislead. Each run is
//! bounded in time (a hang fails the test) and in address space (1 GiB),
//! and its peak resident memory is measured (getrusage of the child, taken
//! by a small Python wrapper).
#![cfg(unix)]
#![allow(
    clippy::print_stderr,
    reason = "the memory figures are reported on stderr (shown with --nocapture)"
)]

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use waypost_test_support::TestRepo;

/// Runs the command in argv[1:] with at most 1 GiB of address space, then
/// prints its exit code and peak resident memory (KiB) on the last line of
/// standard error.
const MEASURE: &str = "import resource, subprocess, sys
def limit():
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
code = subprocess.run(sys.argv[1:], preexec_fn=limit).returncode
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.write('\\nmeasured: %d %d\\n' % (code, peak))";

/// Exit code, standard output, standard error and peak resident memory
/// (KiB) of `waypost ARGS` in `dir`, killed and failed after 20 s, with at
/// most 1 GiB of address space (so a runaway allocation fails fast).
fn measured(dir: &Path, args: &[&str]) -> (i32, String, String, u64) {
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(MEASURE)
        .arg(env!("CARGO_BIN_EXE_waypost"))
        .args(args)
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("waypost {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let (rest, last) = stderr
        .trim_end()
        .rsplit_once("\nmeasured: ")
        .expect("the wrapper's last line");
    let mut numbers = last.split(' ').map(|n| n.parse::<i64>().expect("a number"));
    let code = numbers.next().expect("exit code");
    let peak = numbers.next().expect("peak");
    (
        i32::try_from(code).expect("small"),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        rest.to_owned(),
        u64::try_from(peak).unwrap_or(0),
    )
}

/// [`measured`] without the memory figure.
fn bounded(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let (code, stdout, stderr, _) = measured(dir, args);
    (code, stdout, stderr)
}

fn mkfifo(path: &Path) {
    assert!(
        Command::new("mkfifo")
            .arg(path)
            .status()
            .expect("mkfifo")
            .success(),
        "mkfifo {}",
        path.display()
    );
}

fn repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("README.md", "# demo\n")
        .write(
            "intention.toml",
            "project_id = \"demo\"\n[scope_boundaries]\nprotected_paths = [\"deploy/**\"]\nallowed_write_roots = [\"docs/\"]\n",
        )
        .write("deploy/prod.yml", "replicas: 2\n")
        .commit_all("init");
    repo
}

#[test]
fn validate_refuses_a_fifo_and_never_loops_in_a_folder() {
    let dir = tempfile::tempdir().expect("temp");
    mkfifo(&dir.path().join("plan.json"));
    let (code, _, stderr) = bounded(dir.path(), &["validate", "plan.json"]);
    assert_eq!(code, 2, "{stderr}");
    let (code, stdout, _) = bounded(dir.path(), &["validate", "."]);
    assert_eq!(code, 2, "{stdout}");
    assert!(stdout.contains("FIFO"), "{stdout}");
    let (code, stdout, _) = bounded(dir.path(), &["validate", "--format", "json", "."]);
    assert_eq!(code, 2, "{stdout}");
    // Links back up: each file once, and the walk ends.
    std::fs::remove_file(dir.path().join("plan.json")).expect("rm");
    std::fs::write(dir.path().join("a.json"), "{}").expect("write");
    symlink(".", dir.path().join("loop1")).expect("link");
    symlink(".", dir.path().join("loop2")).expect("link");
    let (_, stdout, _) = bounded(dir.path(), &["validate", "--format", "json", "."]);
    serde_json::from_str::<Value>(&stdout).expect("one JSON report");
    assert_eq!(
        stdout.matches("a.json").count(),
        1,
        "each file once: {stdout}"
    );
}

#[test]
fn scan_never_blocks_on_a_fifo() {
    // Where inference and the scanner read files directly.
    for name in [
        "CODEOWNERS",
        "Cargo.toml",
        "deploy/new.yml",
        "docs/.gitignore",
    ] {
        let repo = repo();
        std::fs::create_dir_all(repo.path().join("docs")).expect("mkdir");
        mkfifo(&repo.path().join(name));
        let (code, stdout, stderr) = bounded(repo.path(), &["scan", "--format", "json"]);
        assert!(code == 0 || code == 1, "{name}: {code} {stderr}");
        if name == "deploy/new.yml" {
            assert!(
                stdout.contains("is a new, untracked special file"),
                "{stdout}"
            );
        }
        if name == "docs/.gitignore" {
            let report: Value = serde_json::from_str(&stdout).expect("json");
            let refused = report["skipped_files"]["refused_folders"].to_string();
            assert!(refused.contains("docs/.gitignore"), "{name}: {refused}");
        }
    }
    // Files whose content decides the scan: a clear error, exit 2.
    // The attribute files git's conversions read for a protected path.
    for name in [
        "waypost.toml",
        ".gitignore",
        "intention.toml",
        ".gitattributes",
        "deploy/.gitattributes",
        "deploy/.gitignore",
    ] {
        let repo = repo();
        let _ = std::fs::remove_file(repo.path().join(name));
        mkfifo(&repo.path().join(name));
        let (code, _, stderr) = bounded(repo.path(), &["scan"]);
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(stderr.contains(name), "{name}: {stderr}");
    }
}

#[test]
fn scan_never_reads_through_a_link_to_a_device() {
    for name in [
        "CODEOWNERS",
        "Cargo.toml",
        "deploy/zero.yml",
        "docs/.gitignore",
        ".gitignore",
    ] {
        let repo = repo();
        std::fs::create_dir_all(repo.path().join("docs")).expect("mkdir");
        symlink("/dev/zero", repo.path().join(name)).expect("link");
        let start = Instant::now();
        let (code, _, stderr, peak_kib) = measured(repo.path(), &["scan"]);
        assert!((0..=2).contains(&code), "{name}: {code} {stderr}");
        if name == "deploy/zero.yml" {
            assert_eq!(code, 1, "a new link under a protected path is a gap");
        }
        assert!(!stderr.contains("memory allocation"), "{name}: {stderr}");
        assert!(start.elapsed() < Duration::from_secs(15), "{name}");
        // A scan of a tiny repository: tens of MiB, never the gigabytes a
        // read of /dev/zero would take.
        assert!(peak_kib < 200 * 1024, "{name}: peak {peak_kib} KiB");
        eprintln!("{name} -> /dev/zero: exit {code}, peak {peak_kib} KiB");
    }
    // waypost.toml: refused by name.
    let repo = repo();
    symlink("/dev/zero", repo.path().join("waypost.toml")).expect("link");
    let (code, _, stderr) = bounded(repo.path(), &["scan"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("waypost.toml"), "{stderr}");
}

#[test]
fn committed_links_and_non_utf8_names_are_compared_as_git_compares_them() {
    use std::os::unix::ffi::OsStrExt;
    let repo = repo();
    symlink("prod.yml", repo.path().join("deploy/current.yml")).expect("link");
    let odd = std::ffi::OsStr::from_bytes(b"deploy/caf\xe9.yml");
    std::fs::write(repo.path().join(odd), "x: 1\n").expect("write");
    repo.commit_all("link and a Latin-1 name");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    let (code, stdout, _) = bounded(repo.path(), &["scan", "--format", "json"]);
    let report: Value = serde_json::from_str(&stdout).expect("json");
    let protected: Vec<&Value> = report["gaps"]
        .as_array()
        .expect("gaps")
        .iter()
        .filter(|g| g["detector"] == "protected_path_modified")
        .collect();
    assert!(protected.is_empty(), "git status is clean: {protected:?}");
    assert!(code == 0 || code == 1);

    // A link replaced by a file holding its target's text, and a file made
    // executable: git sees both, so does the scan.
    std::fs::remove_file(repo.path().join("deploy/current.yml")).expect("rm");
    std::fs::write(repo.path().join("deploy/current.yml"), "prod.yml").expect("write");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        repo.path().join("deploy/prod.yml"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    let (_, stdout, _) = bounded(repo.path(), &["scan", "--format", "json"]);
    for path in ["deploy/current.yml", "deploy/prod.yml"] {
        assert!(
            stdout.contains(&format!("{path} is protected and changed its ")),
            "{path}: {stdout}"
        );
    }
    repo.commit_all("accept the type and mode changes");

    // Changed: reported under a name that leads back to the file.
    std::fs::write(repo.path().join(odd), "x: 2\n").expect("write");
    let (_, stdout, _) = bounded(repo.path(), &["scan", "--format", "json"]);
    let report: Value = serde_json::from_str(&stdout).expect("json");
    let shown: Vec<String> = report["gaps"]
        .as_array()
        .expect("gaps")
        .iter()
        .filter(|g| g["detector"] == "protected_path_modified")
        .filter_map(|g| g["evidence"]["file_paths"][0].as_str().map(str::to_owned))
        .collect();
    assert_eq!(shown, ["deploy/caf\\xE9.yml"], "{stdout}");
    let back = waypost::schemas::paths::on_disk(repo.path(), &shown[0]);
    assert_eq!(
        std::fs::read(back).expect("the reported path names the file"),
        b"x: 2\n"
    );
    // SARIF wants a URI: the name's bytes, percent-encoded.
    let (_, stdout, _) = bounded(repo.path(), &["scan", "--format", "sarif"]);
    assert!(
        stdout.contains("\"uri\": \"deploy/caf%E9.yml\""),
        "{stdout}"
    );
}

/// `/etc/passwd`'s first field, which must never appear in any output.
const PASSWD_MARK: &str = "root:x:0:0";

#[test]
fn git_files_and_nested_repositories_never_hang_or_leak() {
    // A nested repository's exclude file is never read.
    let repo = repo();
    std::fs::create_dir_all(repo.path().join("nest/.git/info")).expect("mkdir");
    mkfifo(&repo.path().join("nest/.git/info/exclude"));
    let (code, _, stderr) = bounded(repo.path(), &["scan"]);
    assert!(code == 0 || code == 1, "{stderr}");
    // ...nor what a nested `.git` file points at.
    let repo = self::repo();
    std::fs::create_dir_all(repo.path().join("nest2/fake")).expect("mkdir");
    std::fs::write(repo.path().join("nest2/.git"), "gitdir: fake\n").expect("write");
    mkfifo(&repo.path().join("nest2/fake/commondir"));
    let (code, _, stderr) = bounded(repo.path(), &["scan"]);
    assert!(code == 0 || code == 1, "{stderr}");
    // The repository's own git files: refused by name, never waited on.
    for name in ["HEAD", "packed-refs", "config"] {
        let repo = self::repo();
        let path = repo.path().join(".git").join(name);
        let _ = std::fs::remove_file(&path);
        mkfifo(&path);
        let (code, _, stderr) = bounded(repo.path(), &["scan"]);
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(stderr.contains(name), "{name}: {stderr}");
    }
    let repo = self::repo();
    let packed = repo.path().join(".git/packed-refs");
    let _ = std::fs::remove_file(&packed);
    symlink("/etc/passwd", &packed).expect("link");
    let (code, stdout, stderr) = bounded(repo.path(), &["scan"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        !stdout.contains(PASSWD_MARK) && !stderr.contains(PASSWD_MARK),
        "{stderr}"
    );
    // A worktree record that links elsewhere is not read through.
    let repo = self::repo();
    std::fs::create_dir_all(repo.path().join(".git/worktrees/w1")).expect("mkdir");
    symlink("/etc/passwd", repo.path().join(".git/worktrees/w1/gitdir")).expect("link");
    let (_, stdout, stderr) = bounded(repo.path(), &["scan", "--format", "json"]);
    assert!(
        !stdout.contains(PASSWD_MARK) && !stderr.contains(PASSWD_MARK),
        "{stdout}"
    );
}

#[test]
fn a_linked_anchor_in_the_repository_is_refused_not_followed() {
    let outside = tempfile::tempdir().expect("temp");
    std::fs::write(
        outside.path().join("secret.toml"),
        "project_id = \"SECRET-PROJECT\"\n",
    )
    .expect("write");
    let repo = repo();
    std::fs::remove_file(repo.path().join("intention.toml")).expect("rm");
    symlink(
        outside.path().join("secret.toml"),
        repo.path().join("intention.toml"),
    )
    .expect("link");
    for args in [&["anchor", "show"][..], &["scan"][..]] {
        let (code, stdout, stderr) = bounded(repo.path(), args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains("symbolic link"), "{args:?}: {stderr}");
        assert!(
            !stdout.contains("SECRET") && !stderr.contains("SECRET"),
            "{args:?}"
        );
    }
    // Named on the command line, a link is followed: a person chose it.
    let (code, stdout, _) = bounded(repo.path(), &["anchor", "show", "intention.toml"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("SECRET-PROJECT"), "{stdout}");
}

#[test]
fn limits_and_run_folders_stay_inside() {
    // No configuration makes a scanning thread hold a huge file.
    let repo = repo();
    repo.write("waypost.toml", "[scan]\nmax_file_bytes = 20000000000\n");
    let (code, _, stderr) = bounded(repo.path(), &["scan"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("max_file_bytes") && stderr.contains("at most"),
        "{stderr}"
    );

    // A linked run root is neither walked nor written through.
    let outside = tempfile::tempdir().expect("temp");
    let repo = self::repo();
    symlink(outside.path(), repo.path().join(".autonomous_runs")).expect("link");
    let (code, _, stderr) = bounded(repo.path(), &["scan", "--write"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(outside.path()).expect("list").count(),
        0,
        "nothing written outside"
    );
}

#[test]
fn dot_ignore_files_do_not_hide_what_git_shows() {
    let repo = repo();
    repo.write("deploy/.ignore", "*\n");
    repo.write("deploy/evil.yml", "x: 1\n");
    let (code, stdout, _) = bounded(repo.path(), &["scan", "--format", "json"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("deploy/evil.yml is protected"), "{stdout}");
}

#[test]
fn a_generated_output_that_is_not_a_file_is_named_as_such() {
    let repo = repo();
    repo.write(
        "waypost.toml",
        "[[scan.generated]]\noutput = \"docs/api.md\"\ninputs = [\"src/*.rs\"]\n",
    )
    .write("src/lib.rs", "pub fn f() {}\n");
    std::fs::create_dir_all(repo.path().join("docs")).expect("mkdir");
    mkfifo(&repo.path().join("docs/api.md"));
    let (code, stdout, stderr) = bounded(repo.path(), &["scan", "--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stdout.contains("Generated file docs/api.md cannot be read"),
        "{stdout}"
    );
    assert!(stdout.contains("FIFO"), "{stdout}");
}

/// A document of one long line holding thousands of broken links: each
/// finding keeps a window of the line, not a copy of it, so memory follows
/// the findings (a copy each would take gigabytes here).
#[test]
fn one_long_line_of_links_keeps_memory_bounded() {
    let repo = repo();
    let line: String = (0..20_000).map(|i| format!("[a](gone{i}.md) ")).collect();
    repo.write("docs/long.md", &format!("{line}\n"));
    let (code, stdout, stderr, peak_kib) = measured(repo.path(), &["scan"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.contains("20,000"), "{stdout}");
    // About 300 KB of line: 20 000 copies would be 6 GB.
    assert!(peak_kib < 400 * 1024, "peak {peak_kib} KiB");
    eprintln!("20 000 links on one line: peak {peak_kib} KiB");
}
