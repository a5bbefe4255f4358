//! One pass over the tree, detectors, and the report.

use std::path::Path;
use std::sync::Mutex;

use waypost_schemas::canonical::sha256_hex;
use waypost_schemas::io::{Links, MAX_CONFIG_BYTES, open_regular_with};
use waypost_schemas::{
    FormatV1, Gap, GapEvidence, GapReportMetadata, GapReportV1, GapSummary, Redacted, Timestamp,
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
// Enforced by: findings are identified by content (Gap::derive_gap_id) and put in one
//      total order whatever order the parallel walk found them in; the digest covers HEAD,
//      the index and file contents only, combined independently of order; detectors that
//      collect across files pick by path, not by arrival; time enters only through the
//      caller's timestamp.

/// Files the engine did not read, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Over the size cap.
    pub too_large: Vec<String>,
    /// How many binaries (a NUL byte near the start) were seen; counted,
    /// not listed, so a tree of images costs no memory per image.
    pub binary: usize,
    /// Folders not entered, each with why: an ignore file in them is not a
    /// small regular file the walker could read safely.
    pub refused_folders: Vec<String>,
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
    /// A protected path pattern does not parse.
    #[error("protected path {0}")]
    ProtectedPath(#[from] waypost_schemas::paths::PatternError),
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
    scan_with_progress(root, detectors, config, context, &|_| {})
}

/// [`scan`], calling `progress(files_done)` now and then as files are read
/// (from any thread). The total is not known in advance: the tree is read
/// as it is walked.
pub fn scan_with_progress(
    root: &Path,
    detectors: &[Box<dyn Detector>],
    config: &crate::ScanConfig,
    context: &ReportContext,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<ScanOutcome, ScanError> {
    if !root.is_dir() {
        return Err(ScanError::Root {
            path: root.to_owned(),
            reason: "not a folder".into(),
        });
    }
    // Refused here, so that no detector silently drops a pattern.
    waypost_schemas::paths::PatternSet::new(&config.protected_paths)?;
    let detectors: Vec<&dyn Detector> = detectors
        .iter()
        .map(AsRef::as_ref)
        .filter(|d| !config.disabled.iter().any(|id| id == d.id()))
        .collect();
    // The repository is opened and its state read once for the whole scan.
    let repository_error = |reason| ScanError::Repository {
        path: root.to_owned(),
        reason,
    };
    let keep = |path: &str| detectors.iter().any(|d| d.keeps_index_entry(path));
    let started = std::time::Instant::now();
    tracing::info!(
        root = %root.display(),
        detectors = detectors.len(),
        protected_patterns = config.protected_paths.len(),
        "scan started"
    );
    let git = repo::open(root).map_err(repository_error)?;
    let commits = match (&config.range, &git) {
        (Some(range), Some(git)) => {
            repo::commits_in_range(git, range).map_err(|reason| ScanError::Range {
                range: range.clone(),
                reason,
            })?
        }
        (Some(range), None) => {
            return Err(ScanError::Range {
                range: range.clone(),
                reason: "the folder is not a git repository".into(),
            });
        }
        (None, _) => Vec::new(),
    };
    let (mut repo, pending) = match &git {
        Some(git) => {
            let (state, pending) = repo::read(root, git, &keep).map_err(repository_error)?;
            tracing::info!(
                branch = state.branch.as_deref().unwrap_or("(detached or unborn)"),
                head = state.head.as_deref().unwrap_or("(none)"),
                index_entries_kept = state.index.len(),
                "git state read"
            );
            (Some(state), pending)
        }
        None => {
            tracing::info!("not a git repository: nothing is compared with git");
            (None, None)
        }
    };

    let (mut walk, refused) = walker(root).map_err(|reason| ScanError::Root {
        path: root.to_owned(),
        reason,
    })?;
    // What git says is staged is worked out while the tree is walked (it
    // needs only git's files); what changed in the work tree, after it:
    // the walk's own stat of each kept file settles most of them.
    let (mut totals, staged) = std::thread::scope(|scope| {
        let staged = pending
            .as_ref()
            .map(|pending| scope.spawn(|| pending.staged(&keep)));
        let ctx = ScanContext {
            repo: repo.as_ref(),
            now: &context.now,
            root,
            commits: &commits,
        };
        let totals = walk_and_check(
            &mut walk,
            root,
            &detectors,
            &ctx,
            config.max_file_bytes,
            progress,
        );
        let staged = staged.map(|handle| {
            handle
                .join()
                .unwrap_or_else(|_| Err("comparing HEAD with the index failed".into()))
        });
        (totals, staged)
    });
    totals.skipped.refused_folders = refused.take();
    tracing::info!(
        files = totals.files,
        binary = totals.skipped.binary,
        over_size_cap = totals.skipped.too_large.len(),
        refused_folders = totals.skipped.refused_folders.len(),
        elapsed_ms = started.elapsed().as_millis(),
        "tree walked"
    );
    if repo.is_some() && pending.is_none() {
        tracing::info!(
            "no protected or baseline file is in the index: the work tree is not compared"
        );
    }
    if let (Some(state), Some(pending), Some(staged), Some(git)) =
        (&mut repo, pending, staged, &git)
    {
        let mut seen = std::mem::take(&mut totals.seen);
        seen.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut changes = staged.map_err(repository_error)?;
        changes.extend(pending.work_tree(git, &seen).map_err(repository_error)?);
        changes.sort();
        changes.dedup();
        tracing::info!(
            changed = changes.len(),
            "protected and baseline files compared with the index and HEAD"
        );
        for change in &changes {
            tracing::debug!(path = %change.path, change = ?change.kind, "changed");
        }
        state.changes = changes;
    }
    let ctx = ScanContext {
        repo: repo.as_ref(),
        now: &context.now,
        root,
        commits: &commits,
    };
    let Totals {
        mut gaps,
        findings: _,
        seen: _,
        mut skipped,
        files,
        file_digest_sum,
    } = totals;
    let mut findings = Vec::new();
    for detector in &detectors {
        let before = findings.len();
        detector.finish(&ctx, &mut findings);
        tracing::debug!(
            detector = detector.id(),
            findings_after_walk = findings.len() - before,
            "detector finished"
        );
    }
    gaps.extend(to_gaps(findings));
    let gaps = in_report_order(gaps);
    for gap in &gaps {
        tracing::debug!(
            gap = %gap.gap_id,
            detector = gap.detector.as_deref().unwrap_or(""),
            risk = gap.risk_classification.as_str(),
            path = gap.evidence.as_ref().and_then(|e| e.file_paths.first()).map_or("", String::as_str),
            "gap"
        );
    }
    tracing::info!(
        gaps = gaps.len(),
        elapsed_ms = started.elapsed().as_millis(),
        "scan finished"
    );
    skipped.too_large.sort();
    let mut report = GapReportV1 {
        format_version: FormatV1,
        project_id: context.project_id.clone(),
        run_id: context.run_id.clone(),
        generated_at: context.now.clone(),
        workspace_state_digest: Some(workspace_digest(repo.as_ref(), files, file_digest_sum)),
        summary: Some(GapSummary::of(&gaps)),
        gaps,
        metadata: Some(GapReportMetadata {
            scanner_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            scan_duration_ms: None,
            files_scanned: Some(files as u64),
            extra: Default::default(),
        }),
        extra: Default::default(),
    };
    if !skipped.too_large.is_empty() || skipped.binary > 0 || !skipped.refused_folders.is_empty() {
        let mut value =
            serde_json::json!({"over_size_cap": skipped.too_large, "binary": skipped.binary});
        if !skipped.refused_folders.is_empty() {
            value["refused_folders"] = serde_json::json!(skipped.refused_folders);
        }
        report.extra.insert("skipped_files".into(), value);
    }
    Ok(ScanOutcome {
        report,
        skipped,
        files_scanned: files,
    })
}

/// SHA-256 over HEAD, the index entries, and the files: their number and
/// the wrapping sum of one 128-bit hash per file (of its path, size and
/// content). The sum does not depend on the order files were read in, so
/// the walk can run in parallel without keeping a list of every file.
/// Content is hashed with xxh3-128: this digest detects change; it is not
/// a commitment an adversary could not forge.
fn workspace_digest(repo: Option<&repo::RepoState>, files: usize, file_digest_sum: u128) -> String {
    let mut input = String::new();
    if let Some(r) = repo {
        input.push_str(&format!(
            "HEAD {}\nindex {}\n",
            r.head.as_deref().unwrap_or("-"),
            r.index_digest
        ));
    }
    input.push_str(&format!("files {files} {file_digest_sum:032x}\n"));
    sha256_hex(input.as_bytes())
}

/// What the walk gathered: the findings of per-file and per-folder checks,
/// the files it could not read, and the order-independent file digest.
/// Nothing here grows with the number of files except findings, the
/// names of files over the size cap, and what was seen of the files whose
/// index entries the repository state keeps (it holds those entries too).
#[derive(Default)]
struct Totals {
    /// A worker's findings, until it hands them over as gaps.
    findings: Vec<Finding>,
    /// Findings turned into gaps (ids derived) by the worker that found
    /// them, in parallel.
    gaps: Vec<Gap>,
    skipped: Skipped,
    files: usize,
    file_digest_sum: u128,
    /// The metadata of each file opened whose index entry is kept, to
    /// settle by stat data whether it changed.
    seen: Vec<crate::changes::Seen>,
}

impl Totals {
    fn absorb(&mut self, other: Totals) {
        self.gaps.extend(other.gaps);
        self.gaps.extend(other.findings.into_iter().map(to_gap));
        self.skipped.too_large.extend(other.skipped.too_large);
        self.skipped.binary += other.skipped.binary;
        self.files += other.files;
        self.file_digest_sum = self.file_digest_sum.wrapping_add(other.file_digest_sum);
        self.seen.extend(other.seen);
    }
}

/// One walker thread's state: its read buffer and its share of the totals,
/// handed over when the thread's visitor is dropped at the end of the walk.
struct Worker<'a> {
    buffer: Vec<u8>,
    totals: Totals,
    sink: &'a Mutex<Totals>,
}

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        // The ids are derived here, on the worker's thread, before the lock.
        let mut totals = std::mem::take(&mut self.totals);
        totals
            .gaps
            .extend(std::mem::take(&mut totals.findings).into_iter().map(to_gap));
        if let Ok(mut sink) = self.sink.lock() {
            sink.absorb(totals);
        }
    }
}

