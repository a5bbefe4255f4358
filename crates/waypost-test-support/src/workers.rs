//! Worker processes for tests that prove a claim about processes: a test
//! binary re-runs itself as a worker (`--ignored --exact worker::worker_entry`)
//! with a JSON job in an environment variable, and the worker reports on
//! stdout, one JSON object per line starting with `@`.

use std::io::{self, BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// A command that runs this test binary's `worker::worker_entry` with `job`
/// in the environment variable `variable`; stdout and stderr are piped.
///
/// # Panics
/// When the test binary's path is unknown.
pub fn command(variable: &str, job: &Value) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("test binary path"));
    command
        .args([
            "--ignored",
            "--exact",
            "worker::worker_entry",
            "--nocapture",
            "--test-threads=1",
            "-q",
        ])
        .env(variable, job.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// The report lines in a worker's stdout.
///
/// # Panics
/// When a report line is not JSON.
pub fn reports(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix('@'))
        .map(|l| serde_json::from_str(l).expect("report lines are JSON"))
        .collect()
}

/// Writes one report line (worker side).
///
/// # Panics
/// When stdout is closed.
pub fn report(value: &Value) {
    let mut out = io::stdout().lock();
    writeln!(out, "@{value}").expect("stdout");
    out.flush().expect("stdout");
}

/// Reads a running worker's reports until one satisfies `want`.
///
/// # Panics
/// When the worker exits first.
pub fn wait_for_report(child: &mut Child, want: impl Fn(&Value) -> bool) -> Value {
    let stdout = child.stdout.as_mut().expect("piped stdout");
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    loop {
        line.clear();
        let n = reader.read_line(&mut line).expect("worker stdout");
        assert!(n > 0, "worker exited before reporting");
        if let Some(report) = reports(&line).pop()
            && want(&report)
        {
            return report;
        }
    }
}
