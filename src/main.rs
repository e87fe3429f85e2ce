//! The `apdu-run` binary: everything happens in [`apdu_run::cli`].

fn main() {
    std::process::exit(apdu_run::cli::main());
}
