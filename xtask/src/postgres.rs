//! `cargo xtask with-postgres -- CMD…`: a throwaway PostgreSQL cluster for
//! the tests of the PostgreSQL store.
//!
//! Installs PostgreSQL from the distribution's packages when no server is
//! found under `/usr/lib/postgresql/*/bin`, creates a cluster in a fresh
//! temporary folder (trust authentication on loopback, its unix socket in
//! the same folder), starts it on a free local port, runs CMD with
//! `WAYPOST_TEST_PG` set to its URL and `WAYPOST_TEST_PG_RESTART` set to a
//! script that restarts it, then stops the server and removes the folder.
//!
//! PostgreSQL refuses to run as root: when the task runs as root, the
//! server runs as the system user [`SERVER_USER`] (created if missing).
//!
//! The cleanup does not depend on this process ending well: a guardian
//! process in its own session waits for this process's end of a pipe to
//! close, which happens however this process ends (CMD failing, Ctrl-C,
//! a kill), then stops the server and removes the folder.

use std::ffi::OsString;
use std::fs;
use std::io::Write as _;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

/// The system user the server runs as when the task runs as root.
pub(crate) const SERVER_USER: &str = "waypost-pg";

/// Where Debian's packages put each major version's programs.
const INSTALL_ROOT: &str = "/usr/lib/postgresql";

/// Runs `args` (after an optional `--`) against a throwaway cluster and
/// returns its exit status.
pub(crate) fn run(args: &[String]) -> Result<ExitCode> {
    let command = match args {
        [dash, rest @ ..] if dash == "--" => rest,
        rest => rest,
    };
    let Some((program, program_args)) = command.split_first() else {
        bail!("usage: cargo xtask with-postgres -- CMD [ARGS…]");
    };
    let bin = server_bin().or_else(|_| {
        install()?;
        server_bin()
    })?;
    let user = server_user()?;
    let cluster = Cluster::create(&bin, user.as_deref())?;
    let guardian = cluster.guard()?;
    let started = cluster.start();
    let status = match started {
        Ok(()) => {
            say(&format!(
                "PostgreSQL ({}) on {}; running {}",
                bin.display(),
                cluster.url(),
                command.join(" ")
            ));
            Command::new(program)
                .args(program_args)
                .env("WAYPOST_TEST_PG", cluster.url())
                .env("WAYPOST_TEST_PG_RESTART", cluster.restart_script())
                .status()
                .with_context(|| format!("cannot run `{program}`"))
        }
        Err(e) => Err(e),
    };
    guardian.finish();
    let status = status?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => ExitCode::FAILURE,
    })
}

#[expect(clippy::print_stderr, reason = "the xtask reports to the terminal")]
fn say(line: &str) {
    eprintln!("with-postgres: {line}");
}

/// The newest `/usr/lib/postgresql/<major>/bin` that has `initdb`.
fn server_bin() -> Result<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir(INSTALL_ROOT)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, bin)| bin)
        .with_context(|| format!("no PostgreSQL server under {INSTALL_ROOT}/*/bin"))
}

/// `apt-get update` then `apt-get install -y postgresql`.
fn install() -> Result<()> {
    say("PostgreSQL is not installed; installing it from the distribution's packages");
    for args in [
        &["update"][..],
        &["install", "-y", "--no-install-recommends", "postgresql"][..],
    ] {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("cannot run apt-get (PostgreSQL must be installed by hand here)")?;
        if !status.success() {
            bail!("`apt-get {}` failed with {status}", args.join(" "));
        }
    }
    Ok(())
}

fn is_root() -> Result<bool> {
    let out = Command::new("id")
        .arg("-u")
        .output()
        .context("cannot run `id -u`")?;
    Ok(String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// The user to run the server as: [`SERVER_USER`] (created when missing)
/// when this runs as root, else `None` (this user).
fn server_user() -> Result<Option<String>> {
    if !is_root()? {
        return Ok(None);
    }
    let exists = Command::new("id")
        .arg("-u")
        .arg(SERVER_USER)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("cannot run `id`")?
        .success();
    if !exists {
        let status = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
            ])
            .arg(SERVER_USER)
            .status()
            .context("cannot run useradd")?;
        if !status.success() {
            bail!("`useradd --system {SERVER_USER}` failed with {status}");
        }
    }
    Ok(Some(SERVER_USER.to_owned()))
}

fn current_user() -> Result<String> {
    let out = Command::new("id")
        .arg("-un")
        .output()
        .context("cannot run `id -un`")?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// A cluster in a temporary folder.
#[derive(Debug)]
struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    user: Option<String>,
    role: String,
    port: u16,
}

