//! Who holds a lock or a claim, and whether that holder is still alive.
//!
//! Identity is read from the operating system (`/proc` on Linux); where it is
//! not available the fields stay empty and liveness is `Unknown`, which
//! callers treat as alive: a claim whose holder cannot be checked becomes
//! stale only when its lease expires.

use std::fs;

use waypost_schemas::HolderIdentity;

/// A new random owner token: 128 bits, lowercase hex.
pub fn new_owner_token() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // The OS random source failed (practically never): fall back to
        // values that still differ between processes and calls.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mixed = nanos ^ (u128::from(std::process::id()) << 64);
        bytes = mixed.to_le_bytes();
    }
    waypost_schemas::canonical::hex(&bytes)
}

/// The identity of this process with a fresh owner token.
pub fn this_process(label: Option<&str>) -> HolderIdentity {
    let pid = std::process::id();
    HolderIdentity {
        owner_token: new_owner_token(),
        label: label.map(str::to_owned),
        pid,
        process_start: process_start(pid),
        hostname: hostname(),
        boot_id: boot_id(),
    }
}

/// Start time of process `pid` in clock ticks since boot (field 22 of
/// `/proc/<pid>/stat`), or `None` where that is not available.
pub fn process_start(pid: u32) -> Option<u64> {
    let (_, fields) = proc_stat(pid)?;
    // Fields after the command name start at field 3 (state); starttime is 22.
    fields.get(22 - 3)?.parse().ok()
}

/// `(state, fields after the command)` of `/proc/<pid>/stat`.
fn proc_stat(pid: u32) -> Option<(char, Vec<String>)> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may itself contain spaces and
    // parentheses: the fields resume after the last `)`.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<String> = rest.split_whitespace().map(str::to_owned).collect();
    let state = fields.first()?.chars().next()?;
    Some((state, fields))
}

/// This machine's host name.
pub fn hostname() -> Option<String> {
    read_trimmed("/proc/sys/kernel/hostname").or_else(|| read_trimmed("/etc/hostname"))
}

/// This boot's id (Linux), which changes when the machine restarts.
pub fn boot_id() -> Option<String> {
    read_trimmed("/proc/sys/kernel/random/boot_id")
}

fn read_trimmed(path: &str) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Whether a holder's process still runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liveness {
    /// The process runs (same pid and, where known, same start time).
    Alive,
    /// The process is gone: no such pid, a zombie, a reused pid, or the
    /// machine rebooted since.
    Gone,
    /// The holder is on another machine, or this platform cannot tell.
    Unknown,
}

/// Judges whether `holder` still runs, from this machine's point of view.
pub fn liveness(holder: &HolderIdentity) -> Liveness {
    let here = hostname();
    if holder.hostname.is_none() || holder.hostname != here {
        return Liveness::Unknown;
    }
    if let (Some(theirs), Some(ours)) = (&holder.boot_id, boot_id())
        && *theirs != ours
    {
        return Liveness::Gone;
    }
    if !std::path::Path::new("/proc/self/stat").exists() {
        return Liveness::Unknown;
    }
    match proc_stat(holder.pid) {
        None => Liveness::Gone,
        Some(('Z' | 'X' | 'x', _)) => Liveness::Gone,
        Some(_) => match (holder.process_start, process_start(holder.pid)) {
            (Some(recorded), Some(now)) if recorded != now => Liveness::Gone,
            _ => Liveness::Alive,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_tokens_are_128_bit_hex_and_differ() {
        let a = new_owner_token();
        let b = new_owner_token();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_is_alive_and_a_reused_pid_is_not() {
        let me = this_process(Some("test"));
        assert!(me.process_start.is_some());
        assert_eq!(liveness(&me), Liveness::Alive);
        let reused = HolderIdentity {
            process_start: me.process_start.map(|s| s + 1),
            ..me.clone()
        };
        assert_eq!(liveness(&reused), Liveness::Gone);
        let rebooted = HolderIdentity {
            boot_id: Some("another-boot".into()),
            ..me.clone()
        };
        assert_eq!(liveness(&rebooted), Liveness::Gone);
        let elsewhere = HolderIdentity {
            hostname: Some("another-host.invalid".into()),
            ..me
        };
        assert_eq!(liveness(&elsewhere), Liveness::Unknown);
    }
}