/// Walks `root` (respecting .gitignore, hidden files included, `.git`
/// excluded) on all cores and checks each file as it is found: one pass,
/// nothing kept per file.
fn walk_and_check(
    walker: &mut ignore::WalkBuilder,
    root: &Path,
    detectors: &[&dyn Detector],
    ctx: &ScanContext<'_>,
    cap: u64,
    progress: &(dyn Fn(usize) + Sync),
) -> Totals {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let sink = Mutex::new(Totals::default());
    let done = AtomicUsize::new(0);
    walker
        .threads(
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .clamp(1, 8),
        )
        .build_parallel()
        .run(|| {
            let mut worker = Worker {
                // Most files fit the first read: no growth for them.
                buffer: vec![0; FIRST_READ],
                totals: Totals::default(),
                sink: &sink,
            };
            let done = &done;
            Box::new(move |entry| {
                let Ok(entry) = entry else {
                    return ignore::WalkState::Continue;
                };
                let Some(kind) = entry.file_type() else {
                    return ignore::WalkState::Continue;
                };
                let Some(relative) = relative_path(root, entry.path()) else {
                    return ignore::WalkState::Continue;
                };
                if kind.is_dir() {
                    for d in detectors {
                        d.check_dir(&relative, ctx, &mut worker.totals.findings);
                    }
                } else if !kind.is_file() {
                    // A link, FIFO, socket or device: named, never read.
                    for d in detectors {
                        d.check_special(&relative, ctx, &mut worker.totals.findings);
                    }
                } else {
                    let Worker { buffer, totals, .. } = &mut worker;
                    check_file(entry.path(), &relative, detectors, ctx, cap, buffer, totals);
                    let now = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if now.is_multiple_of(256) {
                        progress(now);
                    }
                }
                ignore::WalkState::Continue
            })
        });
    let totals = sink.into_inner().unwrap_or_else(|e| e.into_inner());
    progress(totals.files);
    totals
}

