//! Command-line arguments (clap derive). Doc comments here are the `--help` text.
//!
//! This file only declares; validation that needs more than clap (sim kinds, hex, `--var`
//! syntax) happens in the subcommand that uses the value, before any card is touched.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Runs smart-card personalisation and issuance flows against PC/SC readers or a simulator.
///
/// `apdu-run [OPTIONS] FILE.rhai` is short for `apdu-run run [OPTIONS] FILE.rhai`.
#[derive(Debug, Parser)]
#[command(
    name = "apdu-run",
    version = super::version::VERSION,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
#[command(arg_required_else_help = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Run a script (shorthand for `run`).
    #[command(flatten)]
    pub run: RunArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a Rhai script or a YAML profile against one card.
    Run(RunArgs),
    /// Compile and validate a script or YAML profile without touching any card.
    Check {
        /// The script (`.rhai`) or profile (`.yaml`, `.yml`) to check.
        file: PathBuf,
        /// The data file a profile will be run with (its columns are known names).
        #[arg(long, value_name = "FILE.csv")]
        data: Option<PathBuf>,
        /// Define a variable NAME (repeatable).
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        /// Print one JSON object (`file`, `kind`, `ok`, ...) instead of a line.
        #[arg(long)]
        json: bool,
    },
    /// Run a YAML profile on card after card: a production batch with a journal.
    Batch(super::batch::BatchArgs),
    /// List PC/SC readers with their card state.
    Readers {
        /// Print one JSON array of readers instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Decode or encode MIFARE Classic access bits, e.g. `apdu-run access-bits decode 08778F69`.
    AccessBits(super::access_bits::AccessBitsArgs),
    /// The issuance ledger on PostgreSQL: `ledger init`, `import --lot`, `status`, `export`.
    Ledger(super::ledger::LedgerArgs),
    /// Key ceremony: `key import` (components, KCVs, into a PKCS#11 token or a development
    /// file), `key kcv SPEC`, `key encrypt-column` (cells of an encrypted data column).
    Key(super::key::KeyArgs),
    /// Explain status words, e.g. `apdu-run sw 9000 6A82`.
    Sw {
        /// Status words of two bytes each (`6A82`, `0x6A82`, or `6A 82` as two words).
        #[arg(value_name = "HEX", num_args = 1.., required = true)]
        hex: Vec<String>,
        /// Print one JSON array (`sw`, `ok`, `meaning`, `context`, `contexts` per status
        /// word) instead of lines.
        #[arg(long)]
        json: bool,
        /// Explain the words as answers to this kind of command only: `iso7816` (ISO 7816-4),
        /// `pcsc` (PC/SC Part 3 reader commands, CLA FF), `omnikey` (the Omnikey generic
        /// session, FF A0), `gsm` (GSM 11.11, CLA A0). Without it every context that reads
        /// a word differently is listed under the ISO 7816-4 meaning.
        #[arg(long, value_name = "CONTEXT", value_parser = ["iso7816", "pcsc", "omnikey", "gsm"])]
        context: Option<String>,
    },
    /// Summarise batch journals, or make a lot's HTML page: `report J.jsonl --html lot.html`.
    Report(super::report::ReportArgs),
    /// Simulated cards outside a run.
    #[command(subcommand)]
    Sim(SimCommand),
    /// Recorded sessions: `replay import --from scriptor|pcscd|pcsc-spy LOG -o FILE.dump`.
    #[command(subcommand)]
    Replay(super::replay_import::ReplayCommand),
    /// Print a completion script for SHELL, e.g. `source <(apdu-run completions bash)`.
    Completions {
        /// The shell to complete for.
        #[arg(value_name = "SHELL")]
        shell: super::completions::Shell,
    },
    /// Write the manual pages generated from these definitions (`make man`).
    #[command(hide = true)]
    Man {
        /// Write `apdu-run.1` and one `apdu-run-SUBCOMMAND.1` per subcommand into DIR;
        /// without it, print `apdu-run.1` to stdout.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// The `sim` subcommands.
#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Put a simulated card into pcscd's virtual reader (vsmartcard vpcd) until stopped, or
    /// `--count` fresh cards one after another, each removed once used.
    Serve(SimServeArgs),
    /// List every simulated card kind and the reader it sits in, one line each.
    Kinds {
        /// Print one JSON array (`kind`, `card`, `reader`, `protocol`, `uid`, `atr`).
        #[arg(long)]
        json: bool,
    },
}

/// Options of `sim serve`.
#[derive(Debug, Args)]
pub struct SimServeArgs {
    /// The kind of card, as for `--sim` (iso7816, iso7816-t0, ...).
    #[arg(long, value_name = "KIND")]
    pub card: String,

    /// Load the card from this JSON image if it exists; save it whenever pcscd powers it off
    /// and when the server stops (one card only).
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,

    /// vpcd's address: port 35963 is `Virtual PCD 00 00`, 35964 is `Virtual PCD 00 01`.
    #[arg(long, value_name = "HOST:PORT", default_value = crate::sim::vpcd::DEFAULT_ADDRESS)]
    pub vpcd: String,

    /// Present N fresh cards one after another (distinct UIDs), each removed once used; exit
    /// after the last. Without it, one card stays in the reader until Ctrl-C or SIGTERM.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub count: Option<u32>,

    /// With --count: a card leaves after this many milliseconds without a command (counted
    /// from its insertion when nobody uses it), or once used when pcscd powers it off.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    pub dwell_ms: u64,

    /// Give the card this UID (hex), for kinds that have one (one card only).
    #[arg(long, value_name = "HEX")]
    pub sim_uid: Option<String>,

    /// Seed the simulated cards' random numbers (GET CHALLENGE) so runs repeat exactly;
    /// without it they come from the operating system and differ on every fresh card.
    #[arg(long, value_name = "N")]
    pub sim_seed: Option<u64>,

    /// The simulated reader the contactless card sits in: omnikey-5421 (default), acr122u or
    /// acr1252u. Through vpcd pcscd names it `Virtual PCD`, so clients detect the family by
    /// probing (the ACS firmware command, the PC/SC Part 3 version object).
    #[arg(long, value_name = "MODEL", value_parser = parse_model, default_value = "omnikey-5421")]
    pub sim_reader: crate::sim::ReaderModel,

    /// Do not re-arm TCP_QUICKACK before each read (only to measure what it saves).
    #[arg(long, hide = true)]
    pub no_quickack: bool,

    /// Write each command's arrival time to PATH when the server stops (benches/stack.sh).
    #[arg(long, hide = true, value_name = "PATH")]
    pub timing: Option<PathBuf>,

    /// Serve the card behind a simulated serial reader on a pseudo-terminal instead of vpcd:
    /// `tlp224` (GCR400) or `phoenix` (raw "dumb mouse"). Prints the device to open.
    #[arg(long, value_name = "READER", conflicts_with_all = ["count", "timing"])]
    pub serial: Option<String>,

    /// With --serial phoenix: the reader echoes every byte the host sends.
    #[arg(long, requires = "serial")]
    pub echo: bool,

    /// With --serial phoenix: the card uses the inverse convention (TS 3F).
    #[arg(long, requires = "serial")]
    pub inverse: bool,
}

/// A `--sim-reader` name.
fn parse_model(text: &str) -> Result<crate::sim::ReaderModel, String> {
    text.parse()
}

/// Options of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The Rhai script (or YAML profile: `.yaml`, `.yml`) to run.
    #[arg(value_name = "FILE", required = true)]
    pub file: Option<PathBuf>,

    /// Where the card is.
    #[command(flatten)]
    pub card: CardArgs,

    /// Define a string constant NAME in the script (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,

    /// YAML profiles: CSV data to take one row from (`--row N`), as a batch would.
    #[arg(long, value_name = "FILE.csv")]
    pub data: Option<PathBuf>,

    /// The data row of --data to run on the card (1-based, as a batch journal counts rows).
    #[arg(long, value_name = "N", requires = "data")]
    pub row: Option<u64>,

    /// Allow irreversible operations (locks, OTP bits, commits, frozen access bits).
    #[arg(long)]
    pub arm_irreversible: bool,

    /// Do not follow 61xx with GET RESPONSE nor 6Cxx with a resend.
    #[arg(long)]
    pub no_auto_response: bool,

    /// Scriptor files (`.apdu`): follow 61xx with GET RESPONSE and 6Cxx with a resend. Without
    /// it they send exactly their lines, as scriptor does.
    #[arg(long, conflicts_with = "no_auto_response")]
    pub auto_response: bool,

    /// Print every exchange to stderr (`>>` command, `<<` response).
    #[arg(long)]
    pub trace: bool,

    /// Write every exchange as JSON Lines to PATH.
    #[arg(long, value_name = "PATH")]
    pub trace_file: Option<PathBuf>,

    /// Record every exchange in the apdu4j dump format to FILE (masked like a trace unless
    /// --show-secrets, which makes the file owner-only); play it back with
    /// `--sim replay:FILE`.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,

    /// Do not mask PINs and keys in traces (for the bench only).
    #[arg(long)]
    pub show_secrets: bool,

    /// Write each output line at once, even into a pipe or a file (on a terminal it always
    /// is; otherwise lines are written in blocks).
    #[arg(long)]
    pub line_buffered: bool,
}

