//! Importers: other tools' APDU logs turned into a dump (`apdu-run replay import`).
//!
//! - `scriptor`: its output, `> 00 A4 …` commands and `< 90 00 : text` responses, the ATR
//!   from `> RESET` / `< OK: 3B …` and the protocol from `Using T=1 protocol`.
//! - `pcscd`: a `pcscd --foreground --debug --apdu` log, `APDU: …` and `SW: …` lines (the
//!   SW line carries the whole response), the ATR from `Card ATR: …`. pcscd logs
//!   SCardTransmit only, and several readers' lines interleave: give a one-reader log.
//! - `pcsc-spy`: the raw lines libpcscspy writes (`TID@…`): each `SCardTransmit` entry is
//!   followed by hCard, protocol, PCI length, send length, the sent bytes, then the
//!   received protocol, PCI length, length and bytes; a call that failed (rv not 0) is
//!   left out. The log holds no ATR.
//!
//! An `atr` given by the caller wins over the log's; a log without one needs it. The
//! importers copy bytes as logged (a log holds secrets in the clear if the tool logged them
//! so) and never panic: any text gives a dump or an error naming the line.

use super::dump::{Dump, Exchange, ParseError};
use crate::apdu::hex;

/// The log formats understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// pcsc-tools scriptor output.
    Scriptor,
    /// `pcscd --debug --apdu` log.
    Pcscd,
    /// Raw pcsc-spy log.
    PcscSpy,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "scriptor" => Ok(Format::Scriptor),
            "pcscd" => Ok(Format::Pcscd),
            "pcsc-spy" => Ok(Format::PcscSpy),
            _ => Err(format!(
                "`{s}` is not a log format (scriptor, pcscd, pcsc-spy)"
            )),
        }
    }
}

fn error(line: usize, reason: impl Into<String>) -> ParseError {
    ParseError {
        line,
        column: 1,
        reason: reason.into(),
    }
}

fn bytes(text: &str, line: usize) -> Result<Vec<u8>, ParseError> {
    hex::parse(text.trim()).map_err(|e| error(line, e.reason()))
}

/// What an importer collects before it is a dump.
#[derive(Default)]
struct Log {
    atr: Option<Vec<u8>>,
    protocol: Option<&'static str>,
    exchanges: Vec<Exchange>,
    /// The command waiting for its response, and its line.
    pending: Option<(Vec<u8>, usize)>,
}

impl Log {
    fn command(&mut self, command: Vec<u8>, line: usize) {
        // A command whose response is not in the log (the call failed) is dropped.
        self.pending = Some((command, line));
    }

    fn response(&mut self, response: Vec<u8>, line: usize) -> Result<(), ParseError> {
        let Some((command, command_line)) = self.pending.take() else {
            return Err(error(line, "a response without a command before it"));
        };
        if command.len() < 4 || response.len() < 2 {
            return Err(error(line, "a command needs 4 bytes and a response 2"));
        }
        self.exchanges.push(Exchange {
            command,
            masked: Vec::new(),
            response,
            line: command_line,
        });
        Ok(())
    }

    fn finish(self, atr: Option<Vec<u8>>, lines: usize) -> Result<Dump, ParseError> {
        let atr = atr
            .or(self.atr)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| error(lines.max(1), "the log names no ATR: give it with --atr HEX"))?;
        let protocol = self
            .protocol
            .unwrap_or_else(|| crate::reader::record::protocol_of(&atr));
        Ok(Dump {
            atr,
            protocol: protocol.to_owned(),
            exchanges: self.exchanges,
        })
    }
}

/// Reads `text` in `format`; `atr` overrides the log's.
pub fn import(format: Format, text: &str, atr: Option<Vec<u8>>) -> Result<Dump, ParseError> {
    let mut log = Log::default();
    match format {
        Format::Scriptor => scriptor(text, &mut log)?,
        Format::Pcscd => pcscd(text, &mut log)?,
        Format::PcscSpy => pcsc_spy(text, &mut log)?,
    }
    log.finish(atr, text.lines().count())
}

