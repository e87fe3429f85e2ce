//! The PN532 answer parser: status inside, the reader's `63 00` outside; no bytes make it
//! panic.

use proptest::prelude::*;

use super::*;

fn parse(text: &str, command: u8) -> Result<Vec<u8>, AnswerError> {
    parse_answer(&hex::parse(text).unwrap(), command, true)
}

#[test]
fn data_after_a_zero_status_comes_back() {
    assert_eq!(parse("D5 43 00 0A 90 00", 0x42), Ok(vec![0x0A]));
    assert_eq!(parse("D5 41 00 90 90 00", 0x40), Ok(vec![0x90]));
}

#[test]
fn pn532_status_and_reader_refusal_are_told_apart() {
    assert_eq!(parse("D5 43 01 90 00", 0x42), Err(AnswerError::Pn532(0x01)));
    // Bit 6 is "more data", not an error.
    assert_eq!(parse("D5 41 40 01 90 00", 0x40), Ok(vec![0x01]));
    assert_eq!(parse("D5 41 14 90 00", 0x40), Err(AnswerError::Pn532(0x14)));
    assert_eq!(
        parse("63 00", 0x42),
        Err(AnswerError::Reader(StatusWord(0x6300)))
    );
    assert_eq!(parse("D5 41 00 90 00", 0x42), Err(AnswerError::Malformed));
    assert!(
        AnswerError::Pn532(0x14)
            .meaning()
            .contains("authentication")
    );
}

#[test]
fn direct_commands_carry_the_length_of_the_pn532_frame() {
    assert_eq!(
        hex::format(&direct_command(0x42, &[0x1A, 0x00]).unwrap()),
        "FF 00 00 00 04 D4 42 1A 00"
    );
    assert!(direct_command(0x42, &[0; MAX_FRAME + 1]).is_err());
}

proptest! {
    #[test]
    fn any_bytes_parse_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40), command in any::<u8>(), status in any::<bool>()) {
        let _ = parse_answer(&bytes, command, status);
    }

    #[test]
    fn an_ok_answer_gives_its_data_back(data in proptest::collection::vec(any::<u8>(), 0..60), command in any::<u8>()) {
        let mut answer = vec![0xD5, command.wrapping_add(1), 0x00];
        answer.extend_from_slice(&data);
        answer.extend([0x90, 0x00]);
        prop_assert_eq!(parse_answer(&answer, command, true), Ok(data));
    }
}
