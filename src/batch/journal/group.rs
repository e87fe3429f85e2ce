//! Group commit: records written to the journal by several readers share one `fdatasync`.
//!
//! A record is written (one `write` of its whole line) while the workers' lock is held, so
//! the file order is the order in which the ledger decided; making it durable happens after
//! that lock is released. A writer that needs its record durable waits until a sync that
//! covers the record's end offset has completed. The first waiter finding no sync under
//! way starts one for everything written so far (it leads); writers that arrive while it
//! runs wait, and the next sync, led by one of them, covers them all. One reader therefore
//! pays what it always paid, one write and one sync per record, and N readers share syncs.
//! Only one sync is ever under way, so no sync can take another's error report.
//!
//! A failed sync is final. Linux reports a write-back error once and may drop the pages
//! it could not write, so a second fsync that succeeds proves nothing: every record past
//! the last durable offset fails for whoever waits on it, the file is cut back to that
//! offset, and nothing more is written. A failed `write` (a full disk) cuts the file back
//! to its last complete record and makes that durable (which also makes the records before
//! it durable); if that fails too, the same rule applies. This file knows offsets and
//! bytes, not records: `journal.rs` says what a failure means for a card.

use std::fs::File;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// What the group needs of the journal file; a test puts faults in between.
pub(crate) trait Disk: Send + Sync + std::fmt::Debug {
    /// One `write` at the end of the file (opened for appending).
    fn write(&self, bytes: &[u8]) -> io::Result<usize>;
    /// `fdatasync`.
    fn sync_data(&self) -> io::Result<()>;
    /// `fsync`.
    fn sync_all(&self) -> io::Result<()>;
    /// Cuts the file to `len` bytes.
    fn set_len(&self, len: u64) -> io::Result<()>;
}

impl Disk for File {
    fn write(&self, bytes: &[u8]) -> io::Result<usize> {
        let mut file: &File = self;
        Write::write(&mut file, bytes)
    }
    fn sync_data(&self) -> io::Result<()> {
        File::sync_data(self)
    }
    fn sync_all(&self) -> io::Result<()> {
        File::sync_all(self)
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        File::set_len(self, len)
    }
}

/// The journal file and how much of it is durable.
#[derive(Debug)]
pub(super) struct Group {
    file: Box<dyn Disk>,
    state: Mutex<State>,
    /// Signalled whenever a sync ends (or fails).
    synced: Condvar,
    /// Syncs issued on the file since it was opened (for tests and benchmarks).
    syncs: AtomicU64,
}

#[derive(Debug)]
struct State {
    /// End of the last complete record written.
    written: u64,
    /// End of the last record known durable.
    durable: u64,
    /// Records written, and of those, records known durable.
    records: u64,
    durable_records: u64,
    /// A sync is under way (outside the lock).
    syncing: bool,
    /// The failure that ended the journal; set once, never cleared.
    failed: Option<Failure>,
}

/// Why records written could not be made durable. Every waiter on a record past
/// `durable` gets a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Failure {
    /// What the system said.
    pub kind: io::ErrorKind,
    /// What the system said, in words.
    pub message: String,
    /// End of the last durable record: what the file was cut back to.
    pub durable: u64,
    /// Records written past `durable` and lost with the failure.
    pub lost: u64,
    /// Whether the file was cut back to `durable`.
    pub restored: bool,
}

impl Failure {
    /// The system's error, again (an `io::Error` cannot be cloned).
    pub fn reason(&self) -> io::Error {
        io::Error::new(self.kind, self.message.clone())
    }
}

