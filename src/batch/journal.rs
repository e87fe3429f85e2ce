//! The journal file: append-only JSON Lines; every record durable before its card goes on.
//!
//! [`Journal::open`] creates the journal (its header first, then the directory entry made
//! durable too) or replays an existing one into a [`Ledger`], which checks every record
//! against the ones before it and against the data's rows. A journal whose header names
//! another profile hash or other data is refused, never reused. A last line that is a
//! complete record lacking only its newline (the process died between the two) is kept and
//! the newline added; a last line cut short (the process died mid-write) is cut off; the
//! caller is told either way. Anything else that does not parse, or contradicts the
//! records before it or the data, is an error with its line, because guessing could issue
//! a card twice.
//!
//! One journal keeps one issuance history across profile versions and data lots: with
//! [`Continue::profile_changed`] a journal whose profile hash differs goes on, after a
//! `profile` record, and with [`Continue::new_lot`] one whose data differs goes on with the
//! new data as a lot of its own, after a `lot` record (a data file seen before goes back to
//! its lot). Without them such a journal is refused, saying which flag continues it.
//!
//! The journal is locked (advisory, released when the process ends) while a batch has it
//! open, so a second batch on the same journal is refused instead of racing the first.
//! Within the batch, the one [`Journal`] sits behind the workers' lock, so records never
//! interleave and the file order is the order of the ledger's decisions. Every record is
//! one `write` of one whole line ([`Journal::write`], under that lock), and is durable once
//! the [`Pending`] it returns has been waited on (after the lock is released): records of
//! several readers written meanwhile share one `fdatasync` (group commit, `group.rs`); one
//! reader still pays one sync per record. [`Journal::append`] does both. Once the wait
//! returns, the record survives a crash or a power cut. A write that fails or is short (a
//! full disk) is undone: the file is cut back to its last complete record, so a later
//! record can never land on the same line as a half-written one, and the caller must stop.
//! A sync that fails loses every record written since the last durable one: each of their
//! waiters gets the error, the file is cut back to the last durable record and nothing is
//! written to it again. This file knows nothing of cards or readers beyond the records.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fs4::{FileExt, TryLockError};

use serde::Deserialize;

use super::ledger::{BeginFacts, EndFacts, Inconsistent, Ledger};
use super::record::{Header, Lot, ProfileVersion, Record, Verdict};

pub(crate) mod group;

use group::{Group, WriteError};

/// Why a journal cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Reading or writing the file failed.
    #[error("journal `{}`: {source}", path.display())]
    Io {
        /// The journal.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The journal was written for another profile (or another version of it).
    #[error(
        "journal `{}` belongs to another profile: it was written for `{file}` with hash {journal}, this profile's hash is {profile}; if it is a new version of that profile, go on with --profile-changed (cards issued before are never issued again), else run the profile the journal was written for",
        path.display()
    )]
    OtherProfile {
        /// The journal.
        path: PathBuf,
        /// The profile file named in the journal.
        file: String,
        /// The hash in the journal.
        journal: String,
        /// The hash of the profile given.
        profile: String,
    },
    /// The journal was written with other data (or none).
    #[error(
        "journal `{}` was written with other data ({journal}), this run has {given}; rows would not mean the same; go on with --new-lot to use this data as a new lot of the same journal",
        path.display()
    )]
    OtherData {
        /// The journal.
        path: PathBuf,
        /// What the journal names.
        journal: String,
        /// What this run gives.
        given: String,
    },
    /// Another process has the journal open.
    #[error(
        "journal `{}` is in use by another batch; two batches on one journal could issue a card twice",
        path.display()
    )]
    Busy {
        /// The journal.
        path: PathBuf,
    },
    /// A record could not be written (a full disk); the journal was cut back to its last
    /// complete record when `restored`.
    #[error(
        "journal `{}`: cannot write the {record}: {reason}; {}; {meaning}",
        path.display(),
        if *restored {
            "the journal was cut back to its last complete record and is intact"
        } else {
            "the half-written record could not be removed either: it is cut off when the batch is restarted"
        }
    )]
    Append {
        /// The journal.
        path: PathBuf,
        /// Which record.
        record: String,
        /// What its loss means for the card.
        meaning: String,
        /// Why the write failed (not `source`: the message already says it, once).
        reason: std::io::Error,
        /// Whether the file is back at its last complete record.
        restored: bool,
    },
    /// A record was written but could not be made durable: the sync failed. Every record
    /// written since the last durable one is lost with it, and nothing more is written to
    /// the journal (after a failed sync, a later one that succeeds proves nothing).
    #[error(
        "journal `{}`: the {record} could not be made durable ({reason}); {lost} record(s) written since the last durable one are lost, this one among them, and nothing more is written to the journal; {}; {meaning}",
        path.display(),
        if *restored {
            "it was cut back to its last durable record"
        } else {
            "it could not be cut back to its last durable record either, so some of those records may still be there when the batch is restarted (a card begun there is resumed with its row)"
        }
    )]
    Sync {
        /// The journal.
        path: PathBuf,
        /// Which record.
        record: String,
        /// What its loss means for the card.
        meaning: String,
        /// Why the sync failed.
        reason: std::io::Error,
        /// Records lost with it (itself included).
        lost: u64,
        /// Whether the file is back at its last durable record.
        restored: bool,
    },
    /// An earlier record could not be written or made durable, and the journal could not
    /// be brought back to a state to go on from; nothing more is written to it.
    #[error(
        "journal `{}`: not written to since an earlier record could not be written or made durable (said before); the batch stops, and a restart goes on from the journal's last complete record",
        path.display()
    )]
    Broken {
        /// The journal.
        path: PathBuf,
    },
    /// A line is not a record, or contradicts the lines before it or the data.
    #[error("journal `{}` line {line}: {message}", path.display())]
    Corrupt {
        /// The journal.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// A last line that was repaired when the journal was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// The 1-based line that was incomplete.
    pub line: usize,
    /// How many bytes were removed (0 when only the newline was added).
    pub bytes: usize,
    /// Whether the line was a complete record lacking its newline (kept, newline added),
    /// rather than a record cut off mid-write (removed).
    pub kept: bool,
}

