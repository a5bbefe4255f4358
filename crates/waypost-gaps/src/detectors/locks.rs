//! db_lock_contention: locks and journals left behind by dead processes.

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

/// SQLite journals whose database is gone.
pub(crate) struct OrphanSqliteJournal;

impl Detector for OrphanSqliteJournal {
    fn id(&self) -> &'static str {
        "orphan_sqlite_journal"
    }
    fn gap_type(&self) -> GapType {
        GapType::DbLockContention
    }
    fn description(&self) -> &'static str {
        "an SQLite -journal, -wal or -shm file has no database next to it"
    }
    fn wants(&self, path: &str) -> bool {
        JOURNAL_SUFFIXES.iter().any(|s| path.ends_with(s))
    }
    fn check_file(&self, file: &ScannedFile<'_>, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let path = file.path;
        let Some(db) = JOURNAL_SUFFIXES.iter().find_map(|s| path.strip_suffix(s)) else {
            return;
        };
        if !ctx.root.join(db).exists() {
            out.push(
                Finding::of(self, RiskLevel::Medium, path, format!("{path} has no database"))
                    .describe(format!("`{db}` does not exist: the journal was left by a process that crashed, or the database was removed under it."))
                    .remedy("remove the journal once no process uses it", true),
            );
        }
    }
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
        let Some(modified) = std::fs::metadata(ctx.root.join(path))
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