/// Choice of reader: a PC/SC reader or the simulator.
#[derive(Debug, Args)]
pub struct CardArgs {
    /// Use a simulated reader and card of this kind (iso7816, iso7816-t0, classic-1k,
    /// classic-4k, ultralight, plus-2k, plus-4k, cos, cos-t1), or play a recorded dump back
    /// as the card: `replay:FILE.dump` (strict order) or `replay-skip:FILE.dump`.
    #[arg(long, value_name = "KIND", conflicts_with = "reader")]
    pub sim: Option<String>,

    /// Load the simulated card from this JSON image if it exists, and save it after the run.
    #[arg(long, value_name = "PATH", requires = "sim")]
    pub sim_state: Option<PathBuf>,

    /// Give the simulated card this UID (hex), for kinds that have one.
    #[arg(long, value_name = "HEX", requires = "sim")]
    pub sim_uid: Option<String>,

    /// Seed the simulated cards' random numbers (GET CHALLENGE) so runs repeat exactly;
    /// without it they come from the operating system and differ on every fresh card.
    #[arg(long, value_name = "N", requires = "sim")]
    pub sim_seed: Option<u64>,

    /// The simulated reader a contactless card sits in: omnikey-5421 (default), acr122u or
    /// acr1252u, each speaking its own dialect.
    #[arg(long, value_name = "MODEL", requires = "sim")]
    pub sim_reader: Option<String>,

