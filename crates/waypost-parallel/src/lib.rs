//! # waypost-parallel
//!
//! Several agent runs on one repository at once, with nothing lost and
//! nothing shared by accident. Four layers of isolation, each enforced:
//!
//! 1. **A git worktree per run** on its own branch (`waypost/<run_id>`),
//!    created and removed under one exclusive lock in the git common
//!    directory so no two waypost processes race inside `.git`; the
//!    worktree is marked with its run, and a run reattaches only to its own.
//! 2. **A workspace lease** (fences claim with fencing token and heartbeat);
//!    every artifact write presents the token and a stale one is refused
//!    ([`ArtifactWriter`], FENCE-009).
//! 3. **A per-run executor lock**: a second executor of the same run fails
//!    at once, naming the holder.
//! 4. **Run-scoped artifacts**: [`ArtifactWriter`] writes only under the
//!    run's directory, never through links, never shared files.
//!
//! A [`ParallelismGate`] admits runs into counted slots as the anchor
//! allows, and runs lease TCP ports and get `.env`-style files copied into
//! their fresh worktree. [`Run::start`] takes everything in order and the
//! [`RunGuard`] gives it back in reverse; [`inventory`] lists runs and
//! cleans up without ever losing work.
//!
//! ```no_run
//! use waypost_parallel::{Repository, Run};
//! use waypost_schemas::config::RunsConfig;
//!
//! # fn demo(anchor: &waypost_schemas::IntentionAnchorV2) -> Result<(), Box<dyn std::error::Error>> {
//! let repo = Repository::open(std::path::Path::new("."))?;
//! let run = Run::start(&repo, anchor, "fix-docs-1", "main", &RunsConfig::default())?;
//! // ... the agent works in run.worktree() and commits on run.branch() ...
//! run.writer().write("logs/agent.txt", b"done\n")?;
//! run.finish()?;
//! # Ok(()) }
//! ```

mod error;
mod gate;
mod git;
pub mod inventory;
pub mod landing;
mod repo;
mod resources;
mod run;
mod writer;

pub use error::{ArtifactWriteError, GitError, InventoryError, StartError};
pub use gate::{Capacity, DEFAULT_MAX_CONCURRENT_RUNS, ParallelismGate, SlotClaim};
pub use repo::{COORDINATION_DIR, ClaimStores, FileClaimStores, Repository, SharedClaimStore};
pub use resources::MAX_COPIED_FILE_BYTES;
pub use run::{ADMIN_LOCK_TIMEOUT, OWNER_MARKER, ReleaseError, Run, RunGuard};
pub use writer::{ArtifactWriter, SHARED_FILE_NAMES};
