//! One pass over the tree, detectors, and the report.

use std::path::Path;
use std::sync::Mutex;

use waypost_schemas::canonical::sha256_hex;
use waypost_schemas::{
    FormatV1, Gap, GapEvidence, GapReportMetadata, GapReportV1, GapSummary, Timestamp,
};

use crate::detector::{Detector, Finding, ScanContext, ScannedFile};
use crate::repo;

// Invariant: GAP-001 A scan never writes to the repository it scans.
// Category: read-only
// Why: a scanner that touches the tree (or git's index) changes the state it reports on,
//      and can collide with a git process running at the same time.
// Enforced by: the engine opens files read-only; gix is opened isolated and only reads HEAD,
//      objects and the index, never refreshing it or taking a lock.

// Invariant: GAP-002 The same repository state gives the same report.
// Category: determinism
// Why: gap ids and the report id must be comparable across scans and machines.
// Enforced by: files are sorted, findings are ordered and identified by content
//      (Gap::derive_gap_id), the digest covers HEAD, the index and file contents only, and
//      time enters only through the caller's timestamp.

/// Files the engine did not read, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Over the size cap.
    pub too_large: Vec<String>,
    /// Binary (a NUL byte near the start).
    pub binary: Vec<String>,
}

/// A scan's report and what it left out.
#[derive(Clone, Debug)]
pub struct ScanOutcome {
    /// The report.
    pub report: GapReportV1,
    /// Files not read for content.
    pub skipped: Skipped,
    /// Files walked.
    pub files_scanned: usize,
}

/// The scan failed before it could report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// The root is not a readable folder.
    #[error("cannot scan {}: {reason}", path.display())]
    Root {
        /// The root.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },
    /// The commit range cannot be resolved.
    #[error("--range {range}: {reason}")]
    Range {
        /// The range as given.
        range: String,
        /// Why.
        reason: String,
    },
    /// The repository exists but cannot be read.
    #[error("cannot read the git repository at {}: {reason}", path.display())]
    Repository {
        /// The root.
        path: std::path::PathBuf,
        /// gix's message.
        reason: String,
    },
}

/// Who the report is for.
#[derive(Clone, Debug)]
pub struct ReportContext {
    /// Project id.
    pub project_id: String,
    /// Run id.
    pub run_id: String,
    /// `generated_at`, and "now" for age thresholds.
    pub now: Timestamp,
}

/// Runs `detectors` over `root` once and builds the report.
pub fn scan(
    root: &Path,
    detectors: &[Box<dyn Detector>],
    config: &crate::ScanConfig,
    context: &ReportContext,
) -> Result<ScanOutcome, ScanError> {
    scan_with_progress(root, detectors, config, context, &|_, _| {})
}

/// [`scan`], calling `progress(done, total)` as files are read (from any thread).
pub fn scan_with_progress(
    root: &Path,
    detectors: &[Box<dyn Detector>],
    config: &crate::ScanConfig,
    context: &ReportContext,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<ScanOutcome, ScanError> {
    if !root.is_dir() {
        return Err(ScanError::Root {
            path: root.to_owned(),
            reason: "not a folder".into(),
        });
    }
    let repo = repo::read(root).map_err(|reason| ScanError::Repository {
        path: root.to_owned(),
        reason,
    })?;
    let commits = match &config.range {
        Some(range) => repo::commits_in_range(root, range).map_err(|reason| ScanError::Range {
            range: range.clone(),
            reason,
        })?,
        None => Vec::new(),
    };
    let paths = walk(root);
    let detectors: Vec<&dyn Detector> = detectors
        .iter()
        .map(AsRef::as_ref)
        .filter(|d| !config.disabled.iter().any(|id| id == d.id()))
        .collect();

    // Content pass over the available cores. Workers claim the next file
    // from a shared cursor, so one worker never idles while another still
    // has a run of large files; results are merged back in path order.
    use std::sync::atomic::{AtomicUsize, Ordering};
    let total = paths.len();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        .min(total.max(1));
    let results: Mutex<Vec<FileResult>> = Mutex::new(Vec::with_capacity(total));
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (paths, detectors, results) = (&paths, &detectors, &results);
            let (next, done) = (&next, &done);
            scope.spawn(move || {
                let mut local = Vec::new();
                // One read buffer per worker, reused for every file.
                let mut buffer = Vec::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = paths.get(index) else {
                        break;
                    };
                    let (findings, digest, skip, size) =
                        scan_file(root, path, detectors, config.max_file_bytes, &mut buffer);
                    local.push((index, findings, digest, skip, size));
                    let now = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if now.is_multiple_of(256) || now == total {
                        progress(now, total);
                    }
                }
                results
                    .lock()
                    .expect("no worker panics while holding the lock")
                    .extend(local);
            });
        }
    });
    let mut per_file = results.into_inner().expect("workers finished");
    per_file.sort_by_key(|(i, ..)| *i);

    let mut findings = Vec::new();
    let mut skipped = Skipped::default();
    let mut digest_input = String::new();
    if let Some(r) = &repo {
        digest_input.push_str(&format!("HEAD {}\n", r.head.as_deref().unwrap_or("-")));
        for (path, id, stage) in &r.index {
            digest_input.push_str(&format!("index {stage} {id} {path}\n"));
        }
    }
    // `per_file` is in walk order now, one entry per path.
    debug_assert_eq!(per_file.len(), paths.len());
    let mut files: Vec<(String, u64)> = Vec::with_capacity(total);
    for (path, (_, file_findings, digest, skip, size)) in paths.into_iter().zip(per_file) {
        findings.extend(file_findings);
        match skip {
            Skip::None => {}
            Skip::TooLarge => skipped.too_large.push(path.clone()),
            Skip::Binary => skipped.binary.push(path.clone()),
        }
        digest_input.push_str(&format!(
            "file {path} {size} {}\n",
            digest.as_deref().unwrap_or("-")
        ));
        files.push((path, size));
    }
    let ctx = ScanContext {
        repo: repo.as_ref(),
        files: &files,
        now: &context.now,
        root,
        commits: &commits,
    };
    for detector in &detectors {
        detector.finish(&ctx, &mut findings);
    }

    let mut gaps: Vec<Gap> = findings.into_iter().map(to_gap).collect();
    gaps.sort_by(Gap::report_order);
    gaps.dedup_by(|a, b| a.gap_id == b.gap_id);
    let mut report = GapReportV1 {
        format_version: FormatV1,
        project_id: context.project_id.clone(),
        run_id: context.run_id.clone(),
        generated_at: context.now.clone(),
        workspace_state_digest: Some(sha256_hex(digest_input.as_bytes())),
        summary: Some(GapSummary::of(&gaps)),
        gaps,
        metadata: Some(GapReportMetadata {
            scanner_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            scan_duration_ms: None,
            extra: Default::default(),
        }),
        extra: Default::default(),
    };
    if !skipped.too_large.is_empty() || !skipped.binary.is_empty() {
        report.extra.insert(
            "skipped_files".into(),
            serde_json::json!({"over_size_cap": skipped.too_large, "binary": skipped.binary.len()}),
        );
    }
    Ok(ScanOutcome {
        report,
        skipped,
        files_scanned: files.len(),
    })
}