    /// The reader family's dialect for `picc::`, `mfc::` values and `mfp::`: omnikey,
    /// acs-pn532, pcsc-part3 or direct (default: picked from the reader name, else probed).
    #[arg(long, value_name = "KIND")]
    pub reader_kind: Option<String>,

    /// PC/SC reader: a name substring or an index from `apdu-run readers`; or a serial
    /// reader: `tlp224:PATH` (Gemplus GCR400) or `phoenix:PATH[,echo=auto|on|off]` (raw).
    #[arg(long, value_name = "PATTERN")]
    pub reader: Option<String>,

    /// Serial line settings for a serial --reader: `9600,8E2` (baud, data bits, parity N/E/O,
    /// stop bits) or a known card or reader (gcr400, cryptoflex, dx, gpk, foxtel, rg200, iso).
    #[arg(long, value_name = "SETTINGS")]
    pub serial: Option<String>,

    /// PC/SC protocol to connect with: any, t0 or t1.
    #[arg(long, value_name = "PROTOCOL", default_value = "any")]
    pub protocol: String,

    /// Wait up to SECONDS for a card to be inserted (PC/SC only; default: the card must be there).
    #[arg(long, value_name = "SECONDS")]
    pub wait: Option<u64>,
}

impl Cli {
    /// Whether the subcommand was asked for JSON (`--json`), so that an error is printed as
    /// one JSON object too.
    pub fn wants_json(&self) -> bool {
        use super::access_bits::Action;
        match &self.command {
            Some(Command::Check { json, .. })
            | Some(Command::Readers { json })
            | Some(Command::Sw { json, .. })
            | Some(Command::Sim(SimCommand::Kinds { json })) => *json,
            Some(Command::AccessBits(args)) => match &args.action {
                Action::Decode { json, .. } | Action::Encode { json, .. } => *json,
            },
            _ => false,
        }
    }
}
