//! The gap scan against ripgrep's full-content pass over the same tree, on
//! two trees:
//!
//! - **clean**: N generated files (default 100 000) with few findings, not
//!   a repository: the cost of reading and checking files.
//! - **findings**: a git repository of N/10 files (default 10 000) built
//!   the way real ones are: committed in several commits (thousands of
//!   loose objects, no pack), protected paths covering most files, a few
//!   of them changed in the work tree (and a checked-out CRLF file that
//!   git calls clean), and thousands of findings (broken links, code-span
//!   paths, CRLF and BOM files): the cost of git state and of findings.
//!
//! `cargo bench -p waypost-gaps --bench scan_vs_ripgrep [-- --files N] [--tree DIR] [--only clean|findings] [--without DETECTOR,…] [--scans N]`
//! (needs `rg`, Debian package `ripgrep`, and `git`). With `--tree DIR`
//! the trees are kept in DIR and reused by the next run, so a profiler can
//! watch the scans alone; `--scans N` then runs only the scan, N times,
//! for a profiler or a counter (`perf stat`).
//!
//! For each tree: warms the page cache, then times five alternating runs
//! of `waypost_gaps::scan` with every built-in detector and of `rg -c
//! <pattern>` (which reads every file, as the scan does), and in a
//! repository of `git status` too (the scan also says what changed). Prints
//! the medians, their ratios (goal: at most 1.2 against ripgrep for both
//! trees), the number of gaps and the peak resident memory of this process
//! (compare two sizes: it should follow the gaps, not the files).
#![allow(clippy::print_stdout, reason = "a bench binary reports on stdout")]

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The CLI's allocator: the bench measures what `waypost` does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use waypost_gaps::{ReportContext, ScanConfig, detectors, scan};
use waypost_schemas::Timestamp;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let files: usize = value("--files")
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let only = value("--only");
    // `--without a,b` leaves those detectors out: the cost of each one is
    // the difference it makes.
    let without: Vec<String> = value("--without")
        .map(|s| s.split(',').map(String::from).collect())
        .unwrap_or_default();
    if Command::new("rg").arg("--version").output().is_err() {
        println!("ripgrep (`rg`) is not installed: apt-get install ripgrep");
        std::process::exit(1);
    }
    // `--tree DIR` keeps the generated trees in DIR and reuses them on the
    // next run (for profiling); otherwise they live in a temporary folder.
    let kept = value("--tree").map(std::path::PathBuf::from);
    let dir = tempfile::tempdir().expect("temp dir");
    let base = kept.clone().unwrap_or_else(|| dir.path().to_owned());
    let mut ratios = Vec::new();
    for (name, generate_tree, n) in [
        ("clean", generate as fn(&Path, usize) -> u64, files),
        (
            "findings",
            generate_findings as fn(&Path, usize) -> u64,
            (files / 10).max(100),
        ),
    ] {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let root = base.join(name);
        if kept.is_some() && root.exists() {
            println!("[{name}] reusing the tree in {}", root.display());
        } else {
            let start = Instant::now();
            let bytes = generate_tree(&root, n);
            println!(
                "[{name}] generated {n} files ({:.1} MiB) in {:.1?}",
                bytes as f64 / 1_048_576.0,
                start.elapsed()
            );
        }
        ratios.push((name, measure(name, &root, &without)));
    }
    for (name, ratio) in ratios {
        println!("ratio {name:<9} {ratio:.2} (goal: at most 1.2)");
    }
    println!("peak RSS:           {}", peak_rss());
}

