//! Exit codes, in one place (design.md "Exit codes").

/// How `apdu-run` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// All good.
    Ok = 0,
    /// A card or step failed.
    Failed = 1,
    /// Invalid input (arguments, script, profile); no card touched.
    Invalid = 2,
    /// Reader or transport failure (no reader, card removed, pcscd down).
    Transport = 3,
    /// An irreversible operation was refused (the run was not armed).
    Refused = 4,
    /// Interrupted by Ctrl-C, SIGTERM or SIGHUP.
    Interrupted = 130,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> i32 {
        self as i32
    }
}

impl From<crate::script::ErrorKind> for Exit {
    fn from(kind: crate::script::ErrorKind) -> Exit {
        use crate::script::ErrorKind;
        match kind {
            ErrorKind::Invalid => Exit::Invalid,
            ErrorKind::Failed => Exit::Failed,
            ErrorKind::Transport => Exit::Transport,
            ErrorKind::Refused => Exit::Refused,
            ErrorKind::Interrupted => Exit::Interrupted,
        }
    }
}

/// An error on its way out: the message printed once, and the code to exit with.
#[derive(Debug)]
pub struct Failure {
    /// What to exit with.
    pub exit: Exit,
    /// The message, already with its context.
    pub error: anyhow::Error,
}

impl Failure {
    /// A failure with an exit code.
    pub fn new(exit: Exit, error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            exit,
            error: error.into(),
        }
    }
}

/// Invalid input (exit 2): the failure of every check made before a card is touched.
pub(super) fn invalid(error: impl Into<anyhow::Error>) -> Failure {
    Failure::new(Exit::Invalid, error)
}
