//! `apdu-run batch PROFILE.yaml`: the production batch from the command line.
//!
//! Everything the user gave is validated before any reader is opened: the arguments, the
//! data file, the profile (with the data's columns as known names), the data values a step
//! sends as hex, the secrets, and the journal (another profile's journal is refused). Then
//! one worker per reader runs in `crate::batch`, and this file prints the summary and
//! picks the exit code: 0 when every card was issued, 1 otherwise, 130 on Ctrl-C.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::Args;

use super::exit::invalid;
use super::run::{parse_vars, rules};
use super::{Exit, Failure, outln};
use crate::batch::postgres::store::host_name;
use crate::batch::postgres::{PgStore, ProfileVersion, Target, lots, names, schema};
use crate::batch::{self, Config, DataSet, Error, JournalError, Opener, Stop, Summary};
use crate::profile;
use crate::reader::Reader;
use crate::reader::pcsc::{PcscReader, Protocol};
use crate::reader::serial::Spec;
use crate::sim::{self, SimReader};

/// Most simulated readers one batch runs (each is a thread).
const MAX_SIM_READERS: usize = 64;

/// Options of `batch`.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// The YAML profile every card goes through.
    #[arg(value_name = "PROFILE.yaml")]
    pub profile: PathBuf,

    /// CSV data, one row per card; the header names the columns (`${column}`).
    #[arg(long, value_name = "FILE.csv", conflicts_with = "lot")]
    pub data: Option<PathBuf>,

    /// Draw rows from this lot of the PostgreSQL ledger (`ledger import`) instead of a
    /// data file and journal.
    #[arg(long, value_name = "NAME", conflicts_with = "journal")]
    pub lot: Option<String>,

    /// The PostgreSQL ledger for --lot, `postgresql://USER@HOST:PORT/DB` (default:
    /// $APDU_RUN_LEDGER); no password here: use $APDU_RUN_LEDGER, PGPASSWORD or a password
    /// file.
    #[arg(long, value_name = "URL", requires = "lot")]
    pub ledger: Option<String>,

    /// This station's name in the ledger (default: the host name).
    #[arg(long, value_name = "NAME", requires = "lot")]
    pub station: Option<String>,

    /// Continue the journal or ledger with a profile that differs from the one it ran
    /// last; cards issued under earlier versions stay issued and are never run again.
    #[arg(long)]
    pub profile_changed: bool,

    /// Continue the journal with another data file as a new lot: rows and cards of earlier
    /// lots stay used.
    #[arg(long, conflicts_with = "lot")]
    pub new_lot: bool,

    /// End once the journal holds N finished cards (this run and earlier ones); with
    /// --sim, the simulated stream has N cards (default: one per data row).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,

    /// The journal (default: PROFILE-STEM.journal.jsonl in the working directory).
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,

    /// Write one JSON line per card presented to PATH (appended to).
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,

    /// Audit trail: write each card's masked trace (every command and response, as with
    /// `run --trace-file`) to DIR/SEQ-IDENTITY.jsonl, named in its journal `end` record and
    /// report line (`trace`). DIR is created if missing.
    #[arg(long = "trace-file", value_name = "DIR")]
    pub trace_dir: Option<PathBuf>,

    /// Record each card's exchanges, masked, in the apdu4j dump format to
    /// DIR/SEQ-IDENTITY.dump (replay one with `--sim replay:FILE`). DIR is created if
    /// missing.
    #[arg(long = "record", value_name = "DIR")]
    pub record_dir: Option<PathBuf>,

    /// PC/SC reader, by name substring or index, or a serial reader `tlp224:PATH` /
    /// `phoenix:PATH` (repeatable: one worker per reader).
    #[arg(long = "reader", value_name = "PATTERN")]
    pub readers: Vec<String>,

    /// Serial line settings for the serial readers (`9600,8E2`, or a known card or reader).
    #[arg(long, value_name = "SETTINGS")]
    pub serial: Option<String>,

    /// Present a stream of fresh simulated cards of this kind (iso7816, iso7816-t0).
    #[arg(long, value_name = "KIND", conflicts_with = "readers")]
    pub sim: Option<String>,

    /// Run this many simulated readers in parallel (at most 64), sharing one stream of cards.
    #[arg(long, value_name = "N", default_value_t = 1, requires = "sim")]
    pub sim_readers: usize,

    /// The simulated stream starts at card N (1-based; default 1), so that simulated
    /// stations of one line can present cards of their own.
    #[arg(long, value_name = "N", requires = "sim")]
    pub sim_first: Option<u64>,

    /// Seed the simulated cards' random numbers (GET CHALLENGE) so runs repeat exactly;
    /// without it they come from the operating system and differ on every fresh card.
    #[arg(long, value_name = "N", requires = "sim")]
    pub sim_seed: Option<u64>,

    /// The simulated reader the contactless cards sit in: omnikey-5421 (default), acr122u or
    /// acr1252u.
    #[arg(long, value_name = "MODEL", requires = "sim")]
    pub sim_reader: Option<String>,

    /// PC/SC protocol to connect with: any, t0 or t1.
    #[arg(long, value_name = "PROTOCOL", default_value = "any")]
    pub protocol: String,

    /// Stop after N consecutive failed cards (0: never).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub max_failures: u32,

    /// Allow the irreversible operations the profile lists in `irreversible:`.
    #[arg(long)]
    pub arm_irreversible: bool,

    /// Do not follow 61xx with GET RESPONSE nor 6Cxx with a resend.
    #[arg(long)]
    pub no_auto_response: bool,

    /// Show each card's verdict on the reader: green, or red and a beep, on ACS readers
    /// (ACR122U, ACR1252U); Omnikey readers offer the host nothing to drive, so nothing.
    #[arg(long)]
    pub reader_feedback: bool,

    /// The reader family's dialect for `picc::`, `mfc::` values, `mfp::` and the verdict
    /// feedback: omnikey, acs-pn532, pcsc-part3 or direct (default: picked from each
    /// reader's name, else probed).
    #[arg(long, value_name = "KIND")]
    pub reader_kind: Option<String>,

    /// Define a variable NAME (repeatable); overrides the profile's `vars`.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
}

