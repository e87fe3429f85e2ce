//! The journal file: append-only JSON Lines, one `fsync` per record.
//!
//! [`Journal::open`] creates the journal (its header first, then the directory entry made
//! durable too) or replays an existing one into a [`Ledger`]. A journal whose header names
//! another profile hash or other data is refused, never reused. A last line cut short (the
//! process died mid-write) is cut off, and the caller is told so; anything else that does
//! not parse is an error, because guessing could issue a card twice.
//!
//! The journal is locked (advisory, released when the process ends) while a batch has it
//! open, so a second batch on the same journal is refused instead of racing the first.
//! Every record is one `write` of one line followed by `fsync`: once [`Journal::append`]
//! returns, the record survives a crash or a power cut. This file knows nothing of cards or
//! readers beyond the records.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use fs4::{FileExt, TryLockError};

use super::ledger::{Inconsistent, Ledger};
use super::record::{Header, Record};

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
        "journal `{}` belongs to another profile: it was written for `{file}` with hash {journal}, this profile's hash is {profile}; use another --journal path, or run the profile the journal was written for",
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
        "journal `{}` was written with other data ({journal}), this run has {given}; rows would not mean the same",
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
    /// A line is not a record, or contradicts the lines before it.
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

/// A last line that was cut off when the journal was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// The 1-based line that was incomplete.
    pub line: usize,
    /// How many bytes were removed.
    pub bytes: usize,
}

/// An open journal, positioned at its end.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
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
}

impl Journal {
    /// Opens the journal at `path`, creating it with `header` if it does not exist or is
    /// empty, else checking its header against `header` and replaying its records.
    pub fn open(path: &Path, header: &Header) -> Result<Opened, JournalError> {
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
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let mut repaired = None;
        if complete < bytes.len() {
            let lines = bytes[..complete].iter().filter(|&&b| b == b'\n').count();
            repaired = Some(Repair {
                line: lines + 1,
                bytes: bytes.len() - complete,
            });
            file.set_len(complete as u64).map_err(io)?;
            file.sync_all().map_err(io)?;
            bytes.truncate(complete);
        }
        let mut journal = Journal {
            file,
            path: path.to_path_buf(),
        };
        if bytes.is_empty() {
            journal.append(&Record::Header(header.clone()))?;
            sync_directory(path).map_err(io)?;
            return Ok(Opened {
                journal,
                ledger: Ledger::new(),
                created: true,
                repaired,
            });
        }
        let ledger = replay(path, &bytes, header)?;
        Ok(Opened {
            journal,
            ledger,
            created: false,
            repaired,
        })
    }

    /// Appends one record and makes it durable before returning.
    pub fn append(&mut self, record: &Record) -> Result<(), JournalError> {
        let io = |source| JournalError::Io {
            path: self.path.clone(),
            source,
        };
        let mut line = serde_json::to_vec(record).map_err(|e| io(e.into()))?;
        line.push(b'\n');
        self.file.write_all(&line).map_err(io)?;
        self.file.sync_data().map_err(io)
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Makes a new file's directory entry durable, so the journal itself survives a power cut.
fn sync_directory(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// Checks the header and replays every record into a ledger.
fn replay(path: &Path, bytes: &[u8], header: &Header) -> Result<Ledger, JournalError> {
    let corrupt = |line: usize, message: String| JournalError::Corrupt {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut ledger = Ledger::new();
    for (i, text) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        if text.is_empty() {
            continue;
        }
        let record: Record = serde_json::from_slice(text)
            .map_err(|e| corrupt(line, format!("not a journal record: {e}")))?;
        let applied: Result<(), Inconsistent> = match (&record, line) {
            (Record::Header(found), 1) => {
                check_header(path, found, header)?;
                Ok(())
            }
            (Record::Header(_), _) => Err(Inconsistent("a second header".to_string())),
            (_, 1) => {
                return Err(corrupt(
                    line,
                    "the first line is not a journal header".to_string(),
                ));
            }
            (Record::Begin(begin), _) => ledger.begin(begin),
            (Record::End(end), _) => ledger.end(end),
        };
        applied.map_err(|e| corrupt(line, e.0))?;
    }
    Ok(ledger)
}

fn check_header(path: &Path, found: &Header, expected: &Header) -> Result<(), JournalError> {
    if found.hash != expected.hash {
        return Err(JournalError::OtherProfile {
            path: path.to_path_buf(),
            file: found.file.clone(),
            journal: found.hash.clone(),
            profile: expected.hash.clone(),
        });
    }
    if found.data_hash != expected.data_hash {
        let describe = |data: &Option<String>, hash: &Option<String>| match (data, hash) {
            (Some(data), Some(hash)) => {
                format!("`{data}`, SHA-256 {}", &hash[..hash.len().min(16)])
            }
            _ => "no data file".to_string(),
        };
        return Err(JournalError::OtherData {
            path: path.to_path_buf(),
            journal: describe(&found.data, &found.data_hash),
            given: describe(&expected.data, &expected.data_hash),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
