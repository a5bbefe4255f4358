//! db_lock_contention: locks and journals left behind by dead processes.

use std::collections::BTreeSet;
use std::sync::Mutex;

use waypost_schemas::{ClaimRecordV1, GapType, RiskLevel};

use crate::detector::{Detector, Finding, ScanContext, ScannedFile};

/// waypost claim files whose holder's lease expired or whose process is gone.
pub(crate) struct StaleClaim;

impl Detector for StaleClaim {
    fn id(&self) -> &'static str {
        "stale_claim"
    }
    fn gap_type(&self) -> GapType {
        GapType::DbLockContention
    }
    fn description(&self) -> &'static str {
        "a waypost claim is held by a process that is gone or whose lease expired"
    }
    fn wants(&self, path: &str) -> bool {
        path.ends_with(".claim.json")
    }
    fn check_file(&self, file: &ScannedFile<'_>, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let Some(record) = file
            .text
            .and_then(|t| serde_json::from_slice::<ClaimRecordV1>(t).ok())
        else {
            return;
        };
        let Some(holder) = &record.holder else { return };
        let gone =
            waypost_fences::identity::liveness(holder) == waypost_fences::identity::Liveness::Gone;
        let now = ctx.now.unix_millis();
        if gone {
            out.push(
                Finding::of(self, RiskLevel::Medium, file.path, format!("Claim `{}` is held by a process that is gone", record.key))
                    .describe(format!("pid {} on {} no longer runs; the next claimer will take it over (fencing token {}).", holder.pid, holder.hostname.as_deref().unwrap_or("this host"), record.fencing_token))
                    .remedy("nothing to do by hand: the claim store takes stale claims over; find out why the holder died", false),
            );
        } else if let Some(end) = record.expires_at_unix_ms()
            && end < now
        {
            out.push(
                Finding::of(self, RiskLevel::Medium, file.path, format!("Claim `{}` has an expired lease", record.key))
                    .describe(format!("The lease ended {} s ago (its own duration, {} ms); its holder stopped renewing.", (now - end) / 1000, record.lease_duration_ms))
                    .remedy("nothing to do by hand: the next claimer takes it over", false),
            );
        }
    }
}

/// SQLite journals left behind: their database is gone, or no process has
/// the database open (SQLite removes its journal, WAL and shared-memory
/// files when the last connection closes, so one that stays is what a
/// crashed process left). Remembers the journals it sees (a few files) and
/// looks for open handles once, after the walk.
#[derive(Default)]
pub(crate) struct OrphanSqliteJournal {
    journals: Mutex<Vec<(String, String)>>,
}

impl Detector for OrphanSqliteJournal {
    fn id(&self) -> &'static str {
        "orphan_sqlite_journal"
    }
    fn gap_type(&self) -> GapType {
        GapType::DbLockContention
    }
    fn description(&self) -> &'static str {
        "an SQLite -journal, -wal or -shm file has no database next to it, or no process has its database open"
    }
    fn wants(&self, path: &str) -> bool {
        JOURNAL_SUFFIXES.iter().any(|s| path.ends_with(s))
    }
    fn check_file(&self, file: &ScannedFile<'_>, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let path = file.path;
        let Some(db) = JOURNAL_SUFFIXES.iter().find_map(|s| path.strip_suffix(s)) else {
            return;
        };
        if waypost_schemas::paths::on_disk(ctx.root, db).exists() {
            self.journals
                .lock()
                .expect("no panics while locked")
                .push((path.to_owned(), db.to_owned()));
        } else {
            out.push(
                Finding::of(self, RiskLevel::Medium, path, format!("{path} has no database"))
                    .describe(format!("`{db}` does not exist: the journal was left by a process that crashed, or the database was removed under it."))
                    .remedy("remove the journal once no process uses it", true),
            );
        }
    }
    fn finish(&self, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        // Take the state, so a detector value reused for another scan starts empty.
        let journals = std::mem::take(&mut *self.journals.lock().expect("no panics while locked"));
        if journals.is_empty() {
            return;
        }
        // Each journal with the real paths of itself and its database.
        let real =
            |p: &str| std::fs::canonicalize(waypost_schemas::paths::on_disk(ctx.root, p)).ok();
        let journals: Vec<(String, String, Vec<std::path::PathBuf>)> = journals
            .into_iter()
            .map(|(journal, db)| {
                let paths = [real(&journal), real(&db)].into_iter().flatten().collect();
                (journal, db, paths)
            })
            .collect();
        let targets: Vec<std::path::PathBuf> =
            journals.iter().flat_map(|(_, _, p)| p.clone()).collect();
        // Where open handles cannot be seen, say nothing rather than guess.
        let Some(open) = open_by_some_process(&targets) else {
            return;
        };
        for (journal, db, paths) in journals {
            if !paths.iter().any(|p| open.contains(p)) {
                out.push(
                    Finding::of(self, RiskLevel::Medium, &journal, format!("{journal} is left over: no process has {db} open"))
                        .describe(format!("SQLite removes this file when the last connection to `{db}` closes; with no process holding the database, a crashed writer left it, and the next connection will roll it back or replay it."))
                        .remedy("open the database once with sqlite3 to recover it, after checking no process should be using it", true),
                );
            }
        }
    }
}

