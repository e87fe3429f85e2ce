//! The edge: parse arguments, dispatch to a subcommand, print, and pick the exit code.
//!
//! This and `batch/progress` are the only places that print. Every subcommand validates
//! its input completely before it touches a reader, so invalid input exits 2 with no APDU
//! sent. Errors are printed once, as `error: …`, on one line.

mod access_bits;
mod args;
mod batch;
mod exit;
mod info;
mod profile_run;
mod run;
mod serial;
mod sim_serve;
mod sim_timing;
mod stdout;
mod trace_out;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with 0; usage errors to stderr with 2.
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Invalid.code()
            } else {
                Exit::Ok.code()
            };
        }
    };
    // Held output is written even when a bug panics on the way out.
    let _flush = FlushOnExit;
    let result = dispatch(cli);
    // What the run printed comes before its error, and nothing is left held at exit.
    stdout::flush();
    match result {
        Ok(exit) => exit.code(),
        Err(failure) => {
            eprintln!("error: {:#}", failure.error);
            failure.exit.code()
        }
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
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed));
    interrupt
}

fn dispatch(cli: Cli) -> Result<Exit, Failure> {
    match cli.command {
        None => run::run(cli.run),
        Some(args::Command::Run(run_args)) => run::run(run_args),
        Some(args::Command::Check { file, data, vars }) => {
            run::check(&file, data.as_deref(), &vars)
        }
        Some(args::Command::Batch(batch_args)) => batch::batch(batch_args),
        Some(args::Command::Readers { json }) => info::readers(json),
        Some(args::Command::Sw { hex }) => info::sw(&hex.join(" ")),
        Some(args::Command::AccessBits(args)) => access_bits::run(args),
        Some(args::Command::Sim(args::SimCommand::Serve(serve_args))) => {
            sim_serve::serve(serve_args)
        }
    }
}