impl Cluster {
    fn create(bin: &Path, user: Option<&str>) -> Result<Self> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("waypost-pg-{}-{nanos:09}", std::process::id()));
        fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict {}", dir.display()))?;
        let role = match user {
            Some(user) => {
                let out = Command::new("id")
                    .arg("-u")
                    .arg(user)
                    .output()
                    .context("cannot run `id`")?;
                let uid: u32 = String::from_utf8_lossy(&out.stdout)
                    .trim()
                    .parse()
                    .with_context(|| format!("no uid for user {user}"))?;
                std::os::unix::fs::chown(&dir, Some(uid), None)
                    .with_context(|| format!("cannot hand {} to {user}", dir.display()))?;
                user.to_owned()
            }
            None => current_user()?,
        };
        let port = TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .context("no free local port")?
            .port();
        let cluster = Self {
            bin: bin.to_owned(),
            dir,
            user: user.map(str::to_owned),
            role,
            port,
        };
        let initdb = cluster
            .as_server_user(cluster.bin.join("initdb"))
            .arg("--pgdata")
            .arg(cluster.data())
            .args(["--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"])
            .arg(format!("--username={}", cluster.role))
            .output()
            .context("cannot run initdb")?;
        if !initdb.status.success() {
            let _ = fs::remove_dir_all(&cluster.dir);
            bail!(
                "initdb failed with {}:\n{}",
                initdb.status,
                String::from_utf8_lossy(&initdb.stderr)
            );
        }
        let script = format!(
            "#!/bin/sh\n# Restarts the throwaway cluster (a fast shutdown, then a start).\nexec {}\n",
            shell_words(&cluster.pg_ctl_words(&["restart", "-m", "fast"]))
        );
        fs::write(cluster.restart_script(), script).context("cannot write the restart script")?;
        fs::set_permissions(cluster.restart_script(), fs::Permissions::from_mode(0o755))
            .context("cannot make the restart script executable")?;
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn restart_script(&self) -> PathBuf {
        self.dir.join("restart.sh")
    }

    fn url(&self) -> String {
        format!("postgres://{}@127.0.0.1:{}/postgres", self.role, self.port)
    }

    /// `program` run as the server's user.
    fn as_server_user(&self, program: PathBuf) -> Command {
        let words = self.server_user_words(program.into_os_string());
        let mut command = Command::new(&words[0]);
        command.args(&words[1..]);
        command
    }

    fn server_user_words(&self, program: OsString) -> Vec<OsString> {
        match &self.user {
            Some(user) => vec![
                "runuser".into(),
                "-u".into(),
                user.into(),
                "--".into(),
                program,
            ],
            None => vec![program],
        }
    }

    /// `pg_ctl` with the cluster's data folder, options and log, then `extra`.
    fn pg_ctl_words(&self, extra: &[&str]) -> Vec<OsString> {
        let mut words = self.server_user_words(self.bin.join("pg_ctl").into_os_string());
        words.push("--pgdata".into());
        words.push(self.data().into_os_string());
        words.push("--log".into());
        words.push(self.dir.join("server.log").into_os_string());
        words.push("--wait".into());
        words.push("--timeout=60".into());
        words.extend(extra.iter().map(OsString::from));
        words
    }

    fn start(&self) -> Result<()> {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories={} -c fsync=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        let words = self.pg_ctl_words(&["--options", &options, "start"]);
        let out = Command::new(&words[0])
            .args(&words[1..])
            .stdin(Stdio::null())
            .output()
            .context("cannot run pg_ctl")?;
        if !out.status.success() {
            let log = fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            bail!(
                "pg_ctl start failed with {}:\n{}{log}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Starts the guardian that stops the server and removes the folder
    /// once this process's end of its pipe closes.
    fn guard(&self) -> Result<Guardian> {
        let stop = shell_words(&self.pg_ctl_words(&["stop", "-m", "immediate"]));
        let script = format!(
            "read -r _ignored; {stop} >/dev/null 2>&1; rm -rf {}",
            shell_quote(&self.dir.clone().into_os_string())
        );
        let child = Command::new("setsid")
            .arg("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start the cleanup guardian (setsid sh)")?;
        Ok(Guardian { child })
    }
}

/// The process that cleans up after the cluster.
#[derive(Debug)]
struct Guardian {
    child: Child,
}

impl Guardian {
    /// Closes the pipe and waits for the cleanup to end.
    fn finish(mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.write_all(b"done\n");
        }
        let _ = self.child.wait();
    }
}

fn shell_quote(word: &OsString) -> String {
    format!("'{}'", word.to_string_lossy().replace('\'', r"'\''"))
}

fn shell_words(words: &[OsString]) -> String {
    words.iter().map(shell_quote).collect::<Vec<_>>().join(" ")
}