/// The default journal: the profile's file stem + `.journal.jsonl`, in the working directory.
fn default_journal(profile: &Path) -> PathBuf {
    let stem = profile
        .file_stem()
        .map_or_else(|| "batch".into(), |s| s.to_string_lossy().into_owned());
    PathBuf::from(format!("{stem}.journal.jsonl"))
}

fn openers(args: &BatchArgs, count: Option<u64>) -> Result<Vec<Opener>, Failure> {
    if let Some(kind) = &args.sim {
        let kind: sim::Kind = kind.parse().map_err(invalid)?;
        if args.sim_readers == 0 {
            return Err(invalid(anyhow!("--sim-readers must be at least 1")));
        }
        if args.sim_readers > MAX_SIM_READERS {
            return Err(invalid(anyhow!(
                "--sim-readers {}: at most {MAX_SIM_READERS} simulated readers (one thread each)",
                args.sim_readers
            )));
        }
        let n = args.sim_readers;
        let seed = args.sim_seed;
        let model = super::run::sim_reader(args.sim_reader.as_deref())?;
        let first = match args.sim_first {
            Some(0) => return Err(invalid(anyhow!("--sim-first counts from 1"))),
            Some(first) => first - 1,
            None => 0,
        };
        return Ok((0..n)
            .map(|i| -> Opener {
                Box::new(move || {
                    let reader = SimReader::new(kind, i, n, count)
                        .starting_at(first)
                        .with_seed(seed)
                        .with_model(model);
                    Ok(Box::new(reader) as Box<dyn Reader>)
                })
            })
            .collect());
    }
    let protocol: Protocol = args.protocol.parse().map_err(invalid)?;
    if let Some((i, pattern)) = args
        .readers
        .iter()
        .enumerate()
        .find(|(i, p)| args.readers[..*i].contains(p))
    {
        return Err(invalid(anyhow!(
            "--reader `{pattern}` is given twice (option {}): one worker per reader",
            i + 1
        )));
    }
    let patterns = if args.readers.is_empty() {
        vec![String::new()]
    } else {
        args.readers.clone()
    };
    if let Some(text) = &args.serial {
        if !patterns.iter().any(|p| Spec::parse(p).is_some()) {
            return Err(invalid(anyhow!(
                "--serial `{text}` needs a serial reader: --reader tlp224:PATH or phoenix:PATH"
            )));
        }
    }
    let mut openers = Vec::with_capacity(patterns.len());
    for pattern in patterns {
        let settings = args
            .serial
            .as_deref()
            .filter(|_| Spec::parse(&pattern).is_some());
        let opener: Opener = match super::serial::choose(Some(&pattern), settings)? {
            Some(chosen) => Box::new(move || Ok(super::serial::open(&chosen)?.boxed())),
            None => Box::new(move || {
                Ok(Box::new(PcscReader::open(&pattern, protocol)?) as Box<dyn Reader>)
            }),
        };
        openers.push(opener);
    }
    Ok(openers)
}