/// An open journal, positioned at its end.
#[derive(Debug)]
pub struct Journal {
    /// The file, with how much of it is written and how much durable.
    group: Arc<Group>,
    path: Arc<Path>,
}

/// A record written to the journal, durable once [`Pending::wait`] has returned `Ok`.
#[derive(Debug)]
#[must_use = "a written record is not durable until its wait returns"]
pub struct Pending {
    group: Arc<Group>,
    /// Where the record ends in the file.
    end: u64,
    path: Arc<Path>,
    what: What,
}

/// Which record a [`Pending`] is, for the message if it is lost.
#[derive(Debug)]
enum What {
    Header,
    Profile,
    Lot,
    Begin(String),
    End(String, Verdict),
}

impl What {
    fn of(record: &Record) -> What {
        match record {
            Record::Header(_) => What::Header,
            Record::Profile(_) => What::Profile,
            Record::Lot(_) => What::Lot,
            Record::Begin(begin) => What::Begin(begin.identity.clone()),
            Record::End(end) => What::End(end.identity.clone(), end.verdict),
        }
    }
}

impl Pending {
    /// Returns once the record is durable (syncing the file for it and for every record
    /// written before, unless a sync under way or to come covers it); or the error that
    /// lost it, with every record written since the last durable one.
    pub fn wait(self) -> Result<(), JournalError> {
        self.group.wait(self.end).map_err(|failure| {
            let (record, meaning) = lost(&self.what);
            JournalError::Sync {
                path: self.path.to_path_buf(),
                record,
                meaning,
                reason: failure.reason(),
                lost: failure.lost,
                restored: failure.restored,
            }
        })
    }
}

/// What a journal may go on with when it differs from this run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Continue {
    /// `--profile-changed`: another profile version.
    pub profile_changed: bool,
    /// `--new-lot`: another data file, as a new lot.
    pub new_lot: bool,
}

/// What opening a journal found.
#[derive(Debug)]
pub struct Opened {
    /// The journal, ready to append to.
    pub journal: Journal,
    /// The state its records describe.
    pub ledger: Ledger,
    /// Whether the file was created (or was empty) now.
    pub created: bool,
    /// The cut-off last line, if one was removed.
    pub repaired: Option<Repair>,
    /// What the journal went on with now (a profile version, a lot), in words.
    pub continued: Vec<String>,
}

impl Journal {
    /// Opens the journal at `path`, creating it with `header` if it does not exist or is
    /// empty, else checking its header against `header` and replaying its records. `rows`
    /// is how many data rows the batch has (`None` without data): a record with a row
    /// outside them is refused.
    pub fn open(path: &Path, header: &Header, rows: Option<u64>) -> Result<Opened, JournalError> {
        Journal::open_with(path, header, rows, Continue::default())
    }

