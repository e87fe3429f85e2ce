//! The records of the journal, as they are written: one JSON object per line.
//!
//! Field names are a contract (scripts and MES systems read them): `event` (`header`,
//! `begin`, `end`), `uid` (uppercase hex, `null` for a card without a UID), `row` (1-based
//! data row, `null` without data), `seq` (the card's 1-based sequence number in the batch),
//! `reader`, `verdict` (`ok`, `failed`, `interrupted`; reports also use `skipped`).
//! `identity` is what the batch tells cards apart by: the profile's `identify:` bytes (hex,
//! `uid` then null), the UID, or a simulated card's `SIM-000001`. No record holds a data
//! value or a secret: rows are referred to by number.

use serde::{Deserialize, Serialize};

/// The version of the journal layout written by this build.
pub const VERSION: u32 = 1;

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Record {
    /// The first line: which profile and data the journal belongs to.
    Header(Header),
    /// A card is about to be personalised with a row.
    Begin(Begin),
    /// A card's personalisation ended.
    End(End),
}

/// What a journal belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// [`VERSION`].
    pub version: u32,
    /// The profile's `name:`.
    pub profile: String,
    /// The profile file.
    pub file: String,
    /// The profile's content hash ([`crate::profile::Profile::hash`]).
    pub hash: String,
    /// The data file, if any.
    pub data: Option<String>,
    /// SHA-256 of the data file, if any.
    pub data_hash: Option<String>,
    /// When the journal was started.
    pub time: String,
}

/// A card about to be personalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Begin {
    /// When.
    pub time: String,
    /// The card's sequence number in the batch (kept when the card is resumed).
    pub seq: u64,
    /// The data row (kept when the card is resumed).
    pub row: Option<u64>,
    /// The UID, uppercase hex.
    pub uid: Option<String>,
    /// What the card is told apart by.
    pub identity: String,
    /// The reader it is in.
    pub reader: String,
    /// Its ATR, uppercase hex.
    pub atr: String,
}

/// How a card's personalisation ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct End {
    /// When.
    pub time: String,
    /// As in its `begin`.
    pub seq: u64,
    /// As in its `begin`.
    pub row: Option<u64>,
    /// As in its `begin`.
    pub uid: Option<String>,
    /// As in its `begin`.
    pub identity: String,
    /// As in its `begin`.
    pub reader: String,
    /// `ok`, `failed` or `interrupted`.
    pub verdict: Verdict,
    /// The step that failed or was interrupted.
    pub step: Option<String>,
    /// The status word of that step, if it had one.
    pub sw: Option<String>,
    /// What went wrong (secrets masked).
    pub message: Option<String>,
    /// Time the steps took.
    pub micros: u64,
    /// The card's trace file in the `--trace-file` directory, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

/// What became of a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every step passed: the card is issued.
    Ok,
    /// A step failed: the card is rejected and its row is used up.
    Failed,
    /// The run stopped mid-card (Ctrl-C, card pulled): the card keeps its row and is
    /// resumed when presented again.
    Interrupted,
    /// Not personalised: already done, wrong kind, no row left.
    Skipped,
}

impl Verdict {
    /// The contract spelling.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Failed => "failed",
            Verdict::Interrupted => "interrupted",
            Verdict::Skipped => "skipped",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_use_the_contract_field_names() {
        let end = Record::End(End {
            time: "t".into(),
            seq: 3,
            row: Some(7),
            uid: Some("04A1B2C3D4E5F6".into()),
            identity: "04A1B2C3D4E5F6".into(),
            reader: "r".into(),
            verdict: Verdict::Failed,
            step: Some("write".into()),
            sw: Some("6982".into()),
            message: Some("m".into()),
            micros: 12,
            trace: None,
        });
        let text = serde_json::to_string(&end).unwrap();
        assert_eq!(
            text,
            r#"{"event":"end","time":"t","seq":3,"row":7,"uid":"04A1B2C3D4E5F6","identity":"04A1B2C3D4E5F6","reader":"r","verdict":"failed","step":"write","sw":"6982","message":"m","micros":12}"#
        );
        assert_eq!(serde_json::from_str::<Record>(&text).unwrap(), end);
    }
}