/// The ledger and the rows of `lot` in it, as a data set for the checks before the first
/// card (the values stay in memory, for those checks and the runs only).
fn open_lot(argument: Option<&str>, lot: &str) -> Result<(Target, DataSet), Failure> {
    let target = super::ledger::target(argument)?;
    let mut client = target.connect().map_err(super::ledger::failure)?;
    schema::check(&target, &mut client).map_err(super::ledger::failure)?;
    let found = lots::find(&target, &mut client, lot).map_err(super::ledger::failure)?;
    let rows =
        lots::rows_for_checks(&target, &mut client, &found).map_err(super::ledger::failure)?;
    let data = DataSet::from_rows(
        PathBuf::from(format!("lot `{lot}`")),
        found.columns,
        rows,
        found.data_hash,
    );
    Ok((target, data))
}

/// `apdu-run batch PROFILE.yaml …`.
pub fn batch(args: BatchArgs) -> Result<Exit, Failure> {
    let vars = parse_vars(&args.vars)?;
    // Names other stations will print are checked where they are born, before anything
    // is stored: the lot's, and this station's (given, or the host name).
    let station = match (&args.lot, &args.station) {
        (None, _) => None,
        (Some(lot), given) => {
            names::lot(lot).map_err(|e| invalid(anyhow!("--lot: {e}")))?;
            Some(match given {
                Some(name) => names::station(name).map_err(|e| invalid(anyhow!("--station: {e}")))?,
                None => names::station(&host_name()).map_err(|e| {
                    invalid(anyhow!(
                        "the host name is not a station name ({e}); name the station with --station NAME"
                    ))
                })?,
            })
        }
    };
    if args.sim.is_some() && args.count.is_none() && args.data.is_none() && args.lot.is_none() {
        return Err(invalid(anyhow!(
            "--sim needs --count or --data: a simulated stream of cards must end"
        )));
    }
    // With --lot the rows come from the ledger; they are checked like a data file's.
    let (ledger, data) = match &args.lot {
        Some(lot) => {
            let (target, data) = open_lot(args.ledger.as_deref(), lot)?;
            (Some(target), Some(data))
        }
        None => (
            None,
            args.data
                .as_deref()
                .map(DataSet::load)
                .transpose()
                .map_err(invalid)?,
        ),
    };
    // A simulated stream without --count has one card per data row, so it ends even when
    // every card is rejected.
    let stream = args.count.or(data.as_ref().map(DataSet::len));
    let openers = openers(&args, stream)?;
    let columns = data.as_ref().map(|d| d.columns.clone()).unwrap_or_default();
    let profile = profile::load(&args.profile, &vars, &columns).map_err(invalid)?;
    if let Some(data) = &data {
        super::profile_run::check_data(&profile, data)?;
    }
    if let Some(kind) = &args.sim {
        let kind: sim::Kind = kind.parse().map_err(invalid)?;
        super::profile_run::check_sim_kind(&profile, &args.profile, kind)?;
    }
    // A profile that declares irreversible steps would fail every card of an unarmed batch
    // and use up a data row each time; refuse before the first card instead.
    if !profile.irreversible.is_empty() && !args.arm_irreversible {
        let kinds: Vec<&str> = profile
            .irreversible
            .iter()
            .map(|&k| crate::profile::Vocabulary::name(k))
            .collect();
        return Err(Failure::new(
            Exit::Refused,
            anyhow!(
                "{}: the profile does irreversible operations ({}); a batch runs them only with --arm-irreversible",
                args.profile.display(),
                kinds.join(", ")
            ),
        ));
    }
    // Master keys are opened once here so that a missing key or token stops the batch
    // before its first card (each worker opens its own afterwards).
    // Every encrypted cell is decrypted now: a bad cell stops the batch before any card.
    let keys = profile::Derivations::load(&profile).map_err(invalid)?;
    if let Some(data) = &data {
        keys.check_rows(&mut batch::data_rows(Some(data)))
            .map_err(|e| invalid(anyhow!("{}: {e}", data.path.display())))?;
    }
    drop(keys);
    let journal = args
        .journal
        .clone()
        .unwrap_or_else(|| default_journal(&args.profile));
    // With --lot the ledger is the database: no journal file is touched (stations of one
    // line may share a working directory).
    if args.lot.is_none() {
        super::paths::output("--journal", &journal)?;
    }
    super::paths::output_opt("--report", args.report.as_deref())?;
    if let Some(dir) = &args.trace_dir {
        super::paths::output_dir("--trace-file", dir)?;
    }
    if let Some(dir) = &args.record_dir {
        super::paths::output_dir("--record", dir)?;
    }
    let config = Config {
        journal,
        allow: batch::journal::Continue {
            profile_changed: args.profile_changed,
            new_lot: args.new_lot,
        },
        profile: args.profile.clone(),
        vars,
        data,
        count: args.count,
        report: args.report.clone(),
        trace_dir: args.trace_dir.clone(),
        record_dir: args.record_dir.clone(),
        max_failures: args.max_failures,
        armed: args.arm_irreversible,
        rules: rules(args.no_auto_response),
        feedback: args.reader_feedback,
        reader_kind: args
            .reader_kind
            .as_deref()
            .map(|text| {
                text.parse()
                    .map_err(|e: String| invalid(anyhow!("--reader-kind: {e}")))
            })
            .transpose()?,
    };
    let interrupt = super::interrupt_flag();

    let summary = match ledger {
        Some(target) => {
            let lot = args.lot.clone().unwrap_or_default();
            let station = station.clone().unwrap_or_default();
            let version = ProfileVersion {
                hash: profile.hash(),
                name: profile.name.clone(),
                file: args.profile.display().to_string(),
                changed: args.profile_changed,
            };
            let store =
                PgStore::open(target, &lot, &station, &version).map_err(super::ledger::failure)?;
            batch::run_with(&config, &profile, Box::new(store), openers, interrupt)
        }
        None => batch::run(&config, &profile, openers, interrupt),
    }
    .map_err(setup_failure)?;
    print_summary(&summary, args.lot.is_some());
    if let Some(fatal) = summary.fatal {
        let exit = match fatal {
            // A journal that cannot be written (a full disk) stops the batch like a failed
            // reader: the journal is intact, and a restart with space goes on from it.
            Error::Reader(_)
            | Error::Journal(
                JournalError::Append { .. }
                | JournalError::Sync { .. }
                | JournalError::Broken { .. },
            ) => Exit::Transport,
            Error::Profile(_) | Error::ProfileChanged { .. } => Exit::Invalid,
            Error::Ledger(e) => return Err(super::ledger::failure(e)),
            _ => Exit::Failed,
        };
        return Err(Failure::new(exit, fatal));
    }
    if let Stop::CardLost(reason) = &summary.stop {
        return Err(Failure::new(
            Exit::Transport,
            anyhow!(
                "a card was lost mid-run ({reason}); it is journalled `interrupted` and finished with its row when presented again"
            ),
        ));
    }
    Ok(match summary.stop {
        Stop::Interrupted => Exit::Interrupted,
        Stop::Refused => Exit::Refused,
        _ if summary.all_ok() => Exit::Ok,
        _ => Exit::Failed,
    })
}

