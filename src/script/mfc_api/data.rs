//! `mfc::` functions that need no card: access bits, their meaning, and sector trailers
//! (protocols.md §4.1, §4.5).
//!
//! A trailer built from a secret key is a secret whose key ranges are secret and whose access
//! bytes are not, so a command writing it masks exactly the keys. Decoding access bits that
//! came from a secret shows nothing of them. Nothing here sends anything.

use rhai::{Array, Blob, Dynamic, EvalAltResult, INT, Map};

use crate::mifare::access::{self, AccessBits, Classification, Known, Triple};
use crate::mifare::classic::TRANSPORT_GPB;
use crate::script::bytes_api::{Bytes, bytes_of};
use crate::script::error::Fault;
use crate::secret::Secret;

type Fallible<T> = Result<T, Box<EvalAltResult>>;

/// `mfc::access_bits(b0, b1, b2, trailer)`: trailer bytes 6–8 for four conditions like `"110"`.
pub(super) fn access_bits(conditions: [(&str, &str); 4]) -> Fallible<Blob> {
    let mut blocks = [Triple::default(); 4];
    for (slot, (name, text)) in blocks.iter_mut().zip(conditions) {
        *slot = text
            .parse()
            .map_err(|e| Fault::failed(format!("mfc::access_bits: {name}: {e}")))?;
    }
    Ok(access::encode(&AccessBits { blocks }).to_vec())
}

/// `mfc::decode_access(bytes)`: `#{ valid, blocks, irreversible, name, gpb, warnings }`.
/// A malformed value has `valid` false, `blocks` and `name` unit, `irreversible` true (the
/// sector would die, §4.5) and the reason as its first warning.
pub(super) fn decode_access(value: &Dynamic) -> Fallible<Map> {
    let what = "mfc::decode_access";
    let input = bytes_of(value, what)?;
    let bytes = &input.bytes;
    let (b678, gpb) = match bytes[..] {
        [a, b, c] => ([a, b, c], None),
        [a, b, c, g] => ([a, b, c], Some(g)),
        [_, _, _, _, _, _, a, b, c, g, _, _, _, _, _, _] => ([a, b, c], Some(g)),
        _ => {
            return Err(Fault::failed(format!(
                "{what}: {}",
                access::DecodeError::Length(bytes.len())
            )));
        }
    };
    let mut map = Map::new();
    let unit = Dynamic::UNIT;
    map.insert(
        "gpb".into(),
        gpb.map_or(unit.clone(), |g| Dynamic::from(g as INT)),
    );
    let (valid, blocks, irreversible, name, warnings) = match access::classify(b678) {
        Classification::Malformed(m) => (false, unit.clone(), true, unit, vec![m.to_string()]),
        Classification::WellFormed {
            access,
            irreversible,
            known,
        } => {
            let blocks: Array = access.blocks.iter().map(|t| t.to_string().into()).collect();
            let name = known.map_or(unit, |k: Known| k.name().into());
            (
                true,
                blocks.into(),
                irreversible,
                name,
                access::warnings(&access),
            )
        }
    };
    map.insert("valid".into(), valid.into());
    map.insert("blocks".into(), blocks);
    map.insert("irreversible".into(), irreversible.into());
    map.insert("name".into(), name);
    let warnings: Array = warnings.into_iter().map(Dynamic::from).collect();
    map.insert("warnings".into(), warnings.into());
    // Access bytes that came from a secret: every field that spells them out is masked;
    // only whether they are valid and irreversible is told (what a script must decide on).
    let used = if bytes.len() == 16 {
        6..10
    } else {
        0..bytes.len()
    };
    if input
        .secret
        .iter()
        .any(|r| r.start < used.end && used.start < r.end)
    {
        if let Some(g) = gpb {
            map.insert("gpb".into(), Dynamic::from(Secret::new(vec![g])));
        }
        for field in ["blocks", "name"] {
            if let Some(value) = map.get_mut(field) {
                if !value.is_unit() {
                    *value = Dynamic::from(super::super::MASKED.to_string());
                }
            }
        }
        let count = map
            .get("warnings")
            .and_then(|w| w.read_lock::<Array>().map(|a| a.len()))
            .unwrap_or(0);
        let masked: Array = (0..count)
            .map(|_| Dynamic::from(super::super::MASKED.to_string()))
            .collect();
        map.insert("warnings".into(), masked.into());
    }
    Ok(map)
}

pub(super) fn key_arg(value: &Dynamic, what: &str) -> Fallible<Bytes> {
    let key = bytes_of(value, what)?;
    if key.bytes.len() != 6 {
        return Err(Fault::failed(format!(
            "{what}: a MIFARE Classic key has 6 bytes, got {}",
            key.bytes.len()
        )));
    }
    Ok(key)
}

fn gpb_arg(value: &Dynamic) -> Fallible<u8> {
    let what = "mfc::trailer: gpb";
    if let Ok(n) = value.as_int() {
        return u8::try_from(n)
            .map_err(|_| Fault::failed(format!("{what}: {n} is not a byte (0 to 255)")));
    }
    match bytes_of(value, what)?.bytes[..] {
        [byte] => Ok(byte),
        ref other => Err(Fault::failed(format!(
            "{what}: expected 1 byte, got {}",
            other.len()
        ))),
    }
}

/// `mfc::trailer(key_a, access[, gpb], key_b)`: the 16 bytes, a secret if either key is one.
pub(super) fn trailer(
    key_a: &Dynamic,
    bits: &Dynamic,
    gpb: Option<&Dynamic>,
    key_b: &Dynamic,
) -> Fallible<Dynamic> {
    let key_a = key_arg(key_a, "mfc::trailer: key_a")?;
    let key_b = key_arg(key_b, "mfc::trailer: key_b")?;
    let bits = bytes_of(bits, "mfc::trailer: access")?.bytes;
    let (b678, gpb) = match (&bits[..], gpb) {
        ([a, b, c], None) => ([*a, *b, *c], TRANSPORT_GPB),
        ([a, b, c, g], None) => ([*a, *b, *c], *g),
        ([a, b, c], Some(gpb)) => ([*a, *b, *c], gpb_arg(gpb)?),
        _ => {
            return Err(Fault::failed(format!(
                "mfc::trailer: access: expected 3 bytes (or 4 with the GPB when no gpb argument is given), got {}",
                bits.len()
            )));
        }
    };
    access::decode(b678).map_err(|e| Fault::failed(format!("mfc::trailer: access: {e}")))?;
    let mut bytes = key_a.bytes.clone();
    bytes.extend_from_slice(&b678);
    bytes.push(gpb);
    bytes.extend_from_slice(&key_b.bytes);
    // Each key keeps its own secret ranges; the access bytes between them are plain.
    let mut secret = key_a.secret.clone();
    secret.extend(key_b.secret.iter().map(|r| r.start + 10..r.end + 10));
    Ok(Bytes { bytes, secret }.into_dynamic())
}
