//! The one way apdu-run reads a file the user named, and checks a file it will write.
//!
//! [`read`] and [`read_text`] take scripts, profiles (and their `include:`s), `run:` files,
//! `file:` secrets, CSV data, simulated card images and scriptor files. Each must be a
//! regular file (symbolic links followed) no larger than the cap of its [`Kind`]: a FIFO
//! would block the run for ever, `/dev/zero` would fill memory, a directory says nothing.
//! The type is looked at with `stat` before the file is opened (opening a FIFO blocks,
//! `stat` does not), again with `fstat` on the open file (the path may have changed in
//! between), and at most cap + 1 bytes are read whatever the file claims.
//!
//! [`open`] is the same for a file read as a stream (journals and reports read back).
//!
//! [`check_output`] is the check made before the first APDU on every path the tool will
//! write (`--journal`, `--report`, `--sim-state`, `--trace-file`): its directory exists,
//! it is not a directory, FIFO or device, and it can be opened for writing.
//!
//! Errors are `std::io::Error`s whose text says what is wrong in a few words; the caller
//! names the file. This module does not parse, create or truncate anything.

use std::fmt;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

/// What a file is read as; each kind has its own size cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A Rhai script (`run FILE.rhai`, a profile's `run:` file).
    Script,
    /// A YAML profile or an included profile.
    Profile,
    /// A `file:` secret.
    Secret,
    /// A batch's CSV data.
    Data,
    /// A simulated card image (`--sim-state`, `sim serve --state`).
    Image,
    /// A pcsc-tools scriptor file (`.apdu`).
    Scriptor,
    /// A batch journal or report read back whole (`apdu-run report`): streamed, never
    /// held in memory, so its cap is only a guard against a file that never ends.
    Log,
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

impl Kind {
    /// The largest file of this kind that is read, in bytes.
    pub const fn cap(self) -> u64 {
        match self {
            Kind::Script => MIB,
            Kind::Profile => 4 * MIB,
            Kind::Secret => 64 * KIB,
            Kind::Data => 256 * MIB,
            Kind::Image => 16 * MIB,
            Kind::Scriptor => 64 * MIB,
            Kind::Log => 64 * 1024 * MIB,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Script => "script",
            Kind::Profile => "profile",
            Kind::Secret => "secret file",
            Kind::Data => "data file",
            Kind::Image => "card image",
            Kind::Scriptor => "scriptor file",
            Kind::Log => "journal or report",
        }
    }
}

/// Why a file was refused (the text of the `io::Error` returned).
#[derive(Debug)]
enum Refusal {
    /// Not a regular file: what it is instead.
    NotRegular(&'static str),
    /// Larger than its kind's cap.
    TooLarge(Kind),
    /// Its directory does not exist.
    NoDirectory,
    /// Its directory is not a directory.
    ParentNotDirectory,
    /// A symbolic link whose target does not exist.
    DanglingLink,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotRegular(what) => write!(f, "{what}, not a regular file"),
            Refusal::TooLarge(kind) => write!(
                f,
                "larger than {} (the limit for a {})",
                size(kind.cap()),
                kind.name()
            ),
            Refusal::NoDirectory => f.write_str("its directory does not exist"),
            Refusal::ParentNotDirectory => f.write_str("its parent is not a directory"),
            Refusal::DanglingLink => f.write_str("a symbolic link to nothing"),
        }
    }
}

impl std::error::Error for Refusal {}

fn refused(refusal: Refusal) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, refusal)
}

