//! What can go wrong when choosing a simulated card or loading and saving its image.
//!
//! A card's answers are never errors: a simulated card reports problems with status words,
//! like a real one. These errors are about the command line and the image file.

use std::path::PathBuf;

use super::Kind;

/// A simulator set-up failure; every message is one line and names the file involved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The `--sim` name is not a kind we simulate.
    #[error("unknown simulated card `{name}` (valid: {valid})")]
    UnknownKind {
        /// What the user asked for.
        name: String,
        /// The valid names, comma-separated.
        valid: String,
    },
    /// The options do not suit the kind (a UID of the wrong length).
    #[error("simulated `{kind}` card: {message}")]
    Options {
        /// The kind asked for.
        kind: Kind,
        /// What does not suit it.
        message: String,
    },
    /// The image file exists but is not a valid card image.
    #[error("card image `{}`: {message}", path.display())]
    Image {
        /// The image file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The image file holds a card of another kind.
    #[error("card image `{}` holds a `{found}` card, not `{expected}`", path.display())]
    WrongKind {
        /// The image file.
        path: PathBuf,
        /// The kind the run asked for.
        expected: Kind,
        /// The kind the image records.
        found: String,
    },
    /// Reading or writing the image file failed.
    #[error("card image `{}`: {source}", path.display())]
    Io {
        /// The image file (or its temporary sibling while saving).
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
}
