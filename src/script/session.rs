//! The state a running script shares with its native functions: the card and the run's
//! settings.
//!
//! Every native function that talks to the card goes through [`Session::exchange`], so the
//! transport rules (`--no-auto-response`) apply everywhere and failures become
//! [`Fault`]s the same way. This module does not register anything with Rhai.

use std::cell::RefCell;
use std::rc::Rc;

use rhai::EvalAltResult;

use super::error::Fault;
use crate::apdu::{Command, Response};
use crate::reader::driver::ReaderKind;
use crate::reader::trace::{Redactor, mask_command};
use crate::reader::{Card, Exchange};

/// The run's settings, as the command line gives them.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Whether irreversible operations may run (`--arm-irreversible`).
    pub armed: bool,
    /// How `61xx` and `6Cxx` are followed by default.
    pub rules: Exchange,
    /// `--reader-kind`: the reader family's dialect, instead of detecting it.
    pub reader_kind: Option<ReaderKind>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            armed: false,
            rules: Exchange::AUTO,
            reader_kind: None,
        }
    }
}

/// The card and settings of a running script.
///
/// One engine serves many runs (`Script` keeps it): a run puts its card, settings,
/// redactor and `today` here with [`Session::new`], which also starts [`Remembered`] from
/// nothing, and takes them out again at its end ([`Session::detached`]), so no card, secret
/// or state of one run is there for the next.
pub(crate) struct Session {
    pub card: Box<dyn Card>,
    pub settings: Settings,
    pub redactor: Redactor,
    /// The run's fixed date (`--var today`), if any.
    pub today: Option<String>,
    /// What the API functions remember between calls of this run.
    pub remembered: Remembered,
}

/// What the API functions remember between calls of one run, all in one place so that a
/// run starts from `Default` for every one of them (a field added here is reset with the
/// rest, by construction).
#[derive(Debug, Default)]
pub(crate) struct Remembered {
    /// The reader family, once a function needed it.
    pub reader_kind: Option<ReaderKind>,
    /// `iso::` settings and its last status word.
    pub iso: super::iso_api::IsoState,
    /// What `mfp::write_perso` wrote, for `mfp::commit_perso`'s checks.
    pub perso: super::mfp_api::Perso,
    /// Literal APDU and status-word texts `send` has parsed in this run.
    pub parsed: super::parse_cache::ParseCache,
}

/// A session shared by the native functions of one engine.
pub(crate) type Shared = Rc<RefCell<Session>>;

impl Session {
    /// A run's session: its card, settings, redactor and fixed date; nothing remembered.
    pub fn new(
        card: Box<dyn Card>,
        settings: Settings,
        redactor: Redactor,
        today: Option<String>,
    ) -> Session {
        Session {
            card,
            settings,
            redactor,
            today,
            remembered: Remembered::default(),
        }
    }

    /// The session between runs (and of an engine that never runs): no card, default
    /// settings, an empty redactor.
    pub fn detached() -> Session {
        Session::new(
            Box::new(Detached),
            Settings::default(),
            Redactor::default(),
            None,
        )
    }

    /// Sends a command with the given rules; a transport failure becomes a fault.
    pub fn exchange_with(
        &mut self,
        command: &Command,
        rules: Exchange,
    ) -> Result<Response, Box<EvalAltResult>> {
        self.card
            .exchange_with(command, rules)
            .map_err(|e| Fault::transport(&e))
    }

    /// Sends a command with the run's rules.
    pub fn exchange(&mut self, command: &Command) -> Result<Response, Box<EvalAltResult>> {
        let rules = self.settings.rules;
        self.exchange_with(command, rules)
    }

    /// Sends a command and requires 90 00; `what` names the operation in the error.
    pub fn exchange_ok(
        &mut self,
        what: &str,
        command: &Command,
    ) -> Result<Vec<u8>, Box<EvalAltResult>> {
        let response = self.exchange(command)?;
        if response.is_ok() {
            Ok(response.data)
        } else {
            Err(Fault::failed(format!(
                "{what}: card answered {} ({}) to `{}`",
                response.sw,
                response.sw.describe_after(&command.to_bytes()),
                self.show(command)
            )))
        }
    }

    /// The reader family: `--reader-kind`, else detected from the reader's name or by
    /// probing it (once per run).
    pub fn reader_kind(&mut self) -> Result<ReaderKind, Box<EvalAltResult>> {
        if let Some(kind) = self.remembered.reader_kind {
            return Ok(kind);
        }
        let kind = ReaderKind::detect(self.card.as_mut(), self.settings.reader_kind)
            .map_err(|e| Fault::transport(&e))?;
        self.remembered.reader_kind = Some(kind);
        Ok(kind)
    }

    /// A command as it may appear in a message: secrets masked.
    pub fn show(&self, command: &Command) -> String {
        mask_command(&command.to_bytes(), &self.redactor).spaced
    }
}

/// What a session holds once its card has been handed back: every use fails.
pub(crate) struct Detached;

impl Card for Detached {
    fn atr(&self) -> &[u8] {
        &[]
    }

    fn reader_name(&self) -> &str {
        "(detached)"
    }

    fn transmit(&mut self, _command: &[u8]) -> Result<Vec<u8>, crate::reader::Error> {
        Err(crate::reader::Error::NoCard {
            reader: "(detached)".into(),
        })
    }

    fn reset(&mut self) -> Result<Vec<u8>, crate::reader::Error> {
        Err(crate::reader::Error::NoCard {
            reader: "(detached)".into(),
        })
    }
}
