//! `readers` and `sw`: the subcommands that explain rather than run.

use anyhow::anyhow;

use super::exit::invalid;
use super::{Exit, Failure, outln};
use crate::apdu::{StatusWord, hex};
use crate::reader::pcsc;

/// `apdu-run readers`: one line (or JSON object) per PC/SC reader.
pub fn readers(json: bool) -> Result<Exit, Failure> {
    let readers = pcsc::list_readers().map_err(|e| Failure::new(Exit::Transport, e))?;
    if readers.is_empty() && !json {
        outln!("no readers");
    }
    for reader in readers {
        let atr = reader.atr.as_deref();
        if json {
            let value = serde_json::json!({
                "index": reader.index,
                "name": reader.name,
                "state": reader.state.to_string(),
                "atr": atr.map(hex::format_compact),
            });
            outln!("{value}");
        } else {
            let atr = atr
                .map(|a| format!("  ATR {}", hex::format(a)))
                .unwrap_or_default();
            outln!("{}  {}  {}{atr}", reader.index, reader.name, reader.state);
        }
    }
    Ok(Exit::Ok)
}

/// `apdu-run sw HEX`: the meaning of a status word.
pub fn sw(text: &str) -> Result<Exit, Failure> {
    let digits = text
        .trim()
        .trim_start_matches("0x")
        .trim_start_matches("0X");
    let bytes = hex::parse(digits).map_err(|e| invalid(anyhow!("status word `{text}`: {e}")))?;
    let [sw1, sw2] = bytes[..] else {
        return Err(invalid(anyhow!(
            "status word `{text}`: expected 2 bytes (4 hex digits), got {}",
            bytes.len()
        )));
    };
    let sw = StatusWord::new(sw1, sw2);
    outln!("{sw}  {}", sw.describe());
    Ok(Exit::Ok)
}