/// What a scan walks: everything under `root` that .gitignore does not
/// exclude, hidden files included, `.git` left out, links not followed; no
/// global or parent ignore files, so the same tree walks the same anywhere.
///
/// The walker reads `.gitignore` files itself, so each one is checked before
/// it would be read: a root-level `.gitignore` or the repository's
/// `info/exclude` that is not a small regular file inside the repository (a
/// FIFO, a device, a link out, over [`MAX_CONFIG_BYTES`]) stops the scan
/// with an error naming it; a folder whose own `.gitignore` is such a file
/// is not entered, and its path is added to the returned list. `.ignore`
/// files are not honoured (git does not honour them), and nested
/// repositories' `.git` files are never read.
pub(crate) fn walker(root: &Path) -> Result<(ignore::WalkBuilder, RefusedFolders), String> {
    ignore_file_is_safe(root, &root.join(".gitignore"))?;
    // The repository's own exclude file, found without letting the walker
    // read `.git` files (its own lookup reads them unbounded, and for every
    // nested repository too).
    let exclude = crate::repo::exclude_file(root)?;
    let refused = RefusedFolders::default();
    let refused_in_filter = refused.clone();
    let root_owned = root.to_path_buf();
    let mut builder = ignore::WalkBuilder::new(root);
    if let Some(exclude) = exclude
        && let Some(err) = builder.add_ignore(&exclude)
    {
        return Err(format!("{}: {err}", exclude.display()));
    }
    builder
        .hidden(false)
        // `.ignore` files are not git's: git would still show what they hide.
        .ignore(false)
        .git_ignore(true)
        .git_exclude(false)
        .git_global(false)
        .require_git(false)
        .parents(false)
        .follow_links(false)
        .filter_entry(move |e| {
            if e.file_name() == ".git" {
                return false;
            }
            // The walker reads a folder's ignore files when it enters it:
            // check them first (the filter runs before that).
            if e.file_type().is_some_and(|t| t.is_dir())
                && let Err(why) = ignore_file_is_safe(&root_owned, &e.path().join(".gitignore"))
            {
                tracing::debug!(reason = %why, "folder not entered");
                if let Ok(mut list) = refused_in_filter.0.lock() {
                    list.push(why);
                }
                return false;
            }
            true
        });
    Ok((builder, refused))
}