    /// As [`Journal::open`], going on with another profile version or data lot as
    /// `allow` says.
    pub fn open_with(
        path: &Path,
        header: &Header,
        rows: Option<u64>,
        allow: Continue,
    ) -> Result<Opened, JournalError> {
        let io = |source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io)?;
        // An advisory lock for as long as the file is open; the system drops it when the
        // process dies, so a killed batch never leaves the journal locked.
        // `fs4` rather than `File::try_lock`, which needs Rust 1.89 (this crate builds on 1.85).
        match FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(JournalError::Busy {
                    path: path.to_path_buf(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        // The file is read as a stream, never whole: a journal of a million cards is
        // hundreds of megabytes, and the ledger keeps only a compact index of it.
        let size = file.metadata().map_err(io)?.len();
        let complete = last_newline(&mut file, size).map_err(io)?;
        let mut len = size;
        let mut cut = None;
        if complete < size {
            let mut tail = Vec::new();
            file.seek(SeekFrom::Start(complete)).map_err(io)?;
            (&mut file)
                .take(size - complete)
                .read_to_end(&mut tail)
                .map_err(io)?;
            // Records are flat JSON objects: a line cut anywhere before its closing brace
            // does not parse, so a last line that parses is whole and only its newline is
            // missing (the process died between the two, or a tool removed it).
            let whole = serde_json::from_slice::<Record>(&tail).is_ok();
            if whole {
                file.write_all(b"\n").map_err(io)?;
                len = size + 1;
            } else {
                file.set_len(complete).map_err(io)?;
                len = complete;
            }
            file.sync_all().map_err(io)?;
            cut = Some((whole, tail.len()));
        }
        // The records are read before anything is written, from the start of the file.
        let replayed = if len == 0 {
            None
        } else {
            file.seek(SeekFrom::Start(0)).map_err(io)?;
            Some(replay(path, &mut (&file).take(len), header, rows)?)
        };
        let mut journal = Journal {
            group: Arc::new(Group::new(Box::new(file), len)),
            path: Arc::from(path),
        };
        let Some(mut replayed) = replayed else {
            let repaired = cut.map(|(kept, bytes)| Repair {
                line: 1,
                bytes: if kept { 0 } else { bytes },
                kept,
            });
            journal.append(&Record::Header(header.clone()))?;
            sync_directory(path).map_err(io)?;
            return Ok(Opened {
                journal,
                ledger: Ledger::new(rows),
                created: true,
                repaired,
                continued: Vec::new(),
            });
        };
        let repaired = cut.map(|(kept, bytes)| Repair {
            // A kept line is the last one replayed; a cut one would have come after it.
            line: if kept {
                replayed.lines
            } else {
                replayed.lines + 1
            },
            bytes: if kept { 0 } else { bytes },
            kept,
        });
        let mut continued = Vec::new();
        if replayed.hash != header.hash {
            if !allow.profile_changed {
                return Err(JournalError::OtherProfile {
                    path: path.to_path_buf(),
                    file: replayed.file,
                    journal: replayed.hash,
                    profile: header.hash.clone(),
                });
            }
            journal.append(&Record::Profile(ProfileVersion {
                time: header.time.clone(),
                profile: header.profile.clone(),
                file: header.file.clone(),
                hash: header.hash.clone(),
            }))?;
            continued.push(format!(
                "journal `{}`: goes on with profile hash {} (was {}); cards issued before stay issued",
                path.display(),
                header.hash,
                replayed.hash
            ));
        }
        let current = &replayed.lots[replayed.ledger.current_lot()];
        if *current != header.data_hash {
            if !allow.new_lot {
                let last = replayed.data.clone();
                return Err(other_data(path, &last, current, header));
            }
            let index = replayed
                .lots
                .iter()
                .position(|lot| *lot == header.data_hash)
                .unwrap_or(replayed.lots.len());
            journal.append(&Record::Lot(Lot {
                time: header.time.clone(),
                data: header.data.clone(),
                data_hash: header.data_hash.clone(),
                rows,
            }))?;
            replayed.ledger.switch_lot(index, Some(rows));
            let seen = if index < replayed.lots.len() {
                "a lot seen before"
            } else {
                "a new lot"
            };
            continued.push(format!(
                "journal `{}`: goes on with data {} as lot {} ({seen}); rows and cards of other lots stay used",
                path.display(),
                describe_data(&header.data, &header.data_hash),
                index + 1
            ));
        }
        Ok(Opened {
            journal,
            ledger: replayed.ledger,
            created: false,
            repaired,
            continued,
        })
    }

    /// Appends one record and makes it durable before returning: [`Journal::write`] and
    /// [`Pending::wait`] in one.
    pub fn append(&mut self, record: &Record) -> Result<(), JournalError> {
        self.write(record)?.wait()
    }

    /// Writes one record at the end of the journal, with one `write` of its whole line;
    /// it is durable once the [`Pending`] returned has been waited on.
    ///
    /// On failure the file is cut back to its last complete record (and made durable so),
    /// and the error says what was lost; the caller must stop the batch. If even that
    /// fails, or a sync failed before, every later write is refused, so nothing is ever
    /// written after a half-written or lost record.
    pub fn write(&mut self, record: &Record) -> Result<Pending, JournalError> {
        let mut line = serde_json::to_vec(record).map_err(|e| JournalError::Io {
            path: self.path.to_path_buf(),
            source: e.into(),
        })?;
        line.push(b'\n');
        match self.group.write(&line) {
            Ok(end) => Ok(Pending {
                group: self.group.clone(),
                end,
                path: self.path.clone(),
                what: What::of(record),
            }),
            Err(WriteError::Ended) => Err(JournalError::Broken {
                path: self.path.to_path_buf(),
            }),
            Err(WriteError::Failed { source, restored }) => {
                let (record, meaning) = lost(&What::of(record));
                Err(JournalError::Append {
                    path: self.path.to_path_buf(),
                    record,
                    meaning,
                    reason: source,
                    restored,
                })
            }
        }
    }

    /// How many syncs the journal has issued since it was opened (one per record with one
    /// reader; fewer when readers share them).
    pub fn syncs(&self) -> u64 {
        self.group.syncs()
    }

    /// Puts `disk` (a test's faults around the same file) between the journal and its
    /// file. Only before anything is written.
    #[cfg(test)]
    pub(crate) fn set_disk(&mut self, disk: Box<dyn group::Disk>) {
        let len = self.group.written();
        self.group = Arc::new(Group::new(disk, len));
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Which record could not be written, and what that means for its card.
fn lost(record: &What) -> (String, String) {
    match record {
        What::Header => ("header".to_string(), "no card was touched".to_string()),
        What::Profile => (
            "`profile` record".to_string(),
            "no card was touched; the restarted batch writes it again".to_string(),
        ),
        What::Lot => (
            "`lot` record".to_string(),
            "no card was touched; the restarted batch writes it again".to_string(),
        ),
        What::Begin(identity) => (
            format!("`begin` record of card `{identity}`"),
            "nothing was sent to the card, which is new to the restarted batch".to_string(),
        ),
        What::End(identity, verdict) => (
            format!(
                "`end` record (verdict `{}`) of card `{identity}`",
                verdict.name()
            ),
            "the card keeps its row and is finished with it when it is presented to the restarted batch".to_string(),
        ),
    }
}

/// Where the last complete line of the first `size` bytes of `file` ends (0: none), read
/// backwards from the end in blocks.
fn last_newline(file: &mut File, size: u64) -> std::io::Result<u64> {
    const BLOCK: u64 = 64 * 1024;
    let mut end = size;
    let mut block = Vec::new();
    while end > 0 {
        let start = end.saturating_sub(BLOCK);
        block.clear();
        file.seek(SeekFrom::Start(start))?;
        Read::by_ref(file)
            .take(end - start)
            .read_to_end(&mut block)?;
        if let Some(i) = block.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// Makes a new file's directory entry durable, so the journal itself survives a power cut.
fn sync_directory(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// What replaying a journal found.
struct Replayed {
    ledger: Ledger,
    /// The profile hash it goes on with (the header's, or the last `profile` record's).
    hash: String,
    /// The profile file that hash belongs to.
    file: String,
    /// The data hash of each lot, the header's first.
    lots: Vec<Option<String>>,
    /// The data file of the current lot.
    data: Option<String>,
    /// Lines read.
    lines: usize,
}

/// Replays every record into a ledger; `header` is this run's, `rows` its data's rows (the
/// row count of a lot with other data is known from its `lot` record, or not at all for
/// the header's).
fn replay(
    path: &Path,
    input: &mut dyn Read,
    header: &Header,
    rows: Option<u64>,
) -> Result<Replayed, JournalError> {
    let corrupt = |line: usize, message: String| JournalError::Corrupt {
        path: path.to_path_buf(),
        line,
        message,
    };
    let io = |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut state: Option<Replayed> = None;
    let mut reader = BufReader::with_capacity(1 << 20, input);
    let mut buffer = Vec::new();
    let mut line = 0;
    loop {
        buffer.clear();
        if reader.read_until(b'\n', &mut buffer).map_err(io)? == 0 {
            break;
        }
        line += 1;
        if let Some(state) = state.as_mut() {
            state.lines = line;
        }
        let text = buffer.strip_suffix(b"\n").unwrap_or(&buffer);
        if text.is_empty() {
            continue;
        }
        // Most lines are `begin` and `end`: read them without copying (`Fast`); anything
        // else, or a line `Fast` cannot take, is read as a whole record below.
        if let Some(state) = state.as_mut() {
            if let Some(applied) = fast(text, &mut state.ledger) {
                applied.map_err(|e| corrupt(line, e.0))?;
                continue;
            }
        }
        let record: Record = serde_json::from_slice(text)
            .map_err(|e| corrupt(line, format!("not a journal record: {e}")))?;
        let Some(state) = state.as_mut() else {
            let Record::Header(found) = record else {
                return Err(corrupt(
                    line,
                    "the first line is not a journal header".to_string(),
                ));
            };
            let ledger = if found.data_hash == header.data_hash {
                Ledger::new(rows)
            } else if found.data_hash.is_none() {
                Ledger::new(None)
            } else {
                Ledger::with_unknown_rows()
            };
            state = Some(Replayed {
                ledger,
                hash: found.hash,
                file: found.file,
                lots: vec![found.data_hash],
                data: found.data,
                lines: line,
            });
            continue;
        };
        let applied: Result<(), Inconsistent> = match &record {
            Record::Header(_) => Err(Inconsistent("a second header".to_string())),
            Record::Begin(begin) => state.ledger.begin(begin),
            Record::End(end) => state.ledger.end(end),
            Record::Profile(version) => {
                state.hash.clone_from(&version.hash);
                state.file.clone_from(&version.file);
                Ok(())
            }
            Record::Lot(lot) => {
                let index = match state.lots.iter().position(|l| *l == lot.data_hash) {
                    Some(index) => index,
                    None => {
                        state.lots.push(lot.data_hash.clone());
                        state.lots.len() - 1
                    }
                };
                let known = if lot.data_hash == header.data_hash {
                    Some(rows)
                } else {
                    Some(lot.rows)
                };
                state.ledger.switch_lot(index, known);
                state.data.clone_from(&lot.data);
                Ok(())
            }
        };
        applied.map_err(|e| corrupt(line, e.0))?;
    }
    state.ok_or_else(|| corrupt(1, "the first line is not a journal header".to_string()))
}

/// The fields of a `begin` or `end` line, borrowed from the line (a string with escapes
/// cannot be borrowed: such a line is read as a [`Record`] instead).
#[derive(Deserialize)]
struct Fast<'a> {
    #[serde(borrow)]
    event: &'a str,
    #[serde(borrow)]
    time: Option<&'a str>,
    seq: Option<u64>,
    row: Option<u64>,
    #[serde(borrow)]
    uid: Option<&'a str>,
    #[serde(borrow)]
    identity: Option<&'a str>,
    #[serde(borrow)]
    reader: Option<&'a str>,
    #[serde(borrow)]
    atr: Option<&'a str>,
    verdict: Option<Verdict>,
    #[serde(borrow)]
    step: Option<&'a str>,
    #[serde(borrow)]
    sw: Option<&'a str>,
    #[serde(borrow)]
    message: Option<&'a str>,
    micros: Option<u64>,
}

/// Applies a `begin` or `end` line read as [`Fast`]; `None` when it is another record or
/// lacks a field a [`Record`] needs (then it is read as one, which says what is wrong).
fn fast(text: &[u8], ledger: &mut Ledger) -> Option<Result<(), Inconsistent>> {
    let f: Fast<'_> = serde_json::from_slice(text).ok()?;
    let (time, seq, identity, reader) = (f.time?, f.seq?, f.identity?, f.reader?);
    let _ = (reader, f.sw, f.message);
    match f.event {
        "begin" => {
            f.atr?;
            Some(ledger.begin_facts(&BeginFacts {
                seq,
                row: f.row,
                uid: f.uid,
                identity,
            }))
        }
        "end" => {
            f.micros?;
            Some(ledger.end_facts(&EndFacts {
                seq,
                row: f.row,
                uid: f.uid,
                identity,
                verdict: f.verdict?,
                time,
                step: f.step,
            }))
        }
        _ => None,
    }
}

fn describe_data(data: &Option<String>, hash: &Option<String>) -> String {
    match (data, hash) {
        (Some(data), Some(hash)) => {
            format!("`{data}`, SHA-256 {}", &hash[..hash.len().min(16)])
        }
        _ => "no data file".to_string(),
    }
}

fn other_data(
    path: &Path,
    data: &Option<String>,
    data_hash: &Option<String>,
    expected: &Header,
) -> JournalError {
    JournalError::OtherData {
        path: path.to_path_buf(),
        journal: describe_data(data, data_hash),
        given: describe_data(&expected.data, &expected.data_hash),
    }
}

#[cfg(test)]
mod tests;