/// Why [`Group::write`] wrote nothing.
#[derive(Debug)]
pub(super) enum WriteError {
    /// An earlier failure ended the journal: nothing more is written to it.
    Ended,
    /// This write failed; `restored` says whether the file is back at its last complete
    /// record, made durable, with the journal usable again.
    Failed { source: io::Error, restored: bool },
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Group {
    /// The journal `file`, whose first `len` bytes are complete records, durable.
    pub fn new(file: Box<dyn Disk>, len: u64) -> Group {
        Group {
            file,
            state: Mutex::new(State {
                written: len,
                durable: len,
                records: 0,
                durable_records: 0,
                syncing: false,
                failed: None,
            }),
            synced: Condvar::new(),
            syncs: AtomicU64::new(0),
        }
    }

    /// End of the last complete record written.
    #[cfg(test)]
    pub fn written(&self) -> u64 {
        lock(&self.state).written
    }

    /// Syncs issued so far.
    pub fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    /// Writes one whole `line` at the end of the file with one `write`, not yet durable;
    /// returns the offset its end has, for [`Group::wait`]. A short write is a failure:
    /// the file is cut back, so no later record shares a line with a half-written one.
    /// Writers take turns outside (`Journal::write` takes `&mut self`, and the batch calls
    /// it under the workers' lock): a cut-back removes what the failed write left at the
    /// end of the file, which no other write can have followed.
    pub fn write(&self, line: &[u8]) -> Result<u64, WriteError> {
        // The state's lock is held across the write so that no failure's cut-back can
        // happen between the check and the write.
        let mut state = lock(&self.state);
        if state.failed.is_some() {
            return Err(WriteError::Ended);
        }
        match write_whole(self.file.as_ref(), line) {
            Ok(()) => {
                state.written += line.len() as u64;
                state.records += 1;
                Ok(state.written)
            }
            Err(source) => {
                // The cut-back is made durable with a sync of its own: wait for the one
                // under way, if any, so that the two never overlap.
                while state.syncing {
                    state = self
                        .synced
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                if state.failed.is_some() {
                    return Err(WriteError::Ended);
                }
                let target = (state.written, state.records);
                let cut = self.file.set_len(target.0);
                let restored = match cut {
                    Ok(()) => {
                        let synced = self.file.sync_all();
                        self.syncs.fetch_add(1, Ordering::Relaxed);
                        match synced {
                            Ok(()) => {
                                (state.durable, state.durable_records) = target;
                                true
                            }
                            Err(e) => {
                                self.fail(&mut state, &e);
                                false
                            }
                        }
                    }
                    Err(e) => {
                        self.fail(&mut state, &e);
                        false
                    }
                };
                self.synced.notify_all();
                Err(WriteError::Failed { source, restored })
            }
        }
    }

    /// Returns once every byte up to `end` is durable, syncing the file if no sync that
    /// will cover `end` is under way; or the failure that lost the record ending there.
    pub fn wait(&self, end: u64) -> Result<(), Failure> {
        let mut state = lock(&self.state);
        loop {
            if state.durable >= end {
                return Ok(());
            }
            if let Some(failure) = &state.failed {
                return Err(failure.clone());
            }
            if state.syncing {
                state = self
                    .synced
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // Lead: sync everything written so far, for every writer waiting.
            state.syncing = true;
            let target = (state.written, state.records);
            drop(state);
            let result = self.file.sync_data();
            self.syncs.fetch_add(1, Ordering::Relaxed);
            state = lock(&self.state);
            state.syncing = false;
            match result {
                Ok(()) if state.failed.is_none() => {
                    state.durable = state.durable.max(target.0);
                    state.durable_records = state.durable_records.max(target.1);
                }
                Ok(()) => {}
                Err(e) => self.fail(&mut state, &e),
            }
            self.synced.notify_all();
        }
    }

    /// Ends the journal after a failed sync (or a cut-back that failed): records past the
    /// last durable offset are lost, and the file is cut back to it. The cut-back's own
    /// sync is not trusted to make the lost records durable: it only tries to make the
    /// file say no more than is known.
    fn fail(&self, state: &mut State, error: &io::Error) {
        if state.failed.is_some() {
            return;
        }
        let restored = self
            .file
            .set_len(state.durable)
            .and_then(|()| {
                self.syncs.fetch_add(1, Ordering::Relaxed);
                self.file.sync_all()
            })
            .is_ok();
        state.failed = Some(Failure {
            kind: error.kind(),
            message: error.to_string(),
            durable: state.durable,
            lost: state.records - state.durable_records,
            restored,
        });
    }
}

/// One `write` of the whole line (retried only when interrupted before writing anything).
fn write_whole(file: &dyn Disk, line: &[u8]) -> io::Result<()> {
    let written = loop {
        match file.write(line) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => break other?,
        }
    };
    if written != line.len() {
        return Err(io::Error::new(
            io::ErrorKind::StorageFull,
            format!(
                "only {written} of the record's {} bytes were written (is the disk full?)",
                line.len()
            ),
        ));
    }
    Ok(())
}

/// A journal file with faults put in on purpose, for tests: a sync that fails, a write that
/// comes out short, and a gate that holds a sync until the test lets it finish.
#[cfg(test)]
pub(crate) mod testing {
    use std::fs::File;
    use std::io;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::mpsc::{Receiver, Sender, channel};
    use std::sync::{Arc, Mutex};

    use super::Disk;

    /// Where a held sync says it started, and where it waits to be let go.
    type Gate = (Mutex<Sender<()>>, Mutex<Receiver<()>>);

    /// The file behind a journal, with faults.
    #[derive(Debug)]
    pub(crate) struct Faulty {
        file: File,
        /// `fdatasync` calls so far.
        pub syncs: AtomicU64,
        /// `write` calls so far.
        pub writes: AtomicU64,
        /// The `fdatasync` call (from 1) that fails with an I/O error; 0: none.
        pub fail_sync: AtomicU64,
        /// The `write` call (from 1) that writes only half its bytes; 0: none.
        pub short_write: AtomicU64,
        /// When set, every `fdatasync` says so on the first channel and waits for a word on
        /// the second before it syncs.
        gate: Option<Gate>,
    }

    impl Faulty {
        /// `file` (opened for appending) without faults.
        pub(crate) fn new(file: File) -> Arc<Faulty> {
            Arc::new(Faulty::plain(file, None))
        }

        /// `file` whose syncs wait at a gate: the receiver hears each sync start, the
        /// sender lets one finish.
        pub(crate) fn gated(file: File) -> (Arc<Faulty>, Receiver<()>, Sender<()>) {
            let (started, hear) = channel();
            let (release, wait) = channel();
            let gate = Some((Mutex::new(started), Mutex::new(wait)));
            (Arc::new(Faulty::plain(file, gate)), hear, release)
        }

        fn plain(file: File, gate: Option<Gate>) -> Faulty {
            Faulty {
                file,
                syncs: AtomicU64::new(0),
                writes: AtomicU64::new(0),
                fail_sync: AtomicU64::new(0),
                short_write: AtomicU64::new(0),
                gate,
            }
        }
    }

    impl Disk for Arc<Faulty> {
        fn write(&self, bytes: &[u8]) -> io::Result<usize> {
            let n = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
            if n == self.short_write.load(Ordering::SeqCst) {
                return Disk::write(&self.file, &bytes[..bytes.len() / 2]);
            }
            Disk::write(&self.file, bytes)
        }
        fn sync_data(&self) -> io::Result<()> {
            if let Some((started, wait)) = &self.gate {
                started.lock().unwrap().send(()).unwrap();
                wait.lock().unwrap().recv().unwrap();
            }
            let n = self.syncs.fetch_add(1, Ordering::SeqCst) + 1;
            if n == self.fail_sync.load(Ordering::SeqCst) {
                return Err(io::Error::other("injected: the disk reported an I/O error"));
            }
            self.file.sync_data()
        }
        fn sync_all(&self) -> io::Result<()> {
            self.file.sync_all()
        }
        fn set_len(&self, len: u64) -> io::Result<()> {
            self.file.set_len(len)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs::{File, OpenOptions};
    use std::sync::atomic::Ordering;
    use std::sync::{Arc, Mutex};

    use super::testing::Faulty;
    use super::*;

    fn file(dir: &tempfile::TempDir) -> File {
        OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(dir.path().join("j"))
            .unwrap()
    }

    fn line(i: usize) -> Vec<u8> {
        format!("{{\"record\":{i}}}\n").into_bytes()
    }

    fn len(dir: &tempfile::TempDir) -> u64 {
        std::fs::metadata(dir.path().join("j")).unwrap().len()
    }

    #[test]
    fn one_writer_pays_one_sync_per_record_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let disk = Faulty::new(file(&dir));
        let group = Group::new(Box::new(disk.clone()), 0);
        for i in 0..5 {
            let end = group.write(&line(i)).unwrap();
            group.wait(end).unwrap();
            assert_eq!(disk.syncs.load(Ordering::SeqCst), i as u64 + 1);
            // Waiting again on a durable record costs nothing.
            group.wait(end).unwrap();
        }
        assert_eq!(group.syncs(), 5);
        assert_eq!(len(&dir), (0..5).map(|i| line(i).len() as u64).sum::<u64>());
    }

    /// Starts `n` writers, each writing one record under a shared lock (the batch's) and
    /// then waiting for it without; the first one's sync is held at the gate until every
    /// record is written. Returns their results, in order of writing.
    fn writers_meeting_at_a_held_sync(
        group: &Arc<Group>,
        n: usize,
        hear: &std::sync::mpsc::Receiver<()>,
        release: &std::sync::mpsc::Sender<()>,
        written: impl Fn() -> u64,
    ) -> Vec<Result<(), Failure>> {
        let book = Arc::new(Mutex::new(0usize));
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..n)
                .map(|_| {
                    let (group, book) = (group.clone(), book.clone());
                    scope.spawn(move || {
                        let (i, end) = {
                            let mut book = book.lock().unwrap();
                            *book += 1;
                            (*book, group.write(&line(*book)).unwrap())
                        };
                        (i, group.wait(end))
                    })
                })
                .collect();
            // The first sync starts (with one or more records written), and is held
            // until every writer has written its record.
            hear.recv().unwrap();
            while written() < n as u64 {
                std::thread::yield_now();
            }
            release.send(()).unwrap();
            // Every later sync goes through as soon as it starts.
            let mut results: Vec<_> = loop {
                if handles.iter().all(|h| h.is_finished()) {
                    break handles.into_iter().map(|h| h.join().unwrap()).collect();
                }
                if hear.try_recv().is_ok() {
                    release.send(()).unwrap();
                }
                std::thread::yield_now();
            };
            results.sort_by_key(|(i, _)| *i);
            results.into_iter().map(|(_, r)| r).collect()
        })
    }