/// Times the scan and ripgrep on `root`; prints the figures and returns
/// the ratio of the medians.
fn measure(name: &str, root: &Path, without: &[String]) -> f64 {
    // Protected paths as an anchor usually has them, so the per-file
    // protected-path check is part of what is measured; the findings tree
    // protects most of its files, as a strict anchor does.
    let mut protected = vec![
        ".git/**",
        ".github/**",
        "intention.toml",
        "deploy/**",
        "**/*.pem",
    ];
    if name == "findings" {
        protected.push("src/**");
    }
    let config = ScanConfig {
        protected_paths: protected.into_iter().map(String::from).collect(),
        ..ScanConfig::default()
    };
    let mut detectors = detectors::builtin(&config);
    detectors.retain(|d| !without.iter().any(|w| w == d.id()));
    let context = ReportContext {
        project_id: "bench".into(),
        run_id: "bench-20260101T000000Z".into(),
        now: Timestamp::parse("2026-01-01T00:00:00Z").expect("timestamp"),
    };
    let run_scan = || {
        let t = Instant::now();
        let outcome = scan(root, &detectors, &config, &context).expect("scan");
        (
            t.elapsed(),
            outcome.report.gaps.len(),
            outcome.files_scanned,
        )
    };
    let run_rg = || {
        let t = Instant::now();
        let out = Command::new("rg")
            .args(["-c", "--no-messages", "TODO"])
            .arg(root)
            .output()
            .expect("rg");
        assert!(out.status.code().is_some_and(|c| c <= 1), "rg failed");
        t.elapsed()
    };
    // In a repository the scan also says what changed, as `git status`
    // does: its time on the same tree is the second reference.
    let repository = root.join(".git").exists();
    let run_git_status = || {
        let t = Instant::now();
        let out = Command::new("git")
            .args(["--no-optional-locks", "status", "--porcelain=v2"])
            .current_dir(root)
            .output()
            .expect("git");
        assert!(out.status.success(), "git status failed");
        t.elapsed()
    };
    // `--scans N`: only the scan, N times, for a profiler or a counter.
    if let Some(n) = scans_only() {
        let times: Vec<Duration> = (0..n).map(|_| run_scan().0).collect();
        println!("[{name}] {n} scans: {times:.1?}");
        return 0.0;
    }
    // Warm the page cache for all.
    let _ = run_rg();
    if repository {
        let _ = run_git_status();
    }
    let (_, gaps, scanned) = run_scan();
    let mut scan_times = Vec::new();
    let mut rg_times = Vec::new();
    let mut git_times = Vec::new();
    for _ in 0..5 {
        rg_times.push(run_rg());
        if repository {
            git_times.push(run_git_status());
        }
        scan_times.push(run_scan().0);
    }
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v.get(v.len() / 2).copied().unwrap_or_default()
    };
    let (s, r, g) = (median(scan_times), median(rg_times), median(git_times));
    let ratio = s.as_secs_f64() / r.as_secs_f64();
    println!("[{name}] files scanned:      {scanned}");
    println!("[{name}] gaps found:         {gaps}");
    println!("[{name}] waypost scan:       {s:.3?} (median of 5)");
    println!("[{name}] rg -c (same tree):  {r:.3?} (median of 5)");
    println!("[{name}] ratio scan / rg:    {ratio:.2} (goal: at most 1.2)");
    if repository {
        println!("[{name}] git status:         {g:.3?} (median of 5)");
        println!(
            "[{name}] ratio scan / (rg + git status): {:.2}",
            s.as_secs_f64() / (r + g).as_secs_f64()
        );
    }
    ratio
}