/// Folders the walk did not enter because an ignore file in them could not
/// be read safely, each with the reason.
#[derive(Clone, Debug, Default)]
pub(crate) struct RefusedFolders(std::sync::Arc<Mutex<Vec<String>>>);

impl RefusedFolders {
    /// The reasons, sorted.
    pub(crate) fn take(&self) -> Vec<String> {
        let mut list = self
            .0
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default();
        list.sort();
        list
    }
}

/// Whether the ignore file at `path` may be handed to the walker, which
/// reads it whole and follows links: absent, or a regular file (through
/// links that stay inside `root`) of at most [`MAX_CONFIG_BYTES`].
fn ignore_file_is_safe(root: &Path, path: &Path) -> Result<(), String> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    let shown = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    let meta = if meta.file_type().is_symlink() {
        let inside = match (path.canonicalize(), root.canonicalize()) {
            (Ok(target), Ok(root)) => target.starts_with(root),
            _ => false,
        };
        if !inside {
            return Err(format!(
                "{shown} is a symbolic link that leads outside the repository or nowhere"
            ));
        }
        std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?
    } else {
        meta
    };
    if !meta.is_file() {
        return Err(format!("{shown} is not a regular file"));
    }
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(format!(
            "{shown} is larger than the {MAX_CONFIG_BYTES}-byte limit for ignore files"
        ));
    }
    Ok(())
}

/// `path` relative to `root` with `/` separators (`""` for the root).
/// Names that are not UTF-8, or that hold a backslash, are shown escaped
/// ([`waypost_schemas::paths::escape_name`]), so every reported path can be
/// found again ([`waypost_schemas::paths::on_disk`]).
pub(crate) fn relative_path<'p>(root: &Path, path: &'p Path) -> Option<std::borrow::Cow<'p, str>> {
    let relative = path.strip_prefix(root).ok()?;
    if cfg!(windows) {
        Some(relative.to_string_lossy().replace('\\', "/").into())
    } else {
        Some(waypost_schemas::paths::escape_os(relative.as_os_str()))
    }
}

