//! `apdu-run sim kinds`: every simulated card kind, with the reader it sits in, one line
//! each (or one JSON array with `--json`).
//!
//! The ATR and UID shown are those of a fresh card of the kind, asked of the simulator
//! itself, so they cannot drift from what `--sim KIND` and `sim serve --card KIND` present.
//! What each kind is lives in one exhaustive match, so a new kind cannot be left out.

use serde::Serialize;

use super::info::print_json;
use super::{Exit, Failure, outln};
use crate::apdu::hex;
use crate::sim::vpcd::reported_uid;
use crate::sim::{self, Kind, Simulator};

/// One kind in `sim kinds --json`.
#[derive(Debug, Serialize)]
struct KindJson {
    /// The `--sim` name.
    kind: &'static str,
    /// The card, for people.
    card: &'static str,
    /// The reader it sits in, for people.
    reader: &'static str,
    /// The reader's name as scripts and traces see it.
    reader_name: String,
    /// `T=0` or `T=1`.
    protocol: &'static str,
    /// A fresh card's UID (compact hex), `null` for kinds without one.
    uid: Option<String>,
    /// A fresh card's ATR (compact hex).
    atr: String,
}

/// What a kind is: the card, the reader, the protocol.
fn describe(kind: Kind) -> (&'static str, &'static str, &'static str) {
    const OMNIKEY: &str = "Omnikey 5421-like contactless PC/SC reader";
    match kind {
        Kind::Iso7816 => ("ISO 7816-4 file card", "contact reader", "T=1"),
        Kind::Iso7816T0 => ("ISO 7816-4 file card (61xx/6Cxx)", "contact reader", "T=0"),
        Kind::Classic1K => ("MIFARE Classic 1K", OMNIKEY, "T=1"),
        Kind::Classic4K => ("MIFARE Classic 4K", OMNIKEY, "T=1"),
        Kind::Ultralight => ("MIFARE Ultralight (MF0ICU1)", OMNIKEY, "T=1"),
        Kind::Plus2K => ("MIFARE Plus S 2K in security level 0", OMNIKEY, "T=1"),
        Kind::Plus4K => ("MIFARE Plus S 4K in security level 0", OMNIKEY, "T=1"),
        Kind::Cos => (
            "file card of the source documents' COS, blank",
            "contact reader",
            "T=0",
        ),
        Kind::CosT1 => (
            "file card of the source documents' COS, blank",
            "contact reader",
            "T=1",
        ),
    }
}

fn entry(kind: Kind) -> KindJson {
    let (card, reader, protocol) = describe(kind);
    let mut handle = Simulator::new(kind, &sim::Options::default()).card();
    KindJson {
        kind: kind.name(),
        card,
        reader,
        reader_name: kind.reader_name(),
        protocol,
        uid: reported_uid(&mut *handle).map(|uid| hex::format_compact(&uid)),
        atr: hex::format_compact(handle.atr()),
    }
}

/// `apdu-run sim kinds`.
pub fn kinds(json: bool) -> Result<Exit, Failure> {
    let entries: Vec<KindJson> = Kind::all().iter().copied().map(entry).collect();
    if json {
        return print_json(&entries);
    }
    let width = entries.iter().map(|e| e.kind.len()).max().unwrap_or(0);
    for e in &entries {
        let uid = e
            .uid
            .as_deref()
            .map(|u| format!(", UID {u}"))
            .unwrap_or_default();
        outln!(
            "{:width$}  {} in a simulated {}, {}{uid}, ATR {}",
            e.kind,
            e.card,
            e.reader,
            e.protocol,
            e.atr
        );
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_an_entry_with_its_fresh_card() {
        for &kind in Kind::all() {
            let e = entry(kind);
            assert_eq!(e.kind, kind.name());
            assert!(!e.atr.is_empty());
            // Contactless kinds have a UID, the contact file card has none.
            assert_eq!(e.uid.is_some(), e.reader != "contact reader", "{kind}");
        }
    }
}
