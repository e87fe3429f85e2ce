//! The Part 3 answer parser: `C0` decides, the outer word does not; no bytes make it panic.

use proptest::prelude::*;

use super::*;

fn parse(text: &str) -> Result<Vec<u8>, AnswerError> {
    parse_answer(&hex::parse(text).unwrap())
}

#[test]
fn the_97_bytes_come_back_when_c0_says_9000() {
    assert_eq!(
        parse("C0 03 00 90 00 92 01 00 96 02 00 00 97 02 0A 0B 90 00"),
        Ok(vec![0x0A, 0x0B])
    );
    assert_eq!(parse("C0 03 00 90 00 90 00"), Ok(vec![]));
}

#[test]
fn an_error_inside_c0_is_an_error_whatever_the_outer_word() {
    assert_eq!(
        parse("C0 03 01 64 01 90 00"),
        Err(AnswerError::Status {
            index: 1,
            sw: StatusWord(0x6401)
        })
    );
    let e = AnswerError::Status {
        index: 1,
        sw: StatusWord(0x6401),
    };
    assert!(
        e.meaning().contains("no response from the card"),
        "{}",
        e.meaning()
    );
}

#[test]
fn rx_errors_and_missing_c0_are_errors() {
    assert_eq!(
        parse("C0 03 00 90 00 96 02 01 00 97 00 90 00"),
        Err(AnswerError::Rx(1))
    );
    assert_eq!(parse("97 01 00 90 00"), Err(AnswerError::Malformed));
    assert_eq!(parse("6A 81"), Err(AnswerError::Malformed));
    assert_eq!(parse(""), Err(AnswerError::Malformed));
}

#[test]
fn transceive_commands_use_long_lengths_past_127() {
    assert_eq!(
        hex::format(&transceive_command(&[0x30, 0x04]).unwrap()),
        "FF C2 00 01 0B 5F 46 04 A0 86 01 00 95 02 30 04 00"
    );
    let long = transceive_command(&[0xAB; 200]).unwrap();
    assert_eq!(&long[..5], &[0xFF, 0xC2, 0x00, 0x01, 210]);
    assert_eq!(&long[12..15], &[0x95, 0x81, 200]);
    assert!(transceive_command(&[]).is_err());
    assert!(transceive_command(&[0; MAX_FRAME + 1]).is_err());
    assert!(transceive_command(&[0; MAX_FRAME]).is_ok());
}

proptest! {
    #[test]
    fn any_bytes_parse_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        let _ = parse_answer(&bytes);
        let _ = parse_dos(&bytes);
    }

    #[test]
    fn an_answer_built_from_any_card_bytes_gives_them_back(
        data in proptest::collection::vec(any::<u8>(), 0..300),
        outer in any::<u16>(),
    ) {
        let mut answer = vec![0xC0, 0x03, 0x00, 0x90, 0x00, 0x92, 0x01, 0x00, 0x96, 0x02, 0x00, 0x00, 0x97];
        match data.len() {
            0..=0x7F => answer.push(data.len() as u8),
            0x80..=0xFF => answer.extend([0x81, data.len() as u8]),
            n => answer.extend([0x82, (n >> 8) as u8, n as u8]),
        }
        answer.extend_from_slice(&data);
        answer.extend(outer.to_be_bytes());
        prop_assert_eq!(parse_answer(&answer), Ok(data));
    }

    #[test]
    fn any_status_but_9000_inside_c0_fails(index in any::<u8>(), sw in any::<u16>()) {
        prop_assume!(sw != 0x9000);
        let [a, b] = sw.to_be_bytes();
        let answer = [0xC0, 0x03, index, a, b, 0x97, 0x01, 0x00, 0x90, 0x00];
        prop_assert_eq!(parse_answer(&answer), Err(AnswerError::Status { index, sw: StatusWord(sw) }));
    }
}