/// `1 MiB`, `64 KiB`.
fn size(bytes: u64) -> String {
    if bytes >= MIB && bytes % MIB == 0 {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes % KIB == 0 {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// What a non-regular file is, in words.
fn describe(metadata: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = metadata.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

fn regular(metadata: &Metadata) -> io::Result<()> {
    if metadata.is_file() {
        Ok(())
    } else {
        Err(refused(Refusal::NotRegular(describe(metadata))))
    }
}

/// Reads the whole file at `path`, refusing anything but a regular file of at most
/// `kind.cap()` bytes. A missing file is `io::ErrorKind::NotFound`, as from `fs::read`.
pub fn read(path: &Path, kind: Kind) -> io::Result<Vec<u8>> {
    // `stat` first: opening a FIFO would block until a writer comes, and a device may
    // never end.
    regular(&fs::metadata(path)?)?;
    let file = File::open(path)?;
    let metadata = file.metadata()?;
    // The path may now name another file than the one looked at.
    regular(&metadata)?;
    let cap = kind.cap();
    if metadata.len() > cap {
        return Err(refused(Refusal::TooLarge(kind)));
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    // A file that grows while being read is still read only up to its cap.
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(refused(Refusal::TooLarge(kind)));
    }
    Ok(bytes)
}

/// Opens the file at `path` to be read as a stream, with the same checks as [`read`]: a
/// regular file, not larger than `kind.cap()` — a file that grows past the cap while it is
/// read gives an error then.
pub fn open(path: &Path, kind: Kind) -> io::Result<Capped> {
    regular(&fs::metadata(path)?)?;
    let file = File::open(path)?;
    let metadata = file.metadata()?;
    regular(&metadata)?;
    if metadata.len() > kind.cap() {
        return Err(refused(Refusal::TooLarge(kind)));
    }
    Ok(Capped {
        file,
        kind,
        read: 0,
    })
}

/// A file opened by [`open`]: reading past its kind's cap is an error.
#[derive(Debug)]
pub struct Capped {
    file: File,
    kind: Kind,
    read: u64,
}

impl Read for Capped {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read += n as u64;
        if self.read > self.kind.cap() {
            return Err(refused(Refusal::TooLarge(self.kind)));
        }
        Ok(n)
    }
}

/// Like [`read`], for text: invalid UTF-8 is `io::ErrorKind::InvalidData`.
pub fn read_text(path: &Path, kind: Kind) -> io::Result<String> {
    String::from_utf8(read(path, kind)?).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// Checks, before anything is sent to a card, that `path` can be written later: its
/// directory exists, and it is either absent (and can be created there) or a regular file
/// that opens for writing. Nothing is changed: an existing file is opened for appending
/// and closed; for an absent one a file of a private name is created beside it and
/// removed again (`path` itself is never created, so a process that opens it meanwhile
/// keeps its file).
pub fn check_output(path: &Path) -> io::Result<()> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    match fs::metadata(parent) {
        Ok(metadata) if metadata.is_dir() => {}
        Ok(_) => return Err(refused(Refusal::ParentNotDirectory)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(refused(Refusal::NoDirectory));
        }
        Err(e) => return Err(e),
    }
    match fs::metadata(path) {
        Ok(metadata) => {
            // Opening a FIFO for writing blocks until a reader comes: refuse it unopened.
            regular(&metadata)?;
            let file = OpenOptions::new().append(true).open(path)?;
            regular(&file.metadata()?)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // A symbolic link to nothing: writing would create its target somewhere else.
            if fs::symlink_metadata(path).is_ok() {
                return Err(refused(Refusal::DanglingLink));
            }
            // A new file is the one honest test of "can be created there", but never at
            // `path` itself: another process may open `path` between our create and our
            // remove (a second batch starting on the same journal), and removing its file
            // would leave it writing records nobody can find. A name of this process's own,
            // beside it, is created and removed instead.
            let probe = parent.join(format!(
                ".apdu-run-probe-{}-{}",
                std::process::id(),
                PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ));
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&probe)?;
            fs::remove_file(&probe)
        }
        Err(e) => Err(e),
    }
}

/// Probes made by this process so far, so that each has a name of its own.
static PROBES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn message(e: io::Error) -> String {
        e.to_string()
    }

    #[test]
    fn reads_regular_files_up_to_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.txt");
        fs::write(&path, b"00112233").unwrap();
        assert_eq!(read(&path, Kind::Secret).unwrap(), b"00112233");
        assert_eq!(read_text(&path, Kind::Secret).unwrap(), "00112233");
        let big = vec![b'a'; Kind::Secret.cap() as usize + 1];
        fs::write(&path, &big).unwrap();
        assert_eq!(
            message(read(&path, Kind::Secret).unwrap_err()),
            "larger than 64 KiB (the limit for a secret file)"
        );
        fs::write(&path, &big[1..]).unwrap();
        assert_eq!(read(&path, Kind::Secret).unwrap().len(), big.len() - 1);
    }

    #[test]
    fn refuses_devices_directories_and_fifos_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        for (path, what) in [
            (Path::new("/dev/zero"), "a character device"),
            (Path::new("/dev/urandom"), "a character device"),
            (dir.path(), "a directory"),
        ] {
            let e = read(path, Kind::Data).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
            assert_eq!(message(e), format!("{what}, not a regular file"));
        }
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            assert_eq!(
                message(read(&fifo, Kind::Profile).unwrap_err()),
                "a FIFO, not a regular file"
            );
            assert_eq!(
                message(check_output(&fifo).unwrap_err()),
                "a FIFO, not a regular file"
            );
        }
    }

    #[test]
    fn missing_files_stay_not_found() {
        let e = read(Path::new("/nonexistent/x"), Kind::Image).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn symbolic_links_are_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t.yaml");
        fs::write(&target, "x").unwrap();
        let link = dir.path().join("l.yaml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(read_text(&link, Kind::Profile).unwrap(), "x");
        let null = dir.path().join("null.yaml");
        std::os::unix::fs::symlink("/dev/null", &null).unwrap();
        assert!(read(&null, Kind::Profile).is_err());
    }

    #[test]
    fn output_paths_are_checked_without_a_trace() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.jsonl");
        check_output(&new).unwrap();
        assert!(!new.exists(), "the check leaves no file behind");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "nor a probe");
        let dangling = dir.path().join("dangling.jsonl");
        std::os::unix::fs::symlink(dir.path().join("absent/x"), &dangling).unwrap();
        assert_eq!(
            message(check_output(&dangling).unwrap_err()),
            "a symbolic link to nothing"
        );
        let existing = dir.path().join("old.jsonl");
        let mut file = File::create(&existing).unwrap();
        file.write_all(b"kept").unwrap();
        check_output(&existing).unwrap();
        assert_eq!(fs::read(&existing).unwrap(), b"kept");
        assert_eq!(
            message(check_output(dir.path()).unwrap_err()),
            "a directory, not a regular file"
        );
        assert_eq!(
            message(check_output(Path::new("/dev/null")).unwrap_err()),
            "a character device, not a regular file"
        );
        assert_eq!(
            message(check_output(&dir.path().join("missing/j.jsonl")).unwrap_err()),
            "its directory does not exist"
        );
        assert_eq!(
            message(check_output(&existing.join("j.jsonl")).unwrap_err()),
            "its parent is not a directory"
        );
    }
}