/// One file's outcome: its position in the walk, findings, content digest,
/// whether it was skipped, and its size.
type FileResult = (usize, Vec<Finding>, Option<String>, Skip, u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Skip {
    None,
    TooLarge,
    Binary,
}

/// Reads one file (bounded) into `buffer`, hashes it, and runs the
/// detectors that want it.
fn scan_file(
    root: &Path,
    path: &str,
    detectors: &[&dyn Detector],
    cap: u64,
    buffer: &mut Vec<u8>,
) -> (Vec<Finding>, Option<String>, Skip, u64) {
    // Runs the detectors that want this file; `text` is None for a file
    // over the cap, so only its path and size are checked.
    let check = |size: u64, text: Option<&[u8]>| {
        let file = ScannedFile {
            root,
            path,
            size,
            text,
        };
        let mut out = Vec::new();
        for d in detectors.iter().filter(|d| d.wants(path)) {
            d.check_file(&file, &mut out);
        }
        out
    };
    // The size comes from the open file (fstat), not from a second lookup
    // of the path during the walk.
    let Ok(file) = std::fs::File::open(root.join(path)) else {
        // Vanished or unreadable since the walk: nothing to check.
        return (Vec::new(), None, Skip::None, 0);
    };
    let size = file.metadata().map_or(0, |m| m.len());
    if size > cap {
        return (check(size, None), None, Skip::TooLarge, size);
    }
    buffer.clear();
    // At most one byte over the cap: a file that grows while it is read is
    // still refused rather than read whole.
    match std::io::Read::read_to_end(&mut std::io::Read::take(file, cap + 1), buffer) {
        Ok(n) if n as u64 > cap => return (check(size, None), None, Skip::TooLarge, size),
        Ok(_) => {}
        // Unreadable (a directory swapped in, an I/O error): nothing to check.
        Err(_) => return (Vec::new(), None, Skip::None, size),
    }
    let bytes: &[u8] = buffer;
    // Change detection only: a fast 128-bit hash per file; the workspace
    // digest over all of them is SHA-256.
    let digest = format!("{:032x}", twox_hash::XxHash3_128::oneshot(bytes));
    // A NUL in the first 8 KiB marks a binary file (as git and ripgrep judge).
    let binary = memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some();
    (
        check(size, (!binary).then_some(bytes)),
        Some(digest),
        if binary { Skip::Binary } else { Skip::None },
        size,
    )
}

/// Every file under `root` that .gitignore does not exclude (hidden files
/// included, `.git` excluded), repository-relative and sorted.
fn walk(root: &Path) -> Vec<String> {
    let found: Mutex<Vec<String>> = Mutex::new(Vec::new());
    ignore::WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .require_git(false)
        .parents(false)
        .follow_links(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build_parallel()
        .run(|| {
            let found = &found;
            Box::new(move |entry| {
                if let Ok(entry) = entry
                    && entry.file_type().is_some_and(|t| t.is_file())
                    && let Ok(relative) = entry.path().strip_prefix(root)
                {
                    let path = relative.to_string_lossy().replace('\\', "/");
                    found
                        .lock()
                        .expect("walker threads do not panic")
                        .push(path);
                }
                ignore::WalkState::Continue
            })
        });
    let mut files = found.into_inner().expect("walk finished");
    files.sort();
    files
}

fn to_gap(f: Finding) -> Gap {
    let mut signals = f.paths.clone();
    signals.sort();
    let mut gap = Gap {
        gap_id: String::new(),
        gap_type: f.gap_type,
        detector: Some(f.detector.to_owned()),
        title: Some(f.title),
        description: (!f.description.is_empty()).then_some(f.description),
        detection_signals: signals,
        evidence: Some(GapEvidence {
            file_paths: f.paths,
            test_names: Vec::new(),
            excerpts: f.excerpts,
            locations: f.locations,
            extra: Default::default(),
        }),
        risk_classification: f.risk,
        blocks_autopilot: f.blocks_autopilot,
        safe_remediation: f.remediation,
        extra: Default::default(),
    };
    gap.gap_id = gap.derive_gap_id();
    gap
}
