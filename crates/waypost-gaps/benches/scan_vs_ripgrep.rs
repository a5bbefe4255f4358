//! The gap scan against ripgrep's full-content pass over the same tree.
//!
//! `cargo bench -p waypost-gaps --bench scan_vs_ripgrep [-- --files N] [--tree DIR]`
//! (default 100 000 files; needs `rg`, Debian package `ripgrep`). With
//! `--tree DIR` the tree is kept in DIR and reused by the next run, so a
//! profiler can watch the scans alone.
//!
//! Generates a tree of N files (mixed sizes, some with findings), warms the
//! page cache, then times three alternating runs of each: `waypost_gaps::scan`
//! with every built-in detector, and `rg -c <pattern>` (which reads every
//! file, as the scan does). Prints the medians, their ratio (goal: at most
//! 1.2), the number of gaps and the peak resident memory of this process
//! (compare two sizes: it should follow the gaps, not the files).
#![allow(clippy::print_stdout, reason = "a bench binary reports on stdout")]

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use waypost_gaps::{ReportContext, ScanConfig, detectors, scan};
use waypost_schemas::Timestamp;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let files: usize = args
        .iter()
        .position(|a| a == "--files")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    if Command::new("rg").arg("--version").output().is_err() {
        println!("ripgrep (`rg`) is not installed: apt-get install ripgrep");
        std::process::exit(1);
    }
    // `--tree DIR` keeps the generated tree in DIR and reuses it on the next
    // run (for profiling); otherwise it lives in a temporary folder.
    let kept = args
        .iter()
        .position(|a| a == "--tree")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from);
    let dir = tempfile::tempdir().expect("temp dir");
    let root = kept.clone().unwrap_or_else(|| dir.path().join("tree"));
    if kept.is_some() && root.exists() {
        println!("reusing the tree in {}", root.display());
    } else {
        let start = Instant::now();
        let bytes = generate(&root, files);
        println!(
            "generated {files} files ({:.1} MiB) in {:.1?}",
            bytes as f64 / 1_048_576.0,
            start.elapsed()
        );
    }

    // Protected paths as an anchor usually has them, so the per-file
    // protected-path check is part of what is measured.
    let config = ScanConfig {
        protected_paths: [
            ".git/**",
            ".github/**",
            "intention.toml",
            "deploy/**",
            "**/*.pem",
        ]
        .map(String::from)
        .to_vec(),
        ..ScanConfig::default()
    };
    let detectors = detectors::builtin(&config);
    let context = ReportContext {
        project_id: "bench".into(),
        run_id: "bench-20260101T000000Z".into(),
        now: Timestamp::parse("2026-01-01T00:00:00Z").expect("timestamp"),
    };
    let run_scan = || {
        let t = Instant::now();
        let outcome = scan(&root, &detectors, &config, &context).expect("scan");
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
            .arg(&root)
            .output()
            .expect("rg");
        assert!(out.status.code().is_some_and(|c| c <= 1), "rg failed");
        t.elapsed()
    };
    // Warm the page cache for both.
    let _ = run_rg();
    let (_, gaps, scanned) = run_scan();
    let mut scan_times = Vec::new();
    let mut rg_times = Vec::new();
    for _ in 0..3 {
        rg_times.push(run_rg());
        scan_times.push(run_scan().0);
    }
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (s, r) = (median(scan_times), median(rg_times));
    println!("files scanned:      {scanned}");
    println!("gaps found:         {gaps}");
    println!("waypost scan:       {s:.3?} (median of 3)");
    println!("rg -c (same tree):  {r:.3?} (median of 3)");
    println!(
        "ratio scan / rg:    {:.2} (goal: at most 1.2)",
        s.as_secs_f64() / r.as_secs_f64()
    );
    println!("peak RSS:           {}", peak_rss());
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
