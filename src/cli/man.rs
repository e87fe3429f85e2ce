//! `apdu-run man [--dir DIR]` (hidden; `make man` runs it): manual pages rendered by
//! clap_mangen from the clap definitions, so the manual says what `--help` says.
//!
//! The top page `apdu-run.1` also gets EXIT STATUS and ENVIRONMENT sections, which clap has
//! no place for. Without `--dir` the top page goes to stdout (`apdu-run man | man -l -`).

use std::path::Path;

use anyhow::anyhow;
use clap::CommandFactory;

use super::completions::write_stdout;
use super::exit::invalid;
use super::{Cli, Exit, Failure};

/// The sections added to the top page, in roff.
const EXTRA: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
all good
.TP
\fB1\fR
a card or a step failed
.TP
\fB2\fR
invalid input (arguments, script, profile); no card touched
.TP
\fB3\fR
reader or transport failure (pcscd down, no reader, no card, card removed)
.TP
\fB4\fR
an irreversible operation was refused: the run was not armed
.TP
\fB130\fR
interrupted by Ctrl\-C, SIGTERM or SIGHUP
.SH ENVIRONMENT
.TP
\fBNO_COLOR\fR
when set to anything but the empty string, no colour even on a terminal (pipes and files never get colour)
.SH "SEE ALSO"
\fBpcscd\fR(8), \fBscriptor\fR(1), \fBpcsc_scan\fR(1)
"#;

/// The top page: what clap_mangen renders, plus [`EXTRA`].
fn top_page() -> Result<Vec<u8>, std::io::Error> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command().disable_help_subcommand(true)).render(&mut page)?;
    page.extend_from_slice(EXTRA.as_bytes());
    Ok(page)
}

/// `apdu-run man`.
pub fn man(dir: Option<&Path>) -> Result<Exit, Failure> {
    let cannot =
        |e: std::io::Error| Failure::new(Exit::Failed, anyhow!("cannot render the manual: {e}"));
    let Some(dir) = dir else {
        return write_stdout(&top_page().map_err(cannot)?);
    };
    if !dir.is_dir() {
        return Err(invalid(anyhow!(
            "--dir `{}`: not a directory",
            dir.display()
        )));
    }
    let written = |e: std::io::Error| {
        Failure::new(
            Exit::Failed,
            anyhow!("cannot write the manual into `{}`: {e}", dir.display()),
        )
    };
    // One page per visible subcommand (`apdu-run-batch.1`, …), then the fuller top page.
    clap_mangen::generate_to(Cli::command(), dir).map_err(written)?;
    std::fs::write(dir.join("apdu-run.1"), top_page().map_err(cannot)?).map_err(written)?;
    Ok(Exit::Ok)
}
