//! The edge: parse arguments, dispatch to a subcommand, print, and pick the exit code.
//!
//! This and `batch/progress` are the only places that print. Every subcommand validates
//! its input completely before it touches a reader, so invalid input exits 2 with no APDU
//! sent. Errors are printed once, as `error: …`, on one line (`error_out`: one JSON object
//! with `--json`).

mod access_bits;
mod args;
mod batch;
mod check_out;
mod colour;
mod completions;
mod error_out;
mod exit;
mod info;
mod key;
mod ledger;
mod man;
mod paths;
mod profile_run;
mod record_out;
mod replay_import;
mod report;
mod run;
mod serial;
mod sim_kinds;
mod sim_serve;
mod sim_timing;
mod stdout;
mod suggest;
mod trace_out;
mod version;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use clap::Parser;

pub use args::Cli;
pub use exit::{Exit, Failure};

/// Prints one line to stdout, through [`stdout`]: at once unless `run` asked for blocks
/// (stdout is a pipe or a file and `--line-buffered` is off).
macro_rules! outln {
    () => {
        $crate::cli::stdout::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::cli::stdout::line(format_args!($($arg)*))
    };
}
pub(crate) use outln;

/// Writes one line to stderr, never panicking: a stderr that cannot be written stops the
/// run like Ctrl-C ([`output_lost`]).
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::stdout::error_line(format_args!($($arg)*))
    };
}
pub(crate) use errln;

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // A misspelt subcommand would otherwise be taken for the FILE of `apdu-run FILE`.
    if let Some(failure) = suggest::misspelt_subcommand(&args) {
        let json = error_out::asks_json(&args);
        error_out::print(&format!("{:#}", failure.error), failure.exit.code(), json);
        return failure.exit.code();
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with 0; usage errors to stderr with 2, as one
            // JSON object when the line asked for JSON.
            if e.use_stderr() && error_out::asks_json(&args) {
                error_out::print(&error_out::clap_message(&e), Exit::Invalid.code(), true);
                return Exit::Invalid.code();
            }
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Invalid.code()
            } else {
                Exit::Ok.code()
            };
        }
    };
    let json = cli.wants_json();
    // Held output is written even when a bug panics on the way out.
    let _flush = FlushOnExit;
    let result = dispatch_on_big_stack(cli);
    // What the run printed comes before its error, and nothing is left held at exit.
    stdout::flush();
    match result {
        Ok(exit) => exit.code(),
        Err(failure) => {
            // One line whatever the error holds: control characters from user data (a file
            // name, a thrown string) are escaped.
            let text = crate::script::one_line(&format!("{:#}", failure.error));
            error_out::print(&text, failure.exit.code(), json);
            failure.exit.code()
        }
    }
}

/// The stack the command runs on. A script's values may nest about a thousand levels
/// within one expression (`script::limits`), and printing or dropping them recurses: the
/// main thread's stack is whatever `ulimit -s` says, often 8 MiB, which is too tight for
/// that in a debug build. Only the pages used are ever committed.
const STACK: usize = 64 * 1024 * 1024;

/// Runs [`dispatch`] on a thread with a [`STACK`]-sized stack, or on this thread when the
/// system cannot start one. A panic on that thread goes on unwinding here.
fn dispatch_on_big_stack(cli: Cli) -> Result<Exit, Failure> {
    let slot = Arc::new(Mutex::new(Some(cli)));
    let take =
        |slot: &Mutex<Option<Cli>>| slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    let theirs = slot.clone();
    let spawned = std::thread::Builder::new()
        .name("apdu-run".into())
        .stack_size(STACK)
        .spawn(move || take(&theirs).map(dispatch));
    match spawned {
        Ok(handle) => match handle.join() {
            Ok(Some(result)) => result,
            Ok(None) => Ok(Exit::Ok),
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(_) => match take(&slot) {
            Some(cli) => dispatch(cli),
            None => Ok(Exit::Ok),
        },
    }
}

/// Writes out held stdout lines when `main` is left, by return or by a panic unwinding.
struct FlushOnExit;

impl Drop for FlushOnExit {
    fn drop(&mut self) {
        stdout::flush();
    }
}

/// A flag that Ctrl-C, SIGTERM and SIGHUP set, so that a run or a batch stops at its next
/// step (held output written, the card not left mid-command) and `sim serve` saves its card.
///
/// A process can install one handler, and each subcommand asks once. Failing to install it
/// only loses that graceful stop (`sim serve` still saves its card at every power-off).
fn interrupt_flag() -> Arc<AtomicBool> {
    let interrupt = stop_flag();
    let flag = interrupt.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed));
    interrupt
}

/// The one stop flag of the process: Ctrl-C sets it ([`interrupt_flag`]), and so does an
/// output that cannot be written ([`output_lost`]).
fn stop_flag() -> Arc<AtomicBool> {
    static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    STOP.get_or_init(|| Arc::new(AtomicBool::new(false)))
        .clone()
}

/// Called when stdout or stderr cannot be written (a closed pipe, a full disk): the run
/// stops at its next step as it does on Ctrl-C — the card left between commands, the
/// simulated card saved, a batch's card journalled — instead of going on blind or
/// panicking.
pub(crate) fn output_lost() {
    stop_flag().store(true, Ordering::Relaxed);
}

fn dispatch(cli: Cli) -> Result<Exit, Failure> {
    match cli.command {
        None => run::run(cli.run),
        Some(args::Command::Run(run_args)) => run::run(run_args),
        Some(args::Command::Check {
            file,
            data,
            vars,
            json,
        }) => run::check(&file, data.as_deref(), &vars, json),
        Some(args::Command::Batch(batch_args)) => batch::batch(batch_args),
        Some(args::Command::Readers { json }) => info::readers(json),
        Some(args::Command::Sw { hex, json, context }) => info::sw(&hex, json, context.as_deref()),
        Some(args::Command::AccessBits(args)) => access_bits::run(args),
        Some(args::Command::Key(args)) => key::run(args),
        Some(args::Command::Report(args)) => report::run(args),
        Some(args::Command::Replay(command)) => replay_import::run(command),
        Some(args::Command::Ledger(args)) => ledger::run(args),
        Some(args::Command::Sim(args::SimCommand::Serve(serve_args))) => {
            sim_serve::serve(serve_args)
        }
        Some(args::Command::Sim(args::SimCommand::Kinds { json })) => sim_kinds::kinds(json),
        Some(args::Command::Completions { shell }) => completions::completions(shell),
        Some(args::Command::Man { dir }) => man::man(dir.as_deref()),
    }
}
