//! Resources a run leases with it: TCP ports and files copied into its
//! fresh worktree.

use std::fs;
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use waypost_fences::{ClaimOutcome, ClaimStore, Owner};
use waypost_schemas::io::{Links, read_file, write_atomic};

use crate::error::StartError;

/// The largest file copied into a worktree.
pub const MAX_COPIED_FILE_BYTES: u64 = 1024 * 1024;

// Invariant: PARALLEL-003 Two live runs never hold the same port, and a port is free when handed out.
// Category: concurrency
// Why: dev servers of two runs that pick the same port fight over it; the loser fails in
//      ways that look like a bug in the agent's change.
// Correct pattern: one claim per port (port-<n>) in the fences claim store, held with a
//      heartbeat for the run's lifetime; a claimed port is then bound once on 127.0.0.1 to
//      prove nothing else on the host uses it, else its claim is released and the next tried.
// Forbidden: picking a random port and hoping; keeping a listener open to "reserve" it.
// Enforced by: lease_port.
/// Leases one free port of `first..=last` for `owner`: the claim on it and
/// its fencing token, skipping the ports in `mine` (already the owner's).
/// The search starts at a point derived from `seed` so
/// concurrent runs rarely try the same ports.
pub(crate) fn lease_port(
    store: &(dyn ClaimStore + Send + Sync),
    owner: &Owner,
    lease: Duration,
    seed: &str,
    (first, last): (u16, u16),
    mine: &[u16],
) -> Result<Option<(u16, u64)>, StartError> {
    let size = u32::from(last - first) + 1;
    let start = seed.bytes().fold(2_166_136_261_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    }) % size;
    for step in 0..size {
        let port = first + u16::try_from((start + step) % size).expect("within the range");
        if mine.contains(&port) {
            // Claiming a key its owner holds renews it: skip this run's own.
            continue;
        }
        let key = format!("port-{port}");
        let ClaimOutcome::Claimed { fencing_token, .. } = store.claim(&key, owner, lease)? else {
            continue;
        };
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(Some((port, fencing_token)));
        }
        store.release(&key, owner.token())?;
    }
    Ok(None)
}

/// Copies `relative` from `root` into `worktree` when it exists in `root`
/// as a regular file and not yet in the worktree (a tracked file is
/// already there). Returns whether it was copied.
pub(crate) fn copy_file(
    run_id: &str,
    root: &Path,
    worktree: &Path,
    relative: &str,
) -> Result<bool, StartError> {
    let fail = |problem: String| StartError::CopyFile {
        run_id: run_id.to_owned(),
        file: relative.to_owned(),
        problem,
    };
    let source = root.join(relative);
    let Ok(meta) = fs::symlink_metadata(&source) else {
        return Ok(false);
    };
    if meta.file_type().is_symlink() {
        return Err(fail("it is a symbolic link".to_owned()));
    }
    match fs::canonicalize(&source) {
        Ok(real) if real.starts_with(root) => {}
        _ => return Err(fail("it resolves outside the repository".to_owned())),
    }
    let target = worktree.join(relative);
    if fs::symlink_metadata(&target).is_ok() {
        return Ok(false);
    }
    let bytes = read_file(&source, MAX_COPIED_FILE_BYTES, Links::Refuse)
        .map_err(|e| fail(e.to_string()))?;
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).map_err(|e| fail(e.to_string()))?;
        match fs::canonicalize(parent) {
            Ok(real) if real.starts_with(worktree) => {}
            _ => {
                return Err(fail(
                    "its folder in the worktree leads outside the worktree".to_owned(),
                ));
            }
        }
    }
    write_atomic(&target, &bytes).map_err(|e| fail(e.to_string()))?;
    fs::set_permissions(&target, meta.permissions()).map_err(|e| fail(e.to_string()))?;
    Ok(true)
}