/// Reads one file (bounded) into `buffer`, adds it to the digest, and runs
/// the detectors that want it.
fn check_file(
    full_path: &Path,
    path: &str,
    detectors: &[&dyn Detector],
    ctx: &ScanContext<'_>,
    cap: u64,
    buffer: &mut Vec<u8>,
    totals: &mut Totals,
) {
    totals.files += 1;
    // Runs the detectors that want this file; `text` is None for a file
    // over the cap or a binary, so only its path and size are checked.
    let check = |size: u64, text: Option<&[u8]>, content_hash: u128, totals: &mut Totals| {
        let file = ScannedFile::new(ctx.root, path, size, text);
        for d in detectors.iter().filter(|d| d.wants(path)) {
            d.check_file(&file, ctx, &mut totals.findings);
        }
        // The record hashed: path, NUL, size, content hash; on the stack
        // for any ordinary path.
        let len = path.len() + 25;
        let mut stack = [0u8; 512];
        let mut heap = Vec::new();
        let record: &mut [u8] = if len <= stack.len() {
            &mut stack[..len]
        } else {
            heap.resize(len, 0);
            &mut heap
        };
        record[..path.len()].copy_from_slice(path.as_bytes());
        record[path.len() + 1..path.len() + 9].copy_from_slice(&size.to_le_bytes());
        record[path.len() + 9..].copy_from_slice(&content_hash.to_le_bytes());
        totals.file_digest_sum = totals
            .file_digest_sum
            .wrapping_add(twox_hash::XxHash3_128::oneshot(record));
    };
    // Never blocks and never reads through a link: a FIFO, a device or a
    // link swapped in since the walk is refused at open (fstat of the open
    // file). That one fstat is read as git's stat data: the size, and for
    // a kept index entry's file what the change check compares.
    let opened = open_regular_with(full_path, Links::Refuse, |file| {
        let metadata = gix::index::fs::Metadata::from_file(file)?;
        let regular = metadata.is_file();
        Ok((metadata, regular))
    });
    let Ok((mut file, metadata)) = opened else {
        // Vanished, unreadable or not a regular file: nothing to read.
        tracing::debug!(path, "not read: vanished, unreadable or not a regular file");
        return check(0, None, 0, totals);
    };
    let size = metadata.len();
    if ctx.repo.is_some_and(|r| r.tracks(path)) {
        totals.seen.push((path.to_owned(), metadata));
    }
    if size > cap {
        tracing::debug!(path, size, cap, "not read: over the size cap");
        totals.skipped.too_large.push(path.to_owned());
        return check(size, None, 0, totals);
    }
    // Read the size found at open: a file that grows while it is read is
    // read as it was when opened; one that shrinks, to its new end. The
    // first read takes up to 64 KiB (most files whole, with no second read
    // to find the end); a file whose first 8 KiB hold a NUL is a binary and
    // is not read further. The buffer only grows, so it is zeroed once per
    // growth, not once per file.
    let want = usize::try_from(size).unwrap_or(usize::MAX);
    if buffer.len() < want {
        buffer.resize(want, 0);
    }
    let first = want.min(FIRST_READ);
    let Ok(mut filled) = fill(&mut file, &mut buffer[..first]) else {
        // Unreadable (a directory swapped in, an I/O error): its path and size only.
        tracing::debug!(path, size, "not read: unreadable");
        return check(size, None, 0, totals);
    };
    // A NUL in the first 8 KiB marks a binary file (as git and ripgrep
    // judge), and so does a PDF's signature: PDFs (and the Illustrator files
    // built on them) often hold no NUL early, yet their line endings and
    // bytes are no one's text.
    let binary = memchr::memchr(0, &buffer[..filled.min(BINARY_PROBE)]).is_some()
        || buffer[..filled].starts_with(PDF_SIGNATURE);
    if binary {
        tracing::debug!(path, size, "binary: only its name and size are checked");
        totals.skipped.binary += 1;
    } else if filled == first && first < want {
        match fill(&mut file, &mut buffer[first..want]) {
            Ok(n) => filled += n,
            Err(_) => {
                tracing::debug!(path, size, "not read: unreadable");
                return check(size, None, 0, totals);
            }
        }
    }
    let bytes = &buffer[..filled];
    if !binary {
        tracing::debug!(path, size, "file checked");
    }
    // Change detection only: a fast 128-bit hash per file (for a binary, of
    // its size and what was read of it).
    let content_hash = twox_hash::XxHash3_128::oneshot(bytes);
    check(size, (!binary).then_some(bytes), content_hash, totals);
}

