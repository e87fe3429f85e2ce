//! The CLI's standard output and error: every `outln!` and `errln!` line goes through here.
//!
//! Lines are written one at a time, except in `run` (scripts, scriptor files, profiles) when
//! stdout is a pipe or a file: there they are collected and written in blocks, as `grep`
//! and `ripgrep` do, because a scriptor file prints three lines per APDU and a `write` for
//! each cost more than the rest of apdu-run's own work on that APDU. `--line-buffered`
//! asks for lines anyway, for `apdu-run … | tee log` watched live. `batch` keeps lines:
//! `batch/progress.rs` writes its per-card lines to stdout itself, and nothing may be held
//! here ahead of them.
//!
//! Held lines are written out before anything goes to stderr ([`flush`] is called by the
//! trace and the error printer), so `>log 2>&1` keeps the order, and when the command ends
//! (also by a panic, and by Ctrl-C, SIGTERM and SIGHUP, which stop a run before its next
//! command rather than kill it). Only SIGKILL loses what is held; `--trace-file` is written
//! line by line for that case.
//!
//! Nothing here panics on a failed write (unlike `println!`/`eprintln!`): an output that
//! cannot be written (`| head`, `2>/dev/full`, a log pipe closed mid-run) stops the run as
//! Ctrl-C does ([`super::output_lost`]), so held lines are written where they still can
//! be, a simulated card is saved and a batch journals its card. This module does not decide
//! what is printed.

use std::io::{self, BufWriter, IsTerminal, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Bytes held before a block is written; a few hundred scriptor lines.
const BLOCK: usize = 32 * 1024;

static OUT: Mutex<Option<BufWriter<Stdout>>> = Mutex::new(None);
/// Until [`configure`] says otherwise, every line is written at once.
static LINE_BUFFERED: AtomicBool = AtomicBool::new(true);

/// Chooses line-at-a-time output (`line_buffered`, or stdout is a terminal) or blocks.
pub(crate) fn configure(line_buffered: bool) {
    let line = line_buffered || io::stdout().is_terminal();
    LINE_BUFFERED.store(line, Ordering::Relaxed);
}

/// Writes one line. A closed stdout (`apdu-run readers | head -1`) is not an error worth a
/// panic: the rest of the output is dropped and the run stops at its next step.
pub(crate) fn line(args: std::fmt::Arguments) {
    let mut out = lock();
    let writer = out.get_or_insert_with(|| BufWriter::with_capacity(BLOCK, io::stdout()));
    let mut written = writer
        .write_fmt(args)
        .and_then(|()| writer.write_all(b"\n"));
    if written.is_ok() && LINE_BUFFERED.load(Ordering::Relaxed) {
        written = writer.flush();
    }
    if written.is_err() {
        super::output_lost();
    }
}

/// Writes out the lines held so far.
pub(crate) fn flush() {
    if let Some(writer) = lock().as_mut() {
        if writer.flush().is_err() {
            super::output_lost();
        }
    }
}

/// Writes one line to stderr, after the stdout lines held so far (so `>log 2>&1` keeps
/// the order). Returns whether it was written.
pub(crate) fn error_line(args: std::fmt::Arguments) -> bool {
    flush();
    let mut err = io::stderr().lock();
    let written = err
        .write_fmt(args)
        .and_then(|()| err.write_all(b"\n"))
        .and_then(|()| err.flush());
    if written.is_err() {
        super::output_lost();
    }
    written.is_ok()
}

fn lock() -> MutexGuard<'static, Option<BufWriter<Stdout>>> {
    // A panic while printing leaves the writer usable; output must not stop for it.
    OUT.lock().unwrap_or_else(PoisonError::into_inner)
}