fn setup_failure(error: Error) -> Failure {
    let error = match error {
        Error::Ledger(e) => return super::ledger::failure(e),
        other => other,
    };
    let exit = match &error {
        Error::Journal(JournalError::Io { .. }) => Exit::Failed,
        Error::Reader(_)
        | Error::Journal(
            JournalError::Append { .. } | JournalError::Sync { .. } | JournalError::Broken { .. },
        ) => Exit::Transport,
        _ => Exit::Invalid,
    };
    Failure::new(exit, error)
}

/// The batch's last lines; `shared` when it drew from a lot that several stations share.
fn print_summary(summary: &Summary, shared: bool) {
    let why = match summary.stop {
        Stop::Count if shared => {
            "the lot holds --count finished cards (all stations together)".to_string()
        }
        Stop::Count => "the journal holds --count finished cards".to_string(),
        Stop::DataEnd => "every data row is used".to_string(),
        Stop::StreamEnd => "every simulated card was presented".to_string(),
        Stop::MaxFailures(n) => format!("{n} cards failed in a row (--max-failures)"),
        Stop::Abort => "a card failed and the profile says `on-error: abort`".to_string(),
        Stop::Refused => {
            "an irreversible operation was refused; the card keeps its row for the next run"
                .to_string()
        }
        Stop::Interrupted => "interrupted".to_string(),
        Stop::CardLost(_) => "a card was lost mid-run".to_string(),
        Stop::Fatal => "a reader or the journal failed".to_string(),
    };
    let t = summary.tally;
    let secs = summary.elapsed.as_secs_f64();
    let done = t.ok + t.failed;
    let rate = if secs > 0.0 {
        done as f64 / secs * 60.0
    } else {
        0.0
    };
    outln!(
        "batch ended: {why}\n{} ok, {} failed, {} interrupted, {} skipped in {secs:.2} s ({rate:.0} cards/min); {} holds {} finished cards",
        t.ok,
        t.failed,
        t.interrupted,
        t.skipped,
        summary.ledger,
        summary.finished
    );
}
