//! Card images: the persistent state of a simulated card as a JSON file.
//!
//! An image is `{"format": 1, "kind": "iso7816", "card": {...}}`; the `card` part belongs to
//! the chip. Saving writes a temporary sibling and renames it over the target, so a crash
//! never leaves half an image. This file does the file I/O and the envelope; what the card
//! part contains, and whether it is consistent, is the chip's business.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::card::lock;
use super::chip::Chip;
use super::{Error, Kind};

/// The image layout version written by this build.
const FORMAT: u32 = 1;

#[derive(Serialize)]
struct ImageOut<'a> {
    format: u32,
    kind: &'static str,
    card: &'a Chip,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageIn {
    format: u32,
    kind: String,
    card: serde_json::Value,
}

/// Loads the image at `path`; `Ok(None)` when there is no such file.
pub(crate) fn load(kind: Kind, path: &Path) -> Result<Option<Chip>, Error> {
    let bytes = match crate::input::read(path, crate::input::Kind::Image) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    let bad = |message: String| Error::Image {
        path: path.to_owned(),
        message,
    };
    let image: ImageIn = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
    if image.format != FORMAT {
        return Err(bad(format!(
            "format {} is not supported (this build reads format {FORMAT})",
            image.format
        )));
    }
    if image.kind != kind.name() {
        return Err(Error::WrongKind {
            path: path.to_owned(),
            expected: kind,
            found: image.kind,
        });
    }
    Chip::from_image(kind, image.card).map(Some).map_err(bad)
}

/// Writes `chip`'s image to `path` through a temporary file in the same directory.
///
/// The lock is held only while the state is serialized, not during the file I/O.
pub(crate) fn save(kind: Kind, chip: &Mutex<Chip>, path: &Path) -> Result<(), Error> {
    let text = serde_json::to_vec_pretty(&ImageOut {
        format: FORMAT,
        kind: kind.name(),
        card: &lock(chip),
    });
    let mut text = text.map_err(|e| Error::Image {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    text.push(b'\n');
    let temp = temp_path(path)?;
    let written = write_file(&temp, &text).and_then(|()| fs::rename(&temp, path));
    written.map_err(|source| {
        // The temporary file is useless once saving failed; its removal may fail too, and
        // the first error is the one worth reporting.
        let _ = fs::remove_file(&temp);
        Error::Io {
            path: path.to_owned(),
            source,
        }
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// `dir/.name.tmp<pid>`: same directory, so the rename stays on one file system.
fn temp_path(path: &Path) -> Result<PathBuf, Error> {
    let name = path.file_name().ok_or_else(|| Error::Image {
        path: path.to_owned(),
        message: "the path does not name a file".into(),
    })?;
    let mut temp = std::ffi::OsString::from(".");
    temp.push(name);
    temp.push(format!(".tmp{}", std::process::id()));
    Ok(path.with_file_name(temp))
}
