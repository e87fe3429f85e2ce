//! Standard output into pipes and files: written in blocks, yet in order with the trace on
//! stderr, and line by line with `--line-buffered`.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use super::child::Running;
use super::{bin, script};

#[test]
fn output_and_trace_share_a_file_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = script(
        dir.path(),
        "t.apdu",
        "00 A4 00 0C 02 2F 00\n00 B0 00 00 02\n",
    );
    let log = dir.path().join("log");
    let out = std::fs::File::create(&log).unwrap();
    let status = bin()
        .args(["--sim", "iso7816", "--trace", file.to_str().unwrap()])
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&log).unwrap();
    // Each echo comes before the trace of its exchange, each answer after it.
    let order: Vec<&str> = text.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(
        order,
        [">", ">>", "<<", "<", ">", ">>", "<<", "<"],
        "{text}"
    );
}

/// Starts a script that prints one line, sends one command and then runs until killed;
/// returns the child, a receiver of the lines it writes to its stdout pipe, and the trace
/// file, which has a line once the script is past its `print`.
fn printing_then_spinning(extra: &[&str]) -> (Running, mpsc::Receiver<String>, Traced) {
    let dir = tempfile::tempdir().unwrap();
    let file = script(
        dir.path(),
        "t.rhai",
        "print(\"started\");\nsend(\"00 A4 00 0C 02 2F 00\");\nloop { }\n",
    );
    let trace = dir.path().join("trace.jsonl");
    let mut child = Running::spawn(
        bin()
            .args(["--sim", "iso7816", "--trace-file"])
            .arg(&trace)
            .args(extra)
            .arg(&file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    let stdout = child.stdout.take().unwrap();
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    (child, received, Traced { _dir: dir, trace })
}

struct Traced {
    _dir: tempfile::TempDir,
    trace: std::path::PathBuf,
}

impl Traced {
    /// Waits (at most 20 s) until the script has sent its command.
    fn wait_for_the_command(&self) {
        for _ in 0..400 {
            if std::fs::read_to_string(&self.trace).is_ok_and(|t| !t.is_empty()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the script never sent its command");
    }
}

#[test]
fn line_buffered_output_arrives_while_the_script_runs() {
    let (mut child, lines, traced) = printing_then_spinning(&["--line-buffered"]);
    traced.wait_for_the_command();
    let first = lines.recv_timeout(Duration::from_secs(20));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(first.as_deref(), Ok("started"));
}

#[test]
fn into_a_pipe_output_is_held_until_a_block_fills_or_the_run_ends() {
    let (mut child, lines, traced) = printing_then_spinning(&[]);
    // The script printed, then sent; its line is held, not written.
    traced.wait_for_the_command();
    let first = lines.recv_timeout(Duration::from_millis(200));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(first, Err(mpsc::RecvTimeoutError::Timeout));
}

#[test]
fn sigterm_stops_the_run_like_ctrl_c_and_held_output_is_written() {
    let (child, lines, traced) = printing_then_spinning(&[]);
    traced.wait_for_the_command();
    child.signal("TERM");
    let status = child.wait_with_output().unwrap().status;
    assert_eq!(status.code(), Some(130));
    assert_eq!(
        lines.recv_timeout(Duration::from_secs(20)).as_deref(),
        Ok("started")
    );
}
