//! Processes the tests start: a guard that kills and reaps its child when dropped, and signals
//! sent without procps.
//!
//! A test that fails (panics) half-way must not leave its child spinning: every child the
//! tests spawn is held in a [`Running`], whose `Drop` sends SIGKILL and waits, so a panic
//! anywhere in the test stops it. Signals are sent by the shell's builtin `kill` (`sh` is
//! dash or bash, both have it), not by `/bin/kill`, which is procps and absent from a minimal
//! Debian root. This module does not time processes out; callers bound their own waits.

use std::io;
use std::ops::{Deref, DerefMut};
use std::process::{Child, Command, Output, Stdio};

/// A child process that is killed and reaped when this guard is dropped. It derefs to the
/// [`Child`] (for `stdout.take()`, `try_wait`, …) and mirrors the consuming
/// [`Child::wait_with_output`].
pub(crate) struct Running {
    /// `None` only once [`Running::wait_with_output`] has taken it.
    child: Option<Child>,
}

impl Running {
    /// Spawns `command`; panics (failing the test) if it cannot start.
    #[track_caller]
    pub(crate) fn spawn(command: &mut Command) -> Running {
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        Running { child: Some(child) }
    }

    /// Sends the signal `name` (`INT`, `TERM`, `KILL`, …) to the child; panics if it cannot
    /// be sent (the child already reaped, or no shell).
    #[track_caller]
    pub(crate) fn signal(&self, name: &str) {
        assert!(
            signal(self.id(), name),
            "could not send SIG{name} to {}",
            self.id()
        );
    }

    /// Waits for the child to exit, collecting whatever of its stdout and stderr was piped.
    pub(crate) fn wait_with_output(mut self) -> io::Result<Output> {
        self.child
            .take()
            .expect("the child is held until now")
            .wait_with_output()
    }
}

impl Deref for Running {
    type Target = Child;

    fn deref(&self) -> &Child {
        self.child
            .as_ref()
            .expect("the child is held until dropped")
    }
}

impl DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        self.child
            .as_mut()
            .expect("the child is held until dropped")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            // Already exited and reaped: kill fails harmlessly and wait returns the status.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Sends the signal `name` to every process of the process group `pgid` (a child started
/// with `process_group(0)` and whatever it started); whether it was sent.
pub(crate) fn signal_group(pgid: u32, name: &str) -> bool {
    Command::new("/bin/sh")
        .env("PATH", "/nonexistent")
        .args([
            "-c",
            "kill -s \"$1\" -- \"-$2\"",
            "sh",
            name,
            &pgid.to_string(),
        ])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Sends the signal `name` (`INT`, `TERM`, `KILL`, …) to process `pid` with the shell's
/// builtin `kill`; whether it was sent. The shell runs with a `PATH` that finds nothing, so
/// no `kill` program is ever needed.
pub(crate) fn signal(pid: u32, name: &str) -> bool {
    Command::new("/bin/sh")
        .env("PATH", "/nonexistent")
        .args(["-c", "kill -s \"$1\" \"$2\"", "sh", name, &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The fields of `/proc/PID/stat` after the command name: the state letter first, then the
/// parent's pid, …; `None` when there is no such process.
pub(crate) fn proc_stat(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `PID (COMM) STATE PPID …`; COMM may hold spaces and parentheses.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// Whether process `pid` runs (exists and is not a zombie), from `/proc`, not `ps`.
pub(crate) fn alive(pid: u32) -> bool {
    proc_stat(pid).is_some_and(|fields| fields.first().is_some_and(|s| s != "Z" && s != "X"))
}

#[test]
fn a_dropped_guard_kills_and_reaps_its_child() {
    let running = Running::spawn(Command::new("sleep").arg("60"));
    let pid = running.id();
    assert!(alive(pid));
    drop(running);
    // Killed and reaped: not running, and not left a zombie either.
    assert!(!alive(pid));
}

#[test]
fn a_test_that_panics_leaves_no_child_behind() {
    let pid = std::sync::Arc::new(std::sync::Mutex::new(0));
    let seen = pid.clone();
    let failed = std::thread::spawn(move || {
        let running = Running::spawn(Command::new("sleep").arg("60"));
        *seen.lock().unwrap() = running.id();
        panic!("the test fails here, before any line that would stop its child");
    })
    .join();
    assert!(failed.is_err());
    let pid = *pid.lock().unwrap();
    assert!(pid != 0 && !alive(pid), "child {pid} still runs");
}

#[test]
fn signals_are_sent_without_procps() {
    let mut running = Running::spawn(Command::new("sleep").arg("60"));
    running.signal("TERM");
    let status = running.wait().unwrap();
    assert!(!status.success());
    assert!(!signal(u32::MAX / 2, "TERM"), "no such process");
}
