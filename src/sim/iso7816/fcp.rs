//! FCP templates (ISO/IEC 7816-4, tag `62`): written by SELECT, read by CREATE FILE.
//!
//! SELECT answers `62 L` followed by, in this order:
//!
//! * `82` file descriptor: `38` DF, `01` transparent EF (`01 41` write-OR, `01 61`
//!   write-AND: the data coding byte, bits 7-6), `02 21 00 RL NR` linear fixed EF
//!   (data coding `21`, 2-byte record length, number of records the file holds);
//! * `83` file identifier;
//! * `84` DF name (DFs that have one);
//! * `80` size in bytes, 2 bytes (transparent EFs);
//! * `88` SFI in bits 8-4 (EFs that have one);
//! * `86` access conditions in this card's own 2-byte encoding: read, then update (for a
//!   DF: create files in it); each `00` always, `01`/`02` after VERIFY of that reference,
//!   `FF` never;
//! * `8A` life cycle: `05` operational, activated.
//!
//! CREATE FILE takes the same template, or the same fields in an FCI template (tag `6F`, as
//! OpenSC sends it). `82` and `83` are required; the shareable bit (`40`) of the descriptor
//! is ignored; `80` (or `81`) is
//! required for a transparent EF, whose descriptor's data coding byte (if any) sets how WRITE
//! BINARY combines (bits 7-6 `10` OR, `11` AND, else replace); `82` for a linear fixed EF may give the record length and
//! count as 1+1, 2+1 or 2+2 bytes; `86` defaults to `00 00`; `88` absent or empty means no
//! SFI; `8A` and unknown tags are ignored. This file only encodes and decodes: whether the
//! file may be created is `create.rs`'s decision.

use super::fs::{Body, Condition, File, MAX_EF_SIZE, MAX_NAME_LEN, MAX_RECORDS, Tree};
use super::sw;
use crate::apdu::StatusWord;
use crate::cos::WriteMode;

/// The data coding byte written for record EFs: the value commonly seen on cards (data unit
/// of one byte); this card does not interpret it.
const DATA_CODING: u8 = 0x21;

/// Appends one TLV with a one-byte tag.
fn put(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    out.push(tag);
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len <= 0xFF {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.push(0x82);
        out.extend_from_slice(&(len.min(0xFFFF) as u16).to_be_bytes());
    }
    out.extend_from_slice(value);
}

/// The FCP template of the file at `index`.
pub(super) fn encode(tree: &Tree, index: usize) -> Vec<u8> {
    let file = tree.file(index);
    let mut fields = Vec::with_capacity(48);
    match &file.body {
        Body::Df => put(&mut fields, 0x82, &[0x38]),
        Body::Transparent { mode, .. } if mode.is_replace() => put(&mut fields, 0x82, &[0x01]),
        Body::Transparent { mode, .. } => put(&mut fields, 0x82, &[0x01, mode.data_coding()]),
        Body::LinearFixed {
            record_len,
            max_records,
            ..
        } => put(
            &mut fields,
            0x82,
            &[0x02, DATA_CODING, 0x00, *record_len, *max_records],
        ),
    }
    put(&mut fields, 0x83, &file.fid.to_be_bytes());
    if let Some(name) = &file.name {
        put(&mut fields, 0x84, name);
    }
    if let Body::Transparent { data, .. } = &file.body {
        put(&mut fields, 0x80, &(data.len() as u16).to_be_bytes());
    }
    if let Some(sfi) = file.sfi {
        put(&mut fields, 0x88, &[sfi << 3]);
    }
    put(
        &mut fields,
        0x86,
        &[file.read.to_byte(), file.update.to_byte()],
    );
    put(&mut fields, 0x8A, &[0x05]);
    let mut out = Vec::with_capacity(fields.len() + 4);
    put(&mut out, 0x62, &fields);
    out
}

/// Splits one BER-TLV off the front of `data`: (tag, value, rest). Tags up to 3 bytes,
/// lengths in short form or `81 xx` / `82 xx xx`.
fn next_tlv(data: &[u8]) -> Result<(u32, &[u8], &[u8]), StatusWord> {
    let (&first, mut rest) = data.split_first().ok_or(sw::BAD_TLV)?;
    let mut tag = u32::from(first);
    if first & 0x1F == 0x1F {
        loop {
            let (&byte, after) = rest.split_first().ok_or(sw::BAD_TLV)?;
            rest = after;
            tag = tag << 8 | u32::from(byte);
            if byte & 0x80 == 0 {
                break;
            }
            if tag > 0xFFFF {
                return Err(sw::BAD_TLV);
            }
        }
    }
    let (len, rest) = match rest {
        [n @ 0..=0x7F, rest @ ..] => (*n as usize, rest),
        [0x81, n, rest @ ..] => (*n as usize, rest),
        [0x82, hi, lo, rest @ ..] => (u16::from_be_bytes([*hi, *lo]) as usize, rest),
        _ => return Err(sw::BAD_TLV),
    };
    if rest.len() < len {
        return Err(sw::BAD_TLV);
    }
    let (value, rest) = rest.split_at(len);
    Ok((tag, value, rest))
}