fn scriptor(text: &str, log: &mut Log) -> Result<(), ParseError> {
    let mut reset = false;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.trim();
        if let Some(command) = content.strip_prefix('>') {
            let command = command.trim();
            reset = command.eq_ignore_ascii_case("reset");
            if !reset {
                log.command(bytes(command, line)?, line);
            }
        } else if let Some(answer) = content.strip_prefix('<') {
            let answer = answer.trim();
            if reset {
                reset = false;
                if let Some(atr) = answer.strip_prefix("OK:") {
                    log.atr = Some(bytes(atr, line)?);
                }
                continue;
            }
            // `< 90 00 : Normal processing.`: the bytes before the meaning.
            let hex = answer.split(" : ").next().unwrap_or_default();
            log.response(bytes(hex, line)?, line)?;
        } else if content.contains("T=0 protocol") {
            log.protocol = Some("T=0");
        } else if content.contains("T=1 protocol") {
            log.protocol = Some("T=1");
        }
    }
    Ok(())
}

fn pcscd(text: &str, log: &mut Log) -> Result<(), ParseError> {
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if let Some(at) = raw.find("Card ATR: ") {
            log.atr = Some(bytes(&raw[at + "Card ATR: ".len()..], line)?);
        } else if let Some(at) = raw.find("APDU: ") {
            log.command(bytes(&raw[at + "APDU: ".len()..], line)?, line);
        } else if let Some(at) = raw.find("SW: ") {
            log.response(bytes(&raw[at + "SW: ".len()..], line)?, line)?;
        }
    }
    Ok(())
}

fn pcsc_spy(text: &str, log: &mut Log) -> Result<(), ParseError> {
    // The values of the SCardTransmit call being read, from its entry line on.
    let mut call: Option<(Vec<&str>, usize)> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        // Every raw line starts with the thread id and `@`.
        let content = raw.split_once('@').map_or(raw, |(_, rest)| rest).trim();
        if content.starts_with(">|") {
            call = content
                .ends_with("|SCardTransmit")
                .then(|| (Vec::new(), line));
        } else if content.starts_with("<|") {
            let Some((values, start)) = call.take() else {
                continue;
            };
            let rv = content.rsplit('|').next().unwrap_or_default();
            if u64::from_str_radix(rv.trim_start_matches("0x"), 16) != Ok(0) {
                continue;
            }
            let [_, protocol, _, _, sent, _, _, _, received] = values[..] else {
                return Err(error(start, "an SCardTransmit call without its 9 values"));
            };
            if log.protocol.is_none() {
                log.protocol = match protocol {
                    "0x00000001" => Some("T=0"),
                    "0x00000002" => Some("T=1"),
                    _ => None,
                };
            }
            log.command(bytes(sent, start)?, start);
            log.response(bytes(received, line)?, line)?;
        } else if let Some((values, _)) = &mut call {
            values.push(content);
        }
    }
    Ok(())
}

