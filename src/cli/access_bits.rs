//! `apdu-run access-bits decode HEX` and `apdu-run access-bits encode B0 B1 B2 T`: MIFARE
//! Classic access bits explained for people, or as one JSON object (protocols.md §4).
//!
//! Both print the same report: the bytes, the conditions per block group with what each key
//! may do (after the key-B-readable rule), notes and warnings. Malformed bytes are reported
//! and exit 1; arguments that are not access bits at all (bad hex, wrong length, a condition
//! that is not three bits) exit 2. The clap declarations live here rather than in `args.rs`
//! so that this subcommand is one file. Nothing here talks to a card.

use anyhow::anyhow;
use clap::{Args, Subcommand};
use serde::Serialize;

use super::colour::{self, Stream, Tone};
use super::exit::invalid;
use super::{Exit, Failure, outln};
use crate::apdu::hex;
use crate::mifare::access::{
    AccessBits, Classification, Explanation, Known, Permission, Triple, classify, data_use, encode,
    explain, warnings,
};

/// Options of `access-bits`.
#[derive(Debug, Args)]
pub struct AccessBitsArgs {
    /// Decode or encode.
    #[command(subcommand)]
    pub action: Action,
}

/// The two directions.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Explain sector trailer bytes 6-8, or 6-9 with the general purpose byte (`08778F69`).
    Decode {
        /// 3 or 4 bytes of hex (`08778F69`, `08 77 8F 69`).
        #[arg(value_name = "HEX", num_args = 1.., required = true)]
        hex: Vec<String>,
        /// Print one JSON object instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Encode the conditions C1C2C3 of data groups 0, 1, 2 and the trailer (`110 110 110 011`).
    Encode {
        /// Condition of data block 0 (group 0 of a 4K large sector), like `110`.
        #[arg(value_name = "B0")]
        b0: String,
        /// Condition of data block 1 (group 1).
        #[arg(value_name = "B1")]
        b1: String,
        /// Condition of data block 2 (group 2).
        #[arg(value_name = "B2")]
        b2: String,
        /// Condition of the sector trailer.
        #[arg(value_name = "T")]
        trailer: String,
        /// The general purpose byte (trailer byte 9); `69` is the transport value.
        #[arg(long, value_name = "HEX", default_value = "69")]
        gpb: String,
        /// Print one JSON object instead of tables.
        #[arg(long)]
        json: bool,
    },
}

/// The report, in the order its JSON form lists the fields.
#[derive(Debug, Serialize)]
struct Report {
    /// Bytes 6-8 as compact hex.
    bytes: String,
    /// Byte 9 as compact hex, when given.
    gpb: Option<String>,
    valid: bool,
    /// `["110", "110", "110", "011"]`; `null` when malformed.
    blocks: Option<Vec<String>>,
    /// Whether writing these bytes can never be undone: the access bits can never be written
    /// again, or (malformed) the sector dies (protocols.md §4.5).
    irreversible: bool,
    name: Option<&'static str>,
    warnings: Vec<String>,
    /// Bytes 6-8 (and 9), for the text form.
    #[serde(skip)]
    raw: Vec<u8>,
    /// What the conditions allow, when they are valid.
    #[serde(skip)]
    explanation: Option<Explanation>,
    /// For malformed bytes: what each copy says.
    #[serde(skip)]
    copies: Vec<String>,
}

fn report(bytes: [u8; 3], gpb: Option<u8>) -> Report {
    let mut r = Report {
        bytes: hex::format_compact(&bytes),
        gpb: gpb.map(|g| format!("{g:02X}")),
        valid: false,
        blocks: None,
        irreversible: true,
        name: None,
        warnings: Vec::new(),
        raw: bytes.iter().copied().chain(gpb).collect(),
        explanation: None,
        copies: Vec::new(),
    };
    match classify(bytes) {
        Classification::Malformed(m) => {
            r.warnings.push(m.to_string());
            r.warnings.push(
                "a sector with these access bits is dead for ever; the guard never writes them"
                    .into(),
            );
            r.copies.push(format!("plain copies:    {}", m.plain()));
            r.copies.push(format!("inverted copies: {}", m.inverted()));
        }
        Classification::WellFormed {
            access,
            irreversible,
            known,
        } => {
            r.valid = true;
            r.blocks = Some(access.blocks.iter().map(Triple::to_string).collect());
            r.irreversible = irreversible;
            r.name = known.map(Known::name);
            r.warnings = warnings(&access);
            r.explanation = Some(explain(&access));
        }
    }
    r
}

/// Pads each column to its widest cell, two spaces apart.
fn table(rows: &[Vec<String>]) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, &w)| format!("{cell:w$}"))
                .collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect()
}

fn row(first: &[String], permissions: &[(&str, Permission)], last: &[&str]) -> Vec<String> {
    let mut row = first.to_vec();
    row.extend(permissions.iter().map(|(_, p)| p.to_string()));
    row.extend(last.iter().map(|s| (*s).to_string()));
    row
}

