//! The one-byte status a MIFARE Plus answers to WritePerso, CommitPerso and the SL1/SL3
//! commands (protocols.md §3.2, from proxmark3 `PlusErrors` and the LibLogicalAccess result
//! checker). Meanings only; deciding that a status is a failure is the caller's job.

/// The status of a successful command.
pub const STATUS_OK: u8 = 0x90;

/// Every status byte with its meaning, in the order of §3.2.
pub const STATUSES: &[(u8, &str)] = &[
    (0x90, "OK"),
    (
        0x06,
        "access conditions not fulfilled, block missing or not a value block",
    ),
    (
        0x07,
        "too many read or write commands in the session or transaction",
    ),
    (0x08, "invalid MAC"),
    (
        0x09,
        "block number not valid (also block 0, or beyond 2K on a 2K card)",
    ),
    (0x0A, "block number does not exist"),
    (0x0B, "command not available in the current state"),
    (0x0C, "length error"),
    (0x0F, "general manipulation error"),
    (
        0x00,
        "transfer cannot be granted in the current authentication",
    ),
];

/// The meaning of a status byte, if it is one of §3.2.
pub fn status_meaning(status: u8) -> Option<&'static str> {
    STATUSES
        .iter()
        .find(|(s, _)| *s == status)
        .map(|(_, meaning)| *meaning)
}

/// The status byte with its meaning, for messages: `09 (block number not valid …)`.
pub fn describe_status(status: u8) -> String {
    match status_meaning(status) {
        Some(meaning) => format!("{status:02X} ({meaning})"),
        None => format!("{status:02X} (unknown MIFARE Plus status)"),
    }
}
