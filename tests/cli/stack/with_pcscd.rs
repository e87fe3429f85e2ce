//! `tests/stack/with-pcscd.sh` itself, run always (no pcscd needed): with a tool missing it
//! stops at once and names it; with a pcscd that never lists the readers it gives up within its
//! wait and stops that pcscd; it never needs procps. The real pcscd and `pcsc_scan` are
//! replaced by small shell fakes in a private `PATH`, which holds links to the other tools
//! the script may use and nothing else (no `ps`).

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::child::{Running, alive, signal_group};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/stack/with-pcscd.sh");

/// Every tool the script may run; `ps` is deliberately not among them.
const TOOLS: [&str; 12] = [
    "pcscd",
    "pcsc_scan",
    "flock",
    "timeout",
    "mktemp",
    "tr",
    "cat",
    "ln",
    "mkdir",
    "rm",
    "sleep",
    "grep",
];

/// Longer than any wait the script should make in these tests (2 s for pcscd to list the
/// readers, 5 s for it to stop): beyond this the script is taken to hang.
const LIMIT: Duration = Duration::from_secs(30);

/// Where `name` is on this process's `PATH`.
fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// A directory for `PATH` with links to [`TOOLS`] found here, except `left_out`, and the
/// given fakes (name, shell script body).
fn bin_dir(dir: &Path, left_out: &str, fakes: &[(&str, &str)]) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).unwrap();
    for tool in TOOLS {
        if tool == left_out || fakes.iter().any(|(name, _)| *name == tool) {
            continue;
        }
        if let Some(found) = which(tool) {
            std::os::unix::fs::symlink(found, bin.join(tool)).unwrap();
        }
    }
    for (name, body) in fakes {
        let path = bin.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

struct Outcome {
    code: Option<i32>,
    stderr: String,
}

/// Runs `bash with-pcscd.sh CMD…` with `PATH=bin`, a private lock and a 2 s wait for pcscd;
/// fails the test if it has not ended within [`LIMIT`].
fn run_script(dir: &Path, bin: &Path, cmd: &[&str]) -> Outcome {
    let stderr_path = dir.join("stderr");
    let mut child = Running::spawn(
        Command::new("/bin/bash")
            .arg(SCRIPT)
            .args(cmd)
            .env("PATH", bin)
            .env("APDU_RUN_PCSCD_LOCK", dir.join("lock"))
            .env("APDU_RUN_PCSCD_WAIT", "2")
            .env("TMPDIR", dir)
            // Its own process group, so that a hang is ended with the pcscd it started.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr_path).unwrap()),
    );
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > LIMIT {
            signal_group(child.id(), "KILL");
            let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            panic!("with-pcscd.sh still running after {LIMIT:?} (a hang); stderr:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Outcome {
        code: status.code(),
        stderr: std::fs::read_to_string(&stderr_path).unwrap(),
    }
}

/// Whether a pcscd of this machine is running (its pid file names a live process); the
/// script then, rightly, refuses to start another.
fn machine_pcscd_running() -> bool {
    std::fs::read_to_string("/run/pcscd/pcscd.pid").is_ok_and(|text| {
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        digits.parse().is_ok_and(alive)
    })
}

fn vpcd_configured() -> bool {
    std::fs::read_dir("/etc/reader.conf.d").is_ok_and(|entries| {
        entries.flatten().any(|entry| {
            std::fs::read_to_string(entry.path()).is_ok_and(|text| text.contains("libifdvpcd"))
        })
    })
}

#[test]
fn with_pcscd_names_each_missing_tool_and_stops_at_once() {
    for tool in TOOLS {
        let dir = tempfile::tempdir().unwrap();
        let bin = bin_dir(dir.path(), tool, &[]);
        let start = Instant::now();
        let r = run_script(dir.path(), &bin, &["true"]);
        assert_eq!(r.code, Some(125), "without {tool}: {}", r.stderr);
        assert!(
            r.stderr.starts_with("with-pcscd: missing tools:")
                && r.stderr.contains(&format!(" {tool} (")),
            "without {tool}: {}",
            r.stderr
        );
        assert_eq!(r.stderr.lines().count(), 1, "without {tool}: {}", r.stderr);
        assert!(start.elapsed() < Duration::from_secs(10), "without {tool}");
    }
}

/// A pcscd that runs but never lists the readers: the script gives up after its wait (2 s
/// here), says so, and stops that pcscd, all without procps. (It used `ps` to see whether
/// pcscd lived; without `ps` it took the live pcscd for a dead one and waited for it to exit,
/// for ever.)
#[test]
fn with_pcscd_gives_up_on_a_silent_pcscd_without_procps_and_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("fake-pcscd.pid");
    let fake_pcscd = format!("echo $$ > '{}'\nexec sleep 600", pid_file.display());
    let bin = bin_dir(
        dir.path(),
        "ps",
        &[("pcscd", &fake_pcscd), ("pcsc_scan", "exit 1")],
    );
    assert!(!bin.join("ps").exists());
    let r = run_script(dir.path(), &bin, &["true"]);
    assert_eq!(r.code, Some(125), "{}", r.stderr);
    if !vpcd_configured() {
        eprintln!("note: no vpcd reader.conf entry here; only the early refusal was checked");
        assert!(r.stderr.contains("vsmartcard-vpcd"), "{}", r.stderr);
        return;
    }
    if machine_pcscd_running() {
        eprintln!("note: a pcscd runs on this machine; only the refusal to start one was checked");
        assert!(r.stderr.contains("stop it first"), "{}", r.stderr);
        return;
    }
    assert!(
        r.stderr
            .contains("pcscd did not list `Virtual PCD` within 2s"),
        "{}",
        r.stderr
    );
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(!alive(pid), "the fake pcscd {pid} was left running");
}

/// The whole path with fakes: pcscd started, the readers listed, CMD run with
/// `APDU_RUN_PCSCD_PID`, its exit status returned, pcscd stopped.
#[test]
fn with_pcscd_runs_the_command_and_stops_its_pcscd_without_procps() {
    if !vpcd_configured() || machine_pcscd_running() {
        eprintln!("skipped: needs the vpcd reader.conf entry and no pcscd running");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("fake-pcscd.pid");
    let fake_pcscd = format!("echo $$ > '{}'\nexec sleep 600", marker.display());
    let fake_scan = format!(
        "[ -s '{}' ] || exit 1\necho 'Virtual PCD 00 00'",
        marker.display()
    );
    let bin = bin_dir(
        dir.path(),
        "ps",
        &[("pcscd", &fake_pcscd), ("pcsc_scan", &fake_scan)],
    );
    let seen = dir.path().join("seen-pid");
    let cmd = format!(
        "echo \"$APDU_RUN_PCSCD_PID\" > '{}'; exit 7",
        seen.display()
    );
    let r = run_script(dir.path(), &bin, &["/bin/sh", "-c", &cmd]);
    assert_eq!(r.code, Some(7), "{}", r.stderr);
    let pid = std::fs::read_to_string(&marker).unwrap();
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), pid);
    let pid: u32 = pid.trim().parse().unwrap();
    assert!(!alive(pid), "the fake pcscd {pid} was left running");
}
