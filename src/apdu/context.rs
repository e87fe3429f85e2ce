//! Status words in context: the same two bytes mean different things after different
//! commands, and the command that got a status word decides which table explains it.
//!
//! - [`Context::Pcsc`]: PC/SC Part 3 pseudo-APDUs (CLA `FF`: GET DATA, LOAD KEYS,
//!   GENERAL AUTHENTICATE, READ/UPDATE BINARY of a storage card), answered by the reader;
//!   the Omnikey list of protocols.md §1.3 and the PC/SC Part 3 drivers of §2.2. `63 00` is
//!   "operation failed", an authentication that did not succeed, not an NV-memory warning.
//! - [`Context::Omnikey`]: the Omnikey generic session (`FF A0`), the reader's MIFARE
//!   front-end that passes frames to the chip (§1.1-1.3).
//! - [`Context::Gsm`]: GSM 11.11 (CLA `A0`, SIM cards): `9F xx` response bytes available,
//!   `67 xx` incorrect P3, `6F xx` technical problem, `98 xx` security, `94 xx` file errors.
//! - [`Context::Iso7816`]: ISO 7816-4 (§8.4), every other class, and the fallback for a word a
//!   context's own table does not list.
//!
//! Pure lookup: no I/O. Which context a caller uses is [`Context::of_command`]'s answer for
//! the command the status word answered.

use std::borrow::Cow;
use std::fmt;

use super::StatusWord;

/// The specification that explains a status word, chosen by the command it answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    /// ISO 7816-4 (the default).
    Iso7816,
    /// PC/SC Part 3 pseudo-APDUs to the reader (CLA `FF`, except the generic session).
    Pcsc,
    /// The Omnikey generic session, `FF A0`: the reader's MIFARE front-end.
    Omnikey,
    /// GSM 11.11, CLA `A0`.
    Gsm,
}

/// PC/SC Part 3 storage-card commands where they differ from ISO 7816-4 (protocols.md §1.3,
/// §2.2), sorted.
const PCSC: &[(u16, &str)] = &[
    (
        0x6300,
        "operation failed (PC/SC Part 3: e.g. authentication failed, or the card did not answer)",
    ),
    (0x6400, "no response from the card (timeout)"),
    (0x6581, "illegal block number (outside the card's memory)"),
    (
        0x6981,
        "command incompatible with the block (e.g. not a value block)",
    ),
    (0x6984, "key structure incorrect"),
    (0x6986, "wrong key type"),
    (0x6988, "key number not valid (empty or unknown key slot)"),
    (0x6989, "key length incorrect"),
    (0x6A82, "illegal block number (file not found)"),
    (0x6B00, "wrong P1-P2"),
];

/// The Omnikey generic session (`FF A0`), sorted; anything else reads as in [`PCSC`].
const OMNIKEY: &[(u16, &str)] = &[
    (
        0x6400,
        "the chip did not answer the frame (an ISO 14443-4 card ignores unframed frames: send them directly)",
    ),
    (
        0x6985,
        "conditions of use not satisfied: no generic session open",
    ),
];

/// GSM 11.11 §9.4 fixed entries, sorted; the `xx` forms are in [`gsm`].
const GSM: &[(u16, &str)] = &[
    (0x9000, "normal ending of the command"),
    (0x9240, "memory problem"),
    (
        0x9300,
        "SIM application toolkit busy, command cannot be executed now",
    ),
    (0x9400, "no EF selected"),
    (0x9402, "out of range (invalid address)"),
    (0x9404, "file ID or pattern not found"),
    (0x9408, "file is inconsistent with the command"),
    (0x9802, "no CHV initialised"),
    (
        0x9804,
        "access condition not fulfilled: wrong CHV with at least one attempt left, or authentication failed",
    ),
    (0x9808, "in contradiction with CHV status"),
    (0x9810, "in contradiction with invalidation status"),
    (
        0x9840,
        "CHV or UNBLOCK CHV blocked (unsuccessful verification, no attempt left)",
    ),
    (
        0x9850,
        "increase cannot be performed, maximum value reached",
    ),
];

fn lookup(table: &'static [(u16, &'static str)], sw: StatusWord) -> Option<Cow<'static, str>> {
    table
        .binary_search_by_key(&sw.0, |&(w, _)| w)
        .ok()
        .map(|i| Cow::Borrowed(table[i].1))
}

/// GSM 11.11 words that carry a number, then the fixed ones.
fn gsm(sw: StatusWord) -> Option<Cow<'static, str>> {
    let n = sw.sw2();
    let numbered = match sw.sw1() {
        0x9F => {
            format!("{n} bytes of response data available (GET RESPONSE `A0 C0 00 00 {n:02X}`)")
        }
        0x91 => format!("normal ending, {n} bytes of a proactive SIM command to FETCH"),
        0x9E => format!("SIM data download error, {n} bytes of response data available"),
        0x92 if n & 0xF0 == 0 => {
            format!(
                "command successful after {} internal update retries",
                n & 0x0F
            )
        }
        0x67 if n == 0 => "incorrect parameter P3".to_string(),
        0x67 => format!("incorrect parameter P3: the correct length is {n} (`{n:02X}`)"),
        0x6B => "incorrect parameter P1 or P2".to_string(),
        0x6D => "unknown instruction code".to_string(),
        0x6E => "wrong instruction class".to_string(),
        0x6F => "technical problem with no diagnostic given".to_string(),
        _ => return lookup(GSM, sw),
    };
    Some(Cow::Owned(numbered))
}

impl Context {
    /// Every context, in the order `sw` lists them.
    pub const ALL: [Context; 4] = [
        Context::Iso7816,
        Context::Pcsc,
        Context::Omnikey,
        Context::Gsm,
    ];

