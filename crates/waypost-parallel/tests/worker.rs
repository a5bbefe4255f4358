//! The worker side of the process tests: the parent runs this test binary
//! with `--ignored --exact worker::worker_entry` and a JSON job in
//! `WAYPOST_PARALLEL_WORKER`; reports are stdout lines starting with `@`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};
use waypost_parallel::{Repository, Run};

use crate::support::{anchor, commit_in, config};

const JOB: &str = "WAYPOST_PARALLEL_WORKER";

use waypost_test_support::workers::report;
pub(crate) use waypost_test_support::workers::reports;

/// A command that runs one worker with `job`.
pub(crate) fn worker(job: &Value) -> Command {
    waypost_test_support::workers::command(JOB, job)
}

#[test]
#[ignore = "entry point of the worker processes that the process tests spawn"]
fn worker_entry() {
    let Ok(job) = std::env::var(JOB) else { return };
    let job: Value = serde_json::from_str(&job).expect("job is JSON");
    let repo = PathBuf::from(job["repo"].as_str().expect("repo"));
    let run_id = job["run_id"].as_str().expect("run_id");
    // Start together: wait for the go file.
    if let Some(go) = job["go"].as_str() {
        while !Path::new(go).exists() {
            thread::sleep(Duration::from_millis(1));
        }
    }
    if job["mode"] == "land" {
        land(&repo, run_id, &job);
        return;
    }
    let r = Repository::open(&repo).expect("open");
    let max = u32::try_from(job["max"].as_u64().unwrap_or(16)).expect("small");
    let mut cfg = config();
    if let Some(ports) = job["ports"].as_array() {
        cfg.ports = ports
            .iter()
            .map(|p| p.as_str().expect("name").to_owned())
            .collect();
    }
    let run = match Run::start(&r, &anchor(Some(max)), run_id, "main", &cfg) {
        Ok(run) => run,
        Err(e) => {
            report(&json!({"started": false, "error": e.to_string()}));
            return;
        }
    };
    report(&json!({
        "started": true, "pid": std::process::id(), "worktree": run.worktree(),
        "ports": run.ports(), "token": run.fencing_token(),
    }));
    let commits = job["commits"].as_u64().unwrap_or(0);
    for n in 0..commits {
        commit_in(
            run.worktree(),
            &format!("{run_id}/change-{n}.txt"),
            &format!("{run_id} {n}\n"),
        );
        run.writer()
            .write(
                &format!("logs/step-{n}.txt"),
                format!("{run_id} step {n}\n").as_bytes(),
            )
            .expect("artifact");
    }
    if job["hold"] == true {
        std::fs::write(run.worktree().join("uncommitted.txt"), "work in progress\n")
            .expect("dirty file");
        report(&json!({"holding": true}));
        loop {
            thread::sleep(Duration::from_secs(60));
        }
    }
    run.finish().expect("finish");
    report(&json!({"done": true}));
}

/// Lands `run_id` with a fresh approval, pausing `pause_ms` after reporting
/// the step named `pause_at`; reports the outcome.
fn land(repo: &Path, run_id: &str, job: &Value) {
    use waypost_parallel::landing::{self, LandOptions, LandOutcome, Step, Strategy};
    let r = Repository::open(repo).expect("open");
    let approval = crate::landing::approve(&r, run_id, Strategy::Merge);
    let pause_at = job["pause_at"].as_str().unwrap_or("").to_owned();
    let pause = Duration::from_millis(job["pause_ms"].as_u64().unwrap_or(0));
    let on_step = move |step: Step| {
        let name = match step {
            Step::Claimed => "claimed",
            Step::Computed => "computed",
            Step::Recorded => "recorded",
            Step::Moved => "moved",
            _ => "other",
        };
        if name == pause_at {
            report(&json!({"step": name, "pid": std::process::id()}));
            thread::sleep(pause);
        }
    };
    let options = LandOptions {
        strategy: Strategy::Merge,
        lease: Duration::from_millis(job["lease_ms"].as_u64().unwrap_or(60_000)),
        approval: Some(&approval),
        on_step: Some(&on_step),
        ..LandOptions::default()
    };
    let outcome = landing::land(&r, &crate::landing::landing_anchor(), run_id, &options);
    report(&match outcome {
        Ok(LandOutcome::Landed { result, already }) => {
            json!({"outcome": "landed", "result": result, "already": already})
        }
        Ok(LandOutcome::HeldBy { holder }) => json!({"outcome": "held", "holder": holder.pid}),
        Ok(other) => json!({"outcome": "other", "detail": format!("{other:?}")}),
        Err(e) => json!({"outcome": "error", "error": e.to_string()}),
    });
}