/// A dump's text in the published format (`# Sent` / `# Received` comments, no masks
/// unless the dump has some).
pub fn to_text(dump: &Dump, source: &str) -> String {
    let mut text = format!(
        "# Imported by apdu-run {} from {}\n# ATR: {}\n# PROTOCOL: {}\n#\n",
        env!("CARGO_PKG_VERSION"),
        crate::reader::record::comment_safe(source),
        hex::format_compact(&dump.atr),
        dump.protocol
    );
    for exchange in &dump.exchanges {
        text.push_str("# Sent\n");
        if !exchange.masked.is_empty() {
            let list: Vec<String> = exchange
                .masked
                .iter()
                .map(|r| format!("{}..{}", r.start, r.end))
                .collect();
            text.push_str(&format!("# Masked: {}\n", list.join(" ")));
        }
        text.push_str(&hex::format_compact(&exchange.command));
        text.push_str("\n# Received\n");
        text.push_str(&hex::format_compact(&exchange.response));
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// scriptor's output for a reset and two commands, as pcsc-tools prints it.
    const SCRIPTOR: &str = "Using given card reader: Simulated reader\n\
        Using T=1 protocol\n\
        Reading commands from STDIN\n\
        > RESET\n\
        < OK: 3B 8A 81 31 FE 45 80 68 41 50 44 55 2D 52 55 4E 0D \n\
        > 00 A4 04 00 00\n\
        < 6F 02 84 00 90 00 : Normal processing.\n\
        > 80 CA 9F 7F 00\n\
        < 6A 88 : Wrong parameter(s) P1-P2. Referenced data not found.\n";

    /// A `pcscd --foreground --debug --apdu` log (the lines of debuglog.c).
    const PCSCD: &str = "00000000 ifdhandler.c:1200:IFDHPowerICC() lun: 0, action: PowerUp\n\
        00000042 eventhandler.c:320:EHStatusHandlerThread() Card ATR: 3B 02 14 50 \n\
        00000003 APDU: 00 A4 04 00 00 \n\
        00000012 SW: 6F 02 84 00 90 00 \n\
        00000003 APDU: 80 14 00 00 08 \n\
        00000012 SW: 6B 80 \n";

    /// Raw pcsc-spy lines: one successful SCardTransmit, one that failed.
    const SPY: &str = "7f1a@>|1700000000|000001|SCardTransmit\n\
        7f1a@0x0A000001\n7f1a@0x00000002\n7f1a@0x00000008\n7f1a@0x00000005\n\
        7f1a@00 A4 04 00 00\n\
        7f1a@0x00000002\n7f1a@0x00000008\n7f1a@0x00000002\n7f1a@90 00\n\
        7f1a@<|1700000000|000200|SCardTransmit|0x00000000\n\
        7f1a@>|1700000001|000001|SCardTransmit\n\
        7f1a@0x0A000001\n7f1a@0x00000002\n7f1a@0x00000008\n7f1a@0x00000005\n\
        7f1a@00 B0 00 00 00\n\
        7f1a@0x00000002\n7f1a@0x00000008\n7f1a@0x00000000\n7f1a@NULL\n\
        7f1a@<|1700000001|000100|SCardTransmit|0x80100016\n";

    #[test]
    fn scriptor_output_is_imported() {
        let dump = import(Format::Scriptor, SCRIPTOR, None).unwrap();
        assert_eq!(dump.atr[0], 0x3B);
        assert_eq!(dump.protocol, "T=1");
        assert_eq!(dump.exchanges.len(), 2);
        assert_eq!(dump.exchanges[1].response, [0x6A, 0x88]);
    }

    #[test]
    fn pcscd_logs_are_imported() {
        let dump = import(Format::Pcscd, PCSCD, None).unwrap();
        assert_eq!(dump.atr, [0x3B, 0x02, 0x14, 0x50]);
        assert_eq!(dump.protocol, "T=0");
        assert_eq!(dump.exchanges[1].command, [0x80, 0x14, 0, 0, 8]);
        assert_eq!(dump.exchanges[1].response, [0x6B, 0x80]);
    }

    #[test]
    fn pcsc_spy_logs_are_imported_failed_calls_left_out() {
        let e = import(Format::PcscSpy, SPY, None).unwrap_err();
        assert!(e.reason.contains("--atr"), "{e}");
        let dump = import(Format::PcscSpy, SPY, Some(vec![0x3B, 0x00])).unwrap();
        assert_eq!(dump.protocol, "T=1");
        assert_eq!(dump.exchanges.len(), 1);
        assert_eq!(dump.exchanges[0].response, [0x90, 0x00]);
    }

    #[test]
    fn an_import_reads_back_as_the_same_dump() {
        for (format, text) in [(Format::Scriptor, SCRIPTOR), (Format::Pcscd, PCSCD)] {
            let dump = import(format, text, None).unwrap();
            let again = super::super::dump::parse(&to_text(&dump, "log")).unwrap();
            assert_eq!(again.atr, dump.atr);
            assert_eq!(again.protocol, dump.protocol);
            let pairs = |d: &Dump| -> Vec<(Vec<u8>, Vec<u8>)> {
                d.exchanges
                    .iter()
                    .map(|e| (e.command.clone(), e.response.clone()))
                    .collect()
            };
            assert_eq!(pairs(&again), pairs(&dump));
        }
    }

    proptest! {
        #[test]
        fn any_text_gives_a_dump_or_an_error(text in "\\PC*") {
            for format in [Format::Scriptor, Format::Pcscd, Format::PcscSpy] {
                let _ = import(format, &text, None);
            }
        }
    }
}