/// Which of `targets` (canonical paths) some process on this host has open,
/// from each process's `/proc/PID/fd`; processes of other users are not
/// visible. None where this cannot be seen (not Linux).
fn open_by_some_process(targets: &[std::path::PathBuf]) -> Option<BTreeSet<std::path::PathBuf>> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let processes = std::fs::read_dir("/proc").ok()?;
    let mut open = BTreeSet::new();
    for process in processes.flatten() {
        if !process
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(process.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path())
                && targets.contains(&target)
            {
                open.insert(target);
            }
        }
    }
    Some(open)
}

const JOURNAL_SUFFIXES: [&str; 3] = ["-journal", "-wal", "-shm"];

/// Dependency lockfiles and waypost's own persistent lock files are not locks held by processes.
const NOT_LOCKS: [&str; 12] = [
    "Cargo.lock",
    "yarn.lock",
    "poetry.lock",
    "flake.lock",
    "composer.lock",
    "Gemfile.lock",
    "Pipfile.lock",
    "uv.lock",
    "bun.lock",
    "pubspec.lock",
    "mix.lock",
    "Podfile.lock",
];

/// `*.lock` files older than the threshold.
pub(crate) struct OldLockFile {
    pub(crate) max_age_seconds: u64,
}

impl Detector for OldLockFile {
    fn id(&self) -> &'static str {
        "old_lock_file"
    }
    fn gap_type(&self) -> GapType {
        GapType::DbLockContention
    }
    fn description(&self) -> &'static str {
        "a lock file is older than the configured age: its holder probably died"
    }
    fn wants(&self, path: &str) -> bool {
        path.ends_with(".lock")
    }
    fn check_file(&self, file: &ScannedFile<'_>, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let now = ctx.now.unix_millis() / 1000;
        let path = file.path;
        let name = path.rsplit('/').next().unwrap_or(path);
        // waypost's own lock files (claims, logs) persist by design: the OS lock is what counts.
        if NOT_LOCKS.contains(&name)
            || name.ends_with(".claim.lock")
            || name.ends_with(".jsonl.lock")
        {
            return;
        }
        let Some(modified) =
            std::fs::symlink_metadata(waypost_schemas::paths::on_disk(ctx.root, path))
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        else {
            return;
        };
        let age = now.saturating_sub(i64::try_from(modified.as_secs()).unwrap_or(i64::MAX));
        if u64::try_from(age).unwrap_or(0) > self.max_age_seconds {
            out.push(
                Finding::of(
                    self,
                    RiskLevel::Low,
                    path,
                    format!("{path} is an old lock file"),
                )
                // The threshold, not the exact age, so the report stays the same
                // for the same state.
                .describe(format!(
                    "Not touched for more than {} s.",
                    self.max_age_seconds
                ))
                .remedy("check that no process holds it, then remove it", true),
            );
        }
    }
}