/// A repository of `n` files, committed in five commits (every object
/// loose): sources under `src/` (protected), one Markdown file in eight
/// with three broken links and a code-span path to a missing file, one
/// file in fifty with CRLF, one in a hundred with a BOM; after the commits,
/// one protected file in two hundred edited in the work tree and a
/// `* text=auto` file checked out with CRLF; then the index refreshed a
/// second later, as `git status` leaves it. Returns the bytes written.
fn generate_findings(root: &Path, n: usize) -> u64 {
    fs::create_dir_all(root).expect("mkdir");
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(root)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .args([
                "-c",
                "user.name=bench",
                "-c",
                "user.email=bench@waypost.invalid",
            ])
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "--quiet"]);
    git(&["config", "gc.auto", "0"]);
    let mut total = 0u64;
    let line = "let value = compute(input, 42); // a line of ordinary source text\n";
    let mut write = |relative: &str, bytes: &[u8]| {
        let path = root.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(path, bytes).expect("write");
        total += bytes.len() as u64;
    };
    write(".gitattributes", b"*.txt text=auto\n");
    write("notes.txt", b"one\ntwo\n");
    let batch = n.div_ceil(5);
    for i in 0..n {
        let folder = format!("src/pkg{:02}/mod{:03}", i / 1000, (i / 50) % 20);
        let (name, content) = if i % 8 == 0 {
            (
                format!("{folder}/doc{i}.md"),
                format!(
                    "# Doc {i}\n\nSee [a](gone{i}.md), [b](../gone{i}.md) and [c](<old {i}.md>).\n\nThe entry point is `src/pkg00/mod000/main{i}.rs`.\n"
                ),
            )
        } else {
            // Unique content: one blob per file, as in a real history.
            let mut content = format!("// file {i}\n");
            for _ in 0..(5 + i % 120) {
                content.push_str(line);
            }
            if i % 50 == 1 {
                content.push_str("windows line\r\n");
            }
            (format!("{folder}/file{i}.rs"), content)
        };
        let mut bytes = content.into_bytes();
        if i % 100 == 3 {
            bytes.splice(0..0, [0xEF, 0xBB, 0xBF]);
        }
        write(&name, &bytes);
        if (i + 1) % batch == 0 || i + 1 == n {
            git(&["add", "--all"]);
            git(&["commit", "--quiet", "-m", &format!("batch {}", i / batch)]);
        }
    }
    for i in (2..n).step_by(200) {
        if i % 8 != 0 {
            let folder = format!("src/pkg{:02}/mod{:03}", i / 1000, (i / 50) % 20);
            fs::write(root.join(format!("{folder}/file{i}.rs")), "edited\n").expect("edit");
        }
    }
    // Checked out with CRLF, as on Windows: git calls it clean.
    fs::remove_file(root.join("notes.txt")).expect("rm");
    git(&["-c", "core.eol=crlf", "checkout", "--", "notes.txt"]);
    // A working copy's files are older than its index: the first `git
    // status` after they were written (a shell prompt, an editor) refreshes
    // the index a moment later. Without it every file written in the index's
    // own second is racily clean, and git and the scan alike must read and
    // hash each one.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    git(&["status", "--porcelain"]);
    total
}

/// Writes `n` files in folders of 100: sizes from about 150 B to 20 KiB,
/// every 500th a Markdown file with a broken link, every 700th with CRLF
/// mixed in, every 1000th with a BOM. Returns the bytes written.
fn generate(root: &Path, n: usize) -> u64 {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut total = 0u64;
    let line = "let value = compute(input, 42); // a line of ordinary source text\n";
    for i in 0..n {
        let folder = root.join(format!("pkg{:03}/mod{:03}", i / 10_000, (i / 100) % 100));
        if i % 100 == 0 {
            fs::create_dir_all(&folder).expect("mkdir");
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let lines = 2 + usize::try_from(seed % 300).expect("small");
        let (name, mut content) = if i % 500 == 0 {
            (
                format!("doc{i}.md"),
                format!("# Doc {i}\n\nSee [missing](nowhere{i}.md).\n"),
            )
        } else {
            (format!("file{i}.rs"), String::new())
        };
        for _ in 0..lines {
            content.push_str(line);
        }
        if i % 700 == 0 {
            content.push_str("windows line\r\n");
        }
        let mut bytes = content.into_bytes();
        if i % 1000 == 0 {
            bytes.splice(0..0, [0xEF, 0xBB, 0xBF]);
        }
        total += bytes.len() as u64;
        fs::write(folder.join(name), bytes).expect("write");
    }
    total
}

/// The number given with `--scans`, if any.
fn scans_only() -> Option<usize> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == "--scans")?;
    args.get(at + 1)?.parse().ok()
}

fn peak_rss() -> String {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}