/// The two tables: data groups, then the trailer.
fn tables(e: &Explanation) -> Vec<String> {
    let header = |cells: &[&str]| cells.iter().map(|c| (*c).to_string()).collect::<Vec<_>>();
    let mut rows = vec![header(&[
        "block",
        "C1C2C3",
        "read",
        "write",
        "increment",
        "decrement/transfer/restore",
        "typical use",
    ])];
    for (g, p) in e.data.iter().enumerate() {
        let t = e.access.blocks[g];
        rows.push(row(
            &[g.to_string(), t.to_string()],
            &p.operations(),
            &[data_use(t)],
        ));
    }
    let mut out = table(&rows);
    out.push(String::new());
    let t = e.access.trailer();
    let rows = [
        header(&[
            "trailer",
            "C1C2C3",
            "key A read",
            "key A write",
            "access bits read",
            "access bits write",
            "key B read",
            "key B write",
        ]),
        row(&["3".into(), t.to_string()], &e.trailer.operations(), &[]),
    ];
    out.extend(table(&rows));
    out
}

fn print_text(r: &Report) {
    let range = if r.gpb.is_some() { "6-9" } else { "6-8" };
    outln!("bytes {range}: {}", hex::format(&r.raw));
    let Some(e) = &r.explanation else {
        // Malformed: the reason, what each copy says, then the consequence.
        if let Some((reason, rest)) = r.warnings.split_first() {
            outln!("{reason}");
            r.copies.iter().chain(rest).for_each(|l| outln!("{l}"));
        }
        return;
    };
    let access = e.access;
    match Known::identify(&access) {
        Some(k) => outln!("conditions: {access} ({}: {})", k.name(), k.description()),
        None => outln!("conditions: {access}"),
    }
    outln!();
    tables(e).iter().for_each(|l| outln!("{l}"));
    outln!();
    if e.key_b_readable {
        outln!(
            "note: key B is readable (trailer {}), so it cannot authenticate; the tables show what \
             is left (\"key A or B\" became key A, \"key B\" became never)",
            access.trailer()
        );
    }
    outln!(
        "note: in the 16-block sectors of a 4K card (32-39), groups 0, 1, 2 are blocks 0-4, 5-9, \
         10-14 and the trailer is block 15"
    );
    let irreversible = if r.irreversible {
        colour::paint(Stream::Stdout, Tone::Bad, "yes")
    } else {
        colour::paint(Stream::Stdout, Tone::Good, "no")
    };
    outln!("irreversible: {irreversible}");
    let warning = colour::paint(Stream::Stdout, Tone::Warn, "warning:");
    r.warnings.iter().for_each(|w| outln!("{warning} {w}"));
}

fn print(r: &Report, json: bool) -> Result<Exit, Failure> {
    if json {
        let text = serde_json::to_string(r).map_err(|e| Failure::new(Exit::Failed, e))?;
        outln!("{text}");
    } else {
        print_text(r);
    }
    Ok(if r.valid { Exit::Ok } else { Exit::Failed })
}

fn decode(text: &str, json: bool) -> Result<Exit, Failure> {
    let bytes = hex::parse(text).map_err(|e| invalid(anyhow!("access bits `{text}`: {e}")))?;
    let (access, gpb) = match bytes[..] {
        [b6, b7, b8] => ([b6, b7, b8], None),
        [b6, b7, b8, gpb] => ([b6, b7, b8], Some(gpb)),
        _ => {
            return Err(invalid(anyhow!(
                "access bits `{text}`: expected 3 bytes (trailer bytes 6-8) or 4 (with the \
                 general purpose byte), got {}",
                bytes.len()
            )));
        }
    };
    print(&report(access, gpb), json)
}

fn encode_args(conditions: [(&str, &str); 4], gpb: &str, json: bool) -> Result<Exit, Failure> {
    let mut blocks = [Triple::default(); 4];
    for (slot, (name, text)) in blocks.iter_mut().zip(conditions) {
        *slot = text.parse().map_err(|e| invalid(anyhow!("{name}: {e}")))?;
    }
    let gpb_bytes = hex::parse(gpb).map_err(|e| invalid(anyhow!("--gpb `{gpb}`: {e}")))?;
    let [gpb] = gpb_bytes[..] else {
        return Err(invalid(anyhow!(
            "--gpb `{gpb}`: expected 1 byte, got {}",
            gpb_bytes.len()
        )));
    };
    let r = report(encode(&AccessBits { blocks }), Some(gpb));
    if !json {
        // The bytes alone first, for copying into a trailer or a script.
        outln!("{}", hex::format(&r.raw));
    }
    print(&r, json)
}

/// `apdu-run access-bits …`.
pub fn run(args: AccessBitsArgs) -> Result<Exit, Failure> {
    match args.action {
        Action::Decode { hex, json } => decode(&hex.join(" "), json),
        Action::Encode {
            b0,
            b1,
            b2,
            trailer,
            gpb,
            json,
        } => encode_args(
            [("B0", &b0), ("B1", &b1), ("B2", &b2), ("T", &trailer)],
            &gpb,
            json,
        ),
    }
}