/// A big-endian number of 1 to 4 bytes.
fn number(value: &[u8]) -> Result<usize, StatusWord> {
    if value.is_empty() || value.len() > 4 {
        return Err(sw::INCORRECT_DATA);
    }
    Ok(value.iter().fold(0, |n, &b| n << 8 | b as usize))
}

/// Reads a CREATE FILE template into a file with no parent yet (see the module docs).
pub(super) fn parse_create(data: &[u8]) -> Result<File, StatusWord> {
    let (tag, mut fields, rest) = next_tlv(data)?;
    if tag != 0x62 && tag != 0x6F {
        return Err(sw::INCORRECT_DATA);
    }
    if !rest.is_empty() {
        return Err(sw::BAD_TLV);
    }
    let (mut descriptor, mut fid, mut size, mut name, mut sfi) = (None, None, None, None, None);
    let mut access = (Condition::Always, Condition::Always);
    while !fields.is_empty() {
        let (tag, value, rest) = next_tlv(fields)?;
        fields = rest;
        match (tag, value) {
            (0x82, _) => descriptor = Some(value),
            (0x83, [hi, lo]) => fid = Some(u16::from_be_bytes([*hi, *lo])),
            (0x80 | 0x81, _) => size = Some(number(value)?),
            (0x84, _) if !value.is_empty() && value.len() <= MAX_NAME_LEN => {
                name = Some(value.to_vec());
            }
            (0x88, []) => sfi = None,
            (0x88, [byte]) if byte & 0x07 == 0 && (1..=30).contains(&(byte >> 3)) => {
                sfi = Some(byte >> 3);
            }
            (0x86, [read, update]) => {
                let read = Condition::from_byte(*read).ok_or(sw::INCORRECT_DATA)?;
                let update = Condition::from_byte(*update).ok_or(sw::INCORRECT_DATA)?;
                access = (read, update);
            }
            (0x83 | 0x84 | 0x88 | 0x86, _) => return Err(sw::INCORRECT_DATA),
            // Life cycle (8A) and proprietary tags do not change what this card stores.
            _ => {}
        }
    }
    let descriptor = descriptor.ok_or(sw::INCORRECT_DATA)?;
    // Bit 7 of the descriptor byte only says whether the file is shareable.
    let mut unshared = descriptor.to_vec();
    if let Some(first) = unshared.first_mut() {
        *first &= !0x40;
    }
    let body = match unshared.as_slice() {
        [0x38] | [0x38, _] => Body::Df,
        [0x01] | [0x01, _] => {
            let mode = unshared
                .get(1)
                .map_or(WriteMode::Replace, |&dc| WriteMode::from_data_coding(dc));
            let size = size.ok_or(sw::INCORRECT_DATA)?;
            if size == 0 {
                return Err(sw::INCORRECT_DATA);
            }
            if size > MAX_EF_SIZE {
                return Err(sw::NOT_ENOUGH_MEMORY);
            }
            Body::Transparent {
                data: vec![mode.erased(); size],
                mode,
            }
        }
        [0x02, _, len, count] => linear(*len as usize, *count as usize)?,
        [0x02, _, hi, lo, count] => linear(number(&[*hi, *lo])?, *count as usize)?,
        [0x02, _, hi, lo, c1, c2] => linear(number(&[*hi, *lo])?, number(&[*c1, *c2])?)?,
        _ => return Err(sw::INCORRECT_DATA),
    };
    let is_df = body == Body::Df;
    if (is_df && sfi.is_some()) || (!is_df && name.is_some()) {
        return Err(sw::INCORRECT_DATA);
    }
    Ok(File {
        fid: fid.ok_or(sw::INCORRECT_DATA)?,
        parent: None,
        name,
        sfi,
        read: access.0,
        update: access.1,
        body,
    })
}

/// An empty linear fixed EF, if the record length and count are in range.
fn linear(record_len: usize, max_records: usize) -> Result<Body, StatusWord> {
    if !(1..=255).contains(&record_len) || !(1..=MAX_RECORDS as usize).contains(&max_records) {
        return Err(sw::INCORRECT_DATA);
    }
    Ok(Body::LinearFixed {
        record_len: record_len as u8,
        max_records: max_records as u8,
        records: Vec::new(),
    })
}
