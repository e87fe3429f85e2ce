//! The JSON Lines journal behind the ledger interface: the default, one file on one machine.
//!
//! [`FileStore`] pairs the journal file (`journal.rs`: create, replay, one-write append,
//! syncs shared by the readers) with what its records say (`ledger.rs`: skip, resume, next row) and the data
//! file's rows. Every record is checked by the ledger before it is written, so the journal
//! never holds a record it would refuse on replay. It does not lock: the batch calls it
//! under the workers' one lock, which makes deciding and writing `begin` one step; the
//! records it writes come back as [`Ticket`]s, made durable after the lock is released.
//! The ledger takes a record into account as soon as it is written: a record that then
//! fails to become durable ends the journal (nothing more is written), so no decision is
//! ever recorded on top of it.

use std::path::Path;

use super::data::DataSet;
use super::journal::{Continue, Journal, JournalError};
use super::ledger::{Decision, Ledger};
use super::record::{Begin, End, Header, Record};
use super::store::{Arrival, Begun, Known, Lease, Store, Ticket};
use super::{Error, time};

/// The journal file, its replayed state and the data rows.
pub struct FileStore<'a> {
    journal: Journal,
    ledger: Ledger,
    data: Option<&'a DataSet>,
    notes: Vec<String>,
    resuming: Option<String>,
}

impl<'a> FileStore<'a> {
    /// Opens (or creates) the journal at `path` for the profile and data in `header`, going
    /// on with another profile version or data lot as `allow` says.
    pub fn open(
        path: &Path,
        header: &Header,
        data: Option<&'a DataSet>,
        allow: Continue,
    ) -> Result<FileStore<'a>, Error> {
        let opened = Journal::open_with(path, header, data.map(DataSet::len), allow)?;
        let mut notes = opened.continued.clone();
        if let Some(repair) = opened.repaired.as_ref().filter(|r| r.kept) {
            notes.push(format!(
                "journal `{}`: line {} is a complete record that lacked its newline (the last run stopped between the two); kept it, added the newline and went on",
                path.display(),
                repair.line
            ));
        } else if let Some(repair) = &opened.repaired {
            notes.push(format!(
                "journal `{}`: line {} was cut off ({} bytes, the last run stopped while writing it); removed it and went on",
                path.display(),
                repair.line,
                repair.bytes
            ));
        }
        let resuming = (!opened.created).then(|| {
            let (ok, failed) = opened.ledger.done();
            super::resuming_line(
                path,
                opened.ledger.finished(),
                ok,
                failed,
                opened.ledger.open(),
            )
        });
        Ok(FileStore {
            journal: opened.journal,
            ledger: opened.ledger,
            data,
            notes,
            resuming,
        })
    }

    /// The journal, for a test to put faults between it and its file.
    #[cfg(test)]
    pub(crate) fn journal_mut(&mut self) -> &mut Journal {
        &mut self.journal
    }

    fn rows(&self) -> Option<u64> {
        self.data.map(DataSet::len)
    }

    fn bug(&self, message: String) -> Error {
        Error::Journal(JournalError::Corrupt {
            path: self.journal.path().to_path_buf(),
            line: 0,
            message: format!("internal inconsistency: {message}"),
        })
    }
}

impl Store for FileStore<'_> {
    fn describe(&self) -> String {
        format!("journal `{}`", self.journal.path().display())
    }

    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }

    fn resuming(&self) -> Option<String> {
        self.resuming.clone()
    }

    fn known(&mut self, identity: &str) -> Result<Known, Error> {
        Ok(match self.ledger.decide(identity) {
            Decision::Issued(why) => Known::Issued(why),
            Decision::FailedBefore(why) => Known::FailedBefore(why),
            Decision::Skip(why) => Known::Skip(why),
            Decision::Resume { .. } => Known::Open,
            Decision::New => Known::New,
        })
    }

    fn begin(&mut self, card: &Arrival, count: Option<u64>) -> Result<Begun, Error> {
        let (seq, row, resumed) = match self.ledger.decide(&card.identity) {
            Decision::Issued(why) | Decision::FailedBefore(why) | Decision::Skip(why) => {
                return Ok(Begun::Elsewhere(why));
            }
            Decision::Resume { seq, row } => (seq, row, true),
            Decision::New => match self.ledger.allocate(self.rows(), count) {
                Ok((seq, row)) => (seq, row, false),
                Err(full) => return Ok(Begun::Full(full)),
            },
        };
        let begin = Begin {
            time: time::now(),
            seq,
            row,
            uid: card.uid.clone(),
            identity: card.identity.clone(),
            reader: card.reader.clone(),
            atr: card.atr.clone(),
        };
        // Checked before it is written: the journal never holds a record it would refuse.
        self.ledger.check_begin(&begin).map_err(|e| self.bug(e.0))?;
        let pending = self.journal.write(&Record::Begin(begin.clone()))?;
        self.ledger.begin(&begin).map_err(|e| self.bug(e.0))?;
        self.ledger.set_in_flight(&card.identity, true);
        let values = match (self.data, row) {
            (Some(data), Some(row)) => data.row(row),
            _ => Vec::new(),
        };
        Ok(Begun::Run(
            Lease {
                seq,
                row,
                values,
                resumed,
            },
            Ticket::pending(pending),
        ))
    }

    fn end(&mut self, end: &End) -> Result<Ticket, Error> {
        self.ledger.check_end(end).map_err(|e| self.bug(e.0))?;
        let pending = self.journal.write(&Record::End(end.clone()))?;
        self.ledger.end(end).map_err(|e| self.bug(e.0))?;
        self.ledger.set_in_flight(&end.identity, false);
        Ok(Ticket::pending(pending))
    }

    fn exhausted(&mut self, count: Option<u64>) -> Result<Option<super::ledger::Full>, Error> {
        Ok(self.ledger.exhausted(self.rows(), count))
    }

    fn finished(&mut self) -> Result<u64, Error> {
        Ok(self.ledger.finished())
    }

    fn open(&mut self) -> Result<u64, Error> {
        Ok(self.ledger.open() as u64)
    }
}
