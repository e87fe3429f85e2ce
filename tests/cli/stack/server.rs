//! The `sim serve` process as the stack tests drive it, and waiting on pcscd's view of the slot.

use std::io::{BufRead, BufReader};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use apdu_run::reader::pcsc::{CardState, list_readers};

use super::NOTICE;
use crate::bin;
use crate::child::Running;

/// The state pcscd reports for `Virtual PCD 00 00`.
pub(crate) fn slot_state() -> CardState {
    list_readers().unwrap()[0].state
}

#[track_caller]
pub(crate) fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < NOTICE, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

/// `apdu-run sim serve …` in the background, its stderr collected line by line.
pub(crate) struct Server {
    pub(crate) child: Running,
    stderr: Arc<Mutex<String>>,
    /// Whether it serves the real vpcd, so that dropping it waits for pcscd to see the card go.
    on_stack: bool,
}

impl Server {
    pub(crate) fn start(args: &[&str]) -> Server {
        Server::spawn(args, true)
    }

    /// A server for a fake vpcd in the test, not pcscd's.
    pub(crate) fn off_stack(args: &[&str]) -> Server {
        Server::spawn(args, false)
    }

    fn spawn(args: &[&str], on_stack: bool) -> Server {
        let mut child = Running::spawn(
            bin()
                .args(["sim", "serve"])
                .args(args)
                .stdin(Stdio::null())
                .stderr(Stdio::piped()),
        );
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = BufReader::new(child.stderr.take().unwrap());
        let sink = stderr.clone();
        thread::spawn(move || {
            for line in pipe.lines().map_while(Result::ok) {
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        Server {
            child,
            stderr,
            on_stack,
        }
    }

    /// Starts the server and waits until pcscd sees its card.
    pub(crate) fn present(args: &[&str]) -> Server {
        let server = Server::start(args);
        wait_until("the served card", || slot_state() == CardState::Present);
        server
    }

    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits for the server to exit by itself.
    pub(crate) fn exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < NOTICE,
                "server still running:\n{}",
                self.stderr()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server as Ctrl-C does.
    pub(crate) fn interrupt(&mut self) -> ExitStatus {
        self.child.signal("INT");
        self.exit()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Stopped here rather than by the guard's own drop (after this body) so that the
        // wait for the slot to empty below comes after the card went.
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The next test starts from an empty slot, not one pcscd has yet to poll. pcscd may
        // report it empty before its polling thread has seen it so (after a failed reset of
        // a vanished card); a card inserted before that poll would go unnoticed.
        if self.on_stack && !thread::panicking() {
            wait_until("the slot to empty", || slot_state() == CardState::Empty);
            thread::sleep(Duration::from_millis(600));
        }
    }
}