    #[test]
    fn writers_that_wait_together_share_a_sync() {
        let dir = tempfile::tempdir().unwrap();
        let (disk, hear, release) = Faulty::gated(file(&dir));
        let group = Arc::new(Group::new(Box::new(disk.clone()), 0));
        let n = 8;
        let results = writers_meeting_at_a_held_sync(&group, n, &hear, &release, || {
            disk.writes.load(Ordering::SeqCst)
        });
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        // The held sync covers what was written when it started (at least the first
        // record); one more covers every record written while it was held.
        let syncs = disk.syncs.load(Ordering::SeqCst);
        assert!((1..=2).contains(&syncs), "{n} records took {syncs} syncs");
        assert_eq!(
            len(&dir),
            (1..=n).map(|i| line(i).len() as u64).sum::<u64>()
        );
    }

    #[test]
    fn a_failed_sync_fails_every_record_not_yet_durable_and_ends_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let (disk, hear, release) = Faulty::gated(file(&dir));
        let group = Arc::new(Group::new(Box::new(disk.clone()), 0));
        // A first record, durable.
        let first = group.write(&line(0)).unwrap();
        let waited = std::thread::scope(|scope| {
            let waiting = scope.spawn(|| group.wait(first));
            hear.recv().unwrap();
            release.send(()).unwrap();
            waiting.join().unwrap()
        });
        waited.unwrap();
        // The next sync fails, with several records written behind it.
        disk.fail_sync.store(2, Ordering::SeqCst);
        let n = 6;
        let results = writers_meeting_at_a_held_sync(&group, n, &hear, &release, || {
            disk.writes.load(Ordering::SeqCst) - 1
        });
        for result in &results {
            let failure = result.as_ref().unwrap_err();
            assert_eq!(
                (failure.durable, failure.lost, failure.restored),
                (first, n as u64, true),
                "{failure:?}"
            );
            assert!(failure.message.contains("I/O error"), "{failure:?}");
        }
        // Not retried: no sync after the one that failed, and the file is cut back to
        // its last durable record.
        assert_eq!(disk.syncs.load(Ordering::SeqCst), 2);
        assert_eq!(len(&dir), first);
        group.wait(first).unwrap();
        assert!(matches!(group.write(&line(9)), Err(WriteError::Ended)));
        assert_eq!(len(&dir), first);
        assert_eq!(disk.syncs.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_short_write_is_cut_back_and_makes_the_records_before_it_durable() {
        let dir = tempfile::tempdir().unwrap();
        let disk = Faulty::new(file(&dir));
        let group = Group::new(Box::new(disk.clone()), 0);
        let a = group.write(&line(1)).unwrap();
        let b = group.write(&line(2)).unwrap();
        disk.short_write.store(3, Ordering::SeqCst);
        match group.write(&line(3)) {
            Err(WriteError::Failed { source, restored }) => {
                assert!(restored);
                assert_eq!(source.kind(), io::ErrorKind::StorageFull);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(len(&dir), b);
        // The cut-back's sync covered the two records before: no sync of their own.
        group.wait(a).unwrap();
        group.wait(b).unwrap();
        assert_eq!(disk.syncs.load(Ordering::SeqCst), 0);
        // The journal goes on from its last complete record.
        let c = group.write(&line(4)).unwrap();
        group.wait(c).unwrap();
        assert_eq!(len(&dir), c);
        assert_eq!(disk.syncs.load(Ordering::SeqCst), 1);
    }
}