    /// The context of a status word that answered `command` (its bytes as sent): CLA `FF`
    /// is the reader's (INS `A0` its generic session), CLA `A0` GSM 11.11, anything else
    /// ISO 7816-4.
    pub fn of_command(command: &[u8]) -> Context {
        match command {
            [0xFF, 0xA0, ..] => Context::Omnikey,
            [0xFF, ..] => Context::Pcsc,
            [0xA0, ..] => Context::Gsm,
            _ => Context::Iso7816,
        }
    }

    /// The name `sw --json` and `--context` use: `iso7816`, `pcsc`, `omnikey`, `gsm`.
    pub fn name(self) -> &'static str {
        match self {
            Context::Iso7816 => "iso7816",
            Context::Pcsc => "pcsc",
            Context::Omnikey => "omnikey",
            Context::Gsm => "gsm",
        }
    }

    /// A line saying what the context covers, for listings.
    pub fn title(self) -> &'static str {
        match self {
            Context::Iso7816 => "ISO 7816-4",
            Context::Pcsc => "PC/SC Part 3 reader command (CLA FF)",
            Context::Omnikey => "Omnikey generic session, MIFARE front-end (FF A0)",
            Context::Gsm => "GSM 11.11 (CLA A0)",
        }
    }

    /// The context named `name` (as [`Context::name`] spells it).
    pub fn from_name(name: &str) -> Option<Context> {
        Context::ALL.into_iter().find(|c| c.name() == name)
    }

    /// What `sw` means in this context's own table, without falling back to another.
    pub fn own_meaning(self, sw: StatusWord) -> Option<Cow<'static, str>> {
        match self {
            Context::Iso7816 => sw.meaning(),
            Context::Pcsc => lookup(PCSC, sw),
            Context::Omnikey => lookup(OMNIKEY, sw),
            Context::Gsm => gsm(sw),
        }
    }

    /// The context this one falls back to for a word its table does not list.
    fn fallback(self) -> Option<Context> {
        match self {
            Context::Iso7816 => None,
            Context::Omnikey => Some(Context::Pcsc),
            Context::Pcsc | Context::Gsm => Some(Context::Iso7816),
        }
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl StatusWord {
    /// What the status word means in `context`, its table first, then the tables it falls
    /// back to (Omnikey → PC/SC → ISO 7816-4, GSM → ISO 7816-4), then the class of the word.
    pub fn describe_in(self, context: Context) -> Cow<'static, str> {
        let mut at = Some(context);
        while let Some(c) = at {
            if let Some(meaning) = c.own_meaning(self) {
                return meaning;
            }
            at = c.fallback();
        }
        self.describe()
    }

    /// What the status word means as the answer to `command` (its bytes as sent).
    pub fn describe_after(self, command: &[u8]) -> Cow<'static, str> {
        self.describe_in(Context::of_command(command))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn after(command: &[u8], sw: u16) -> String {
        StatusWord(sw).describe_after(command).into_owned()
    }

    #[test]
    fn the_command_decides_what_a_status_word_means() {
        let authenticate = [0xFF, 0x86, 0x00, 0x00, 0x05, 0x01, 0x00, 0x04, 0x60, 0x00];
        let read = [0x00, 0xB0, 0x00, 0x00, 0x10];
        assert!(after(&authenticate, 0x6300).starts_with("operation failed"));
        assert!(after(&authenticate, 0x6300).contains("authentication failed"));
        assert_eq!(
            after(&read, 0x6300),
            "warning, NV memory changed, no information"
        );
        let session = [0xFF, 0xA0, 0x00, 0x05, 0x08];
        assert!(after(&session, 0x6400).starts_with("the chip did not answer the frame"));
        // Words the generic session's table lacks read as the reader's, then ISO's.
        assert_eq!(after(&session, 0x6986), "wrong key type");
        assert_eq!(after(&session, 0x9000), "OK");

        let gsm_select = [0xA0, 0xA4, 0x00, 0x00, 0x02, 0x7F, 0x20];
        assert_eq!(
            after(&gsm_select, 0x9F10),
            "16 bytes of response data available (GET RESPONSE `A0 C0 00 00 10`)"
        );
        assert_eq!(
            after(&gsm_select, 0x6708),
            "incorrect parameter P3: the correct length is 8 (`08`)"
        );
        assert_eq!(
            after(&gsm_select, 0x6F12),
            "technical problem with no diagnostic given"
        );
        assert!(after(&gsm_select, 0x9804).starts_with("access condition not fulfilled"));
        assert_eq!(after(&gsm_select, 0x9404), "file ID or pattern not found");
        // The same words after an ISO command.
        assert_eq!(after(&read, 0x9F10), "proprietary status word");
        assert_eq!(after(&read, 0x6708), "checking error (unknown status word)");
        assert_eq!(after(&read, 0x6F12), "checking error (unknown status word)");
        assert_eq!(after(&[], 0x6A82), "file or application not found");
    }

    #[test]
    fn tables_are_sorted_and_names_round_trip() {
        for table in [PCSC, OMNIKEY, GSM] {
            assert!(table.windows(2).all(|w| w[0].0 < w[1].0));
        }
        for context in Context::ALL {
            assert_eq!(Context::from_name(context.name()), Some(context));
        }
        assert_eq!(Context::from_name("x"), None);
    }

    proptest! {
        #[test]
        fn every_word_after_any_command_has_a_meaning(
            command in proptest::collection::vec(any::<u8>(), 0..6),
            sw in any::<u16>(),
        ) {
            prop_assert!(!after(&command, sw).is_empty());
        }
    }
}
