//! Serial readers that no PC/SC stack drives: a TLP224 reader (Gemplus GCR400) and a raw
//! "dumb mouse" (Phoenix-style) where the host speaks T=0 to the card itself.
//!
//! `--reader tlp224:PATH` and `--reader phoenix:PATH[,echo=auto|on|off]` name them; [`Spec`]
//! parses that, [`open`] opens the device at the line settings from [`line::KNOWN`] (9600
//! 8N1 for TLP224, 9600 8E2 for a raw reader) or `--serial`, and returns a [`Reader`] like
//! the PC/SC one. Modules: `line` (settings, the port), `frame` (TLP224 framing), `tlp224`
//! (its backend), `tpdu` (APDU cases to T=0 transfers, both backends), `t0` (the host side
//! of T=0 for the raw reader), `phoenix` (reset, ATR, the raw backend), `atr` (ATR
//! structure), `poll` (waiting for a card and for its removal, both backends). This module
//! does not know the simulated readers (`crate::sim::serial`).

pub mod atr;
pub mod frame;
pub mod line;
pub mod phoenix;
mod poll;
pub mod t0;
pub mod tlp224;
pub mod tpdu;

use std::fmt;

use super::{Card, Error, Reader};
use line::LineSettings;
use t0::Echo;

/// Which serial backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// TLP224 framing (GCR400).
    Tlp224,
    /// Raw T=0 (dumb mouse, Phoenix).
    Phoenix,
}

impl Backend {
    /// The prefix in `--reader`.
    pub fn prefix(self) -> &'static str {
        match self {
            Backend::Tlp224 => "tlp224",
            Backend::Phoenix => "phoenix",
        }
    }

    /// The line settings when `--serial` does not give any.
    pub fn default_settings(self) -> LineSettings {
        match self {
            Backend::Tlp224 => LineSettings::TLP224,
            Backend::Phoenix => LineSettings::ISO_DEFAULT,
        }
    }
}

/// A parsed `--reader tlp224:PATH` or `phoenix:PATH[,echo=…]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// Which backend.
    pub backend: Backend,
    /// The device path.
    pub path: String,
    /// Echo handling (raw reader only).
    pub echo: Echo,
}

/// A `--reader` value with a serial prefix that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--reader `{text}`: {reason}")]
pub struct BadSpec {
    /// What the user wrote.
    pub text: String,
    /// What is wrong.
    pub reason: String,
}

impl Spec {
    /// `None` when `text` is not a serial reader (a PC/SC name pattern), else the parsed
    /// spec or why it is invalid.
    pub fn parse(text: &str) -> Option<Result<Spec, BadSpec>> {
        let (prefix, rest) = text.split_once(':')?;
        let backend = [Backend::Tlp224, Backend::Phoenix]
            .into_iter()
            .find(|b| b.prefix().eq_ignore_ascii_case(prefix))?;
        let bad = |reason: String| BadSpec {
            text: text.to_string(),
            reason,
        };
        let mut parts = rest.split(',');
        let path = parts.next().unwrap_or_default().to_string();
        if path.is_empty() {
            return Some(Err(bad(format!(
                "no device after `{}:` (e.g. `{}:/dev/ttyS0`)",
                backend.prefix(),
                backend.prefix()
            ))));
        }
        let mut echo = Echo::Auto;
        for option in parts {
            echo = match (backend, option.to_ascii_lowercase().as_str()) {
                (Backend::Phoenix, "echo=auto") => Echo::Auto,
                (Backend::Phoenix, "echo=on") => Echo::On,
                (Backend::Phoenix, "echo=off") => Echo::Off,
                _ => {
                    let allowed = match backend {
                        Backend::Phoenix => "echo=auto, echo=on or echo=off",
                        Backend::Tlp224 => "none",
                    };
                    return Some(Err(bad(format!(
                        "unknown option `{option}` (options: {allowed})"
                    ))));
                }
            };
        }
        Some(Ok(Spec {
            backend,
            path,
            echo,
        }))
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.backend.prefix(), self.path)
    }
}

/// A serial reader, opened.
pub enum SerialReader {
    /// TLP224.
    Tlp224(tlp224::Tlp224Reader),
    /// Raw T=0.
    Phoenix(phoenix::PhoenixReader),
}

impl SerialReader {
    /// The card in the reader now; `NoCard` when there is none.
    pub fn connect(&mut self) -> Result<Box<dyn Card + Send>, Error> {
        match self {
            SerialReader::Tlp224(r) => r.connect(),
            SerialReader::Phoenix(r) => r.connect(),
        }
    }

    /// As a boxed [`Reader`].
    pub fn boxed(self) -> Box<dyn Reader> {
        match self {
            SerialReader::Tlp224(r) => Box::new(r),
            SerialReader::Phoenix(r) => Box::new(r),
        }
    }

    /// As a [`Reader`].
    pub fn as_reader(&mut self) -> &mut dyn Reader {
        match self {
            SerialReader::Tlp224(r) => r,
            SerialReader::Phoenix(r) => r,
        }
    }
}

/// Opens the reader `spec` names at `settings` (the backend's default when `None`); also
/// returns warnings about settings a pseudo-terminal refused.
pub fn open(
    spec: &Spec,
    settings: Option<LineSettings>,
) -> Result<(SerialReader, Vec<String>), Error> {
    let settings = settings.unwrap_or(spec.backend.default_settings());
    let name = spec.to_string();
    let (line, warnings) = line::open(&spec.path, settings).map_err(|e| Error::Transport {
        reader: name.clone(),
        message: format!("cannot open {} at {settings}: {e}", spec.path),
    })?;
    let reader = match spec.backend {
        Backend::Tlp224 => SerialReader::Tlp224(tlp224::Tlp224Reader::new(Box::new(line), name)),
        Backend::Phoenix => SerialReader::Phoenix(phoenix::PhoenixReader::new(
            Box::new(line),
            name,
            settings,
            spec.echo,
        )),
    };
    Ok((reader, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn specs() {
        assert_eq!(Spec::parse("Virtual PCD"), None);
        assert_eq!(Spec::parse("0"), None);
        let s = Spec::parse("tlp224:/dev/ttyS0").unwrap().unwrap();
        assert_eq!(
            (s.backend, s.path.as_str()),
            (Backend::Tlp224, "/dev/ttyS0")
        );
        let s = Spec::parse("phoenix:/dev/ttyUSB0,echo=on")
            .unwrap()
            .unwrap();
        assert_eq!((s.backend, s.echo), (Backend::Phoenix, Echo::On));
        assert!(Spec::parse("tlp224:").unwrap().is_err());
        assert!(Spec::parse("tlp224:/dev/x,echo=on").unwrap().is_err());
        assert!(Spec::parse("phoenix:/dev/x,speed=1").unwrap().is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in ".{0,40}") {
            let _ = Spec::parse(&text);
        }
    }
}