/// What the first read of a file asks for.
const FIRST_READ: usize = 64 * 1024;
/// How every PDF starts.
const PDF_SIGNATURE: &[u8] = b"%PDF-";
/// How much of a file decides whether it is binary.
const BINARY_PROBE: usize = 8 * 1024;

/// Reads into `buf` until it is full or the file ends; the bytes read.
fn fill(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    use std::io::Read;
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// `gaps` in the report's order ([`Gap::report_order`]), each id once.
/// Their positions are sorted, not the gaps: a gap is a large value, and
/// moving thousands of them through a sort costs more than comparing them.
fn in_report_order(gaps: Vec<Gap>) -> Vec<Gap> {
    let mut order: Vec<usize> = (0..gaps.len()).collect();
    order.sort_by(|&a, &b| Gap::report_order(&gaps[a], &gaps[b]));
    let mut slots: Vec<Option<Gap>> = gaps.into_iter().map(Some).collect();
    let mut sorted: Vec<Gap> = Vec::with_capacity(slots.len());
    for at in order {
        let Some(gap) = slots[at].take() else {
            continue;
        };
        if sorted.last().is_none_or(|last| last.gap_id != gap.gap_id) {
            sorted.push(gap);
        }
    }
    sorted
}

/// The findings as gaps, their ids derived on every core: thousands of
/// findings mean thousands of canonical forms and hashes.
fn to_gaps(findings: Vec<Finding>) -> Vec<Gap> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || findings.len() < 256 {
        return findings.into_iter().map(to_gap).collect();
    }
    let chunk = findings.len().div_ceil(threads);
    let mut findings = findings.into_iter();
    let chunks: Vec<Vec<Finding>> = std::iter::from_fn(|| {
        let part: Vec<Finding> = findings.by_ref().take(chunk).collect();
        (!part.is_empty()).then_some(part)
    })
    .collect();
    let mut chunks = chunks.into_iter();
    let own = chunks.next().unwrap_or_default();
    std::thread::scope(|scope| {
        // The calling thread takes the first part itself rather than wait.
        let handles: Vec<_> = chunks
            .map(|part| scope.spawn(|| part.into_iter().map(to_gap).collect::<Vec<Gap>>()))
            .collect();
        let mut gaps: Vec<Gap> = own.into_iter().map(to_gap).collect();
        for handle in handles {
            gaps.extend(handle.join().expect("deriving an id does not panic"));
        }
        gaps
    })
}

/// A finding as a gap. Its free text (title, description, named evidence)
/// passes the redactor here, the one place findings become artifact
/// content; excerpts redact themselves. Paths are names in the tree and
/// stay as they are.
fn to_gap(f: Finding) -> Gap {
    let mut evidence = f.evidence;
    for value in evidence.values_mut() {
        waypost_schemas::redact_json(value);
    }
    let mut signals = f.paths.clone();
    signals.sort();
    if f.likely {
        signals.push(waypost_schemas::LIKELY_SIGNAL.to_owned());
    }
    let mut gap = Gap {
        gap_id: String::new(),
        gap_type: f.gap_type,
        detector: Some(f.detector.to_owned()),
        // Text with nothing to redact (nearly all) is moved, not copied.
        title: Some(Redacted::owned(f.title).into_string()),
        description: (!f.description.is_empty())
            .then(|| Redacted::owned(f.description).into_string()),
        detection_signals: signals,
        evidence: Some(GapEvidence {
            file_paths: f.paths,
            test_names: Vec::new(),
            excerpts: f.excerpts,
            locations: f.locations,
            extra: evidence,
        }),
        risk_classification: f.risk,
        blocks_autopilot: f.blocks_autopilot,
        safe_remediation: f.remediation,
        extra: Default::default(),
    };
    gap.gap_id = gap.derive_gap_id();
    gap
}
