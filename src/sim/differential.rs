//! The differential safety test of the guard: random command sequences, in every wrapping
//! the framing decoder knows and some it does not, sent unarmed through [`Guarded`] to every
//! simulated kind; afterwards the card's own image (not the guard's opinion) must show no
//! irreversible change: no Ultralight lock or OTP bit, no MIFARE Plus commit, no Classic
//! trailer (or WritePerso trailer) that is frozen or dead, no locked COS key or COS file that
//! can never be deleted (the COS card's install key passed first, so the card would comply).
//!
//! Every sequence runs on each simulated reader model (`--sim-reader`), with the PC/SC Part 3
//! session, ACR122U direct transmit, field cycles and ACS value commands among the wrappings.
//!
//! The quick run is part of `cargo test`; `make fuzz-guard` runs the ignored long one, with
//! `GUARD_FUZZ_SEQUENCES` sequences per kind (default 20000) and `GUARD_FUZZ_SEED`. A control
//! runs the same generator armed and checks that the image does show changes, so the check
//! can fail. Also here: one test per guard bypass class of issue 11, through `Guarded` to the
//! simulator.

use super::{Kind, Options, ReaderModel, Simulator};
use crate::apdu::hex;
use crate::mifare::access;
use crate::reader::Card;
use crate::reader::guard::Guarded;

/// A small deterministic generator (xorshift64*): the same seed gives the same sequences.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.byte()).collect()
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Access bytes worth trying: transport, reversible, irreversible, malformed, random.
fn access_bytes(rng: &mut Rng) -> [u8; 3] {
    match rng.below(5) {
        0 => [0xFF, 0x07, 0x80],
        1 => [0x08, 0x77, 0x8F],
        2 => rng.pick(&[[0x07, 0x8F, 0x0F], [0x00, 0xF0, 0xFF], [0x78, 0x77, 0x88]]),
        3 => [0xFF, 0x07, 0x81],
        _ => [rng.byte(), rng.byte(), rng.byte()],
    }
}

fn trailer(rng: &mut Rng) -> Vec<u8> {
    let mut block = vec![0xFF; 16];
    block[6..9].copy_from_slice(&access_bytes(rng));
    block[9] = 0x69;
    block
}

/// A native command (what the chip should receive) likely to matter for `kind`.
fn native(rng: &mut Rng, kind: Kind) -> Vec<u8> {
    match kind {
        Kind::Ultralight => {
            let page = rng.pick(&[2, 3, 3, 2, 4, 5, 0x10]);
            let data = if rng.chance(70) {
                rng.bytes(4)
            } else {
                vec![0; 4]
            };
            match rng.below(4) {
                0 => [vec![0xA2, page], data].concat(),
                1 => [vec![0xA0, page], data, rng.bytes(12)].concat(),
                2 => vec![0xA0, page],
                _ => [data, rng.bytes(12)].concat(),
            }
        }
        Kind::Cos | Kind::CosT1 => {
            let n = rng.pick(&[0u8, 0, 1]);
            match rng.below(5) {
                0 => vec![0x80, 0x5C, 0x03, n],
                1 => vec![0x80, 0x5C, rng.pick(&[0x01, 0x03]), n],
                2 => {
                    // CREATE FILE with a likely delete condition (FF: never).
                    let p1 = rng.pick(&[0x01, 0x38, 0x3F, 0x61]);
                    let p2 = rng.pick(&[0xFF, 0x20, 0x00]);
                    let mut data = vec![0x00, rng.byte() | 1, 0x00, 0x00, 0x00, 0x20, 0x20];
                    if p1 == 0x01 || p1 == 0x61 {
                        data[3] = 0x04;
                    }
                    if p1 == 0x38 {
                        data.extend([0xA0, 0x00, rng.byte()]);
                    }
                    [vec![0x80, 0xF2, p1, p2, data.len() as u8], data].concat()
                }
                3 => vec![
                    rng.pick(&[0x00, 0x80]),
                    0xE4,
                    0x00,
                    0x00,
                    0x02,
                    0x00,
                    rng.byte(),
                ],
                _ => {
                    let len = rng.below(12) + 4;
                    rng.bytes(len)
                }
            }
        }
        Kind::Classic1K | Kind::Classic4K => {
            let block = rng.pick(&[3, 7, 11, 63, 4, 0x8F, 0xFF]);
            match rng.below(2) {
                0 => [vec![0xA0, block], trailer(rng)].concat(),
                _ => trailer(rng),
            }
        }
        _ => {
            let addr = rng.pick(&[
                [0x00, 0x90],
                [0x01, 0x90],
                [0x03, 0x90],
                [0x07, 0x00],
                [0x03, 0x00],
                [0x8F, 0x00],
            ]);
            match rng.below(4) {
                0 => vec![0xAA],
                1 => vec![0xAA, rng.byte()],
                2 => [vec![0xA8, addr[0], addr[1]], trailer(rng)].concat(),
                _ => [vec![0xA8, addr[0], addr[1]], trailer(rng), trailer(rng)].concat(),
            }
        }
    }
}

/// An ISO 14443-4 prologue: any block number, CID and/or NAD, chaining or not.
fn i_block(rng: &mut Rng, chaining: bool, inf: &[u8]) -> Vec<u8> {
    let mut pcb = 0x02 | (rng.byte() & 1);
    if chaining {
        pcb |= 0x10;
    }
    let mut out = vec![pcb];
    if rng.chance(40) {
        out[0] |= 0x08;
        out.push(rng.byte() & 0x0F);
    }
    if rng.chance(30) {
        out[0] |= 0x04;
        out.push(rng.byte());
    }
    out.extend_from_slice(inf);
    out
}

fn transceive(rng: &mut Rng, frame: &[u8]) -> Vec<u8> {
    let timeout = if rng.chance(50) {
        vec![0x00, 0x64]
    } else {
        rng.bytes(2)
    };
    let mut apdu = vec![0xFF, 0xA0, 0x00, 0x05, (6 + frame.len()).min(255) as u8];
    apdu.extend([0x01, 0x00, 0xF3, 0x00]);
    apdu.extend(timeout);
    apdu.extend_from_slice(frame);
    if rng.chance(85) {
        apdu.push(0x00);
    }
    apdu
}

const OPEN: [u8; 8] = [0xFF, 0xA0, 0x00, 0x07, 0x03, 0x01, 0x00, 0x01];
const CLOSE: [u8; 8] = [0xFF, 0xA0, 0x00, 0x07, 0x03, 0x01, 0x00, 0x02];

/// One step: the APDUs that carry a native command in some wrapping, or a reset (`None`).
fn step(rng: &mut Rng, kind: Kind) -> Vec<Option<Vec<u8>>> {
    let command = native(rng, kind);
    let apdu = |bytes: Vec<u8>| vec![Some(bytes)];
    match rng.below(14) {
        0 => vec![None],
        1 => apdu(OPEN.to_vec()),
        2 => apdu(CLOSE.to_vec()),
        3 => apdu(command),
        4 | 5 => apdu(transceive(rng, &command)),
        6 | 7 => {
            let framed = i_block(rng, false, &command);
            apdu(transceive(rng, &framed))
        }
        8 => {
            // Chained at a random point.
            let cut = rng.below(command.len() + 1);
            let first = i_block(rng, true, &command[..cut]);
            let last = i_block(rng, false, &command[cut..]);
            vec![Some(transceive(rng, &first)), Some(transceive(rng, &last))]
        }
        9 => {
            // Storage write of the command's bytes to a likely page or block.
            let address = rng.pick(&[2u8, 3, 7, 11, 63]);
            let data = command.get(..16).unwrap_or(&command).to_vec();
            let mut out = vec![0xFF, 0xD6, 0x00, address, data.len() as u8];
            out.extend(data);
            apdu(out)
        }
        10 => {
            // Other raw channels: PC/SC Part 3 transparent exchange (after a session start,
            // with a field cycle now and then), ACR122U direct transmit, framed or not.
            let frame = if rng.chance(50) {
                i_block(rng, false, &command)
            } else {
                command
            };
            let frame = &frame[..frame.len().min(120)];
            match rng.below(4) {
                0 => {
                    let mut out = vec![0xFF, 0xC2, 0x00, 0x01, (frame.len() + 2) as u8, 0x95];
                    out.push(frame.len() as u8);
                    out.extend_from_slice(frame);
                    let mut steps = vec![Some(hex::parse("FF C2 00 00 02 81 00").unwrap())];
                    if rng.chance(30) {
                        steps.push(Some(hex::parse("FF C2 00 00 04 83 00 84 00").unwrap()));
                    }
                    steps.push(Some(out));
                    steps
                }
                1 | 2 => {
                    let (ins, target) = if rng.chance(50) {
                        (0x40, vec![0x01])
                    } else {
                        (0x42, vec![])
                    };
                    let mut out = vec![0xFF, 0x00, 0x00, 0x00];
                    out.push((frame.len() + 2 + target.len()) as u8);
                    out.extend([0xD4, ins]);
                    out.extend(target);
                    out.extend_from_slice(frame);
                    let mut steps = Vec::new();
                    if rng.chance(30) {
                        steps.push(Some(hex::parse("FF 00 00 00 04 D4 4A 01 00").unwrap()));
                    }
                    steps.push(Some(out));
                    steps
                }
                _ => {
                    // ACS value store to a likely block (a trailer gets a value-block layout).
                    let block = rng.pick(&[3u8, 4, 7, 63]);
                    let mut out = vec![0xFF, 0xD7, 0x00, block, 0x05, rng.pick(&[0u8, 1, 2])];
                    out.extend(rng.bytes(4));
                    apdu(out)
                }
            }
        }
        11 => {
            // Key, authentication and a trailer write for the Classic, harmless elsewhere.
            let block = rng.pick(&[3u8, 7, 11, 63, 0x8F]);
            let mut write = vec![0xFF, 0xD6, 0x00, block, 0x10];
            write.extend(trailer(rng));
            vec![
                Some(hex::parse("FF 82 00 00 06 FF FF FF FF FF FF").unwrap()),
                Some(vec![
                    0xFF, 0x86, 0x00, 0x00, 0x05, 0x01, 0x00, block, 0x60, 0x00,
                ]),
                Some(write),
            ]
        }
        12 => {
            // Extended-length or malformed storage write.
            let mut out = vec![0xFF, 0xD6, 0x00, rng.pick(&[2u8, 3, 7])];
            if rng.chance(50) {
                out.extend([0x00, 0x00, command.len().min(255) as u8]);
            } else {
                out.push(rng.byte());
            }
            out.extend(command);
            apdu(out)
        }
        _ => {
            let len = rng.below(24);
            apdu(rng.bytes(len))
        }
    }
}

/// The card's persistent state as its image shows it.
fn image(sim: &Simulator) -> serde_json::Value {
    let chip = super::card::lock(&sim.chip);
    serde_json::to_value(&*chip).unwrap()
}

fn bytes_of(value: &serde_json::Value) -> Vec<u8> {
    hex::parse(value.as_str().unwrap_or_default()).unwrap_or_default()
}

/// What is irreversible in the card's image, if anything.
fn irreversible_change(kind: Kind, image: &serde_json::Value) -> Option<String> {
    let trailer_bad = |what: &str, block: &[u8]| -> Option<String> {
        let bytes = [block[6], block[7], block[8]];
        match access::decode(bytes) {
            Err(_) => Some(format!("{what}: malformed access bits (dead sector)")),
            Ok(bits) if access::is_irreversible(&bits) => {
                Some(format!("{what}: access bits frozen"))
            }
            Ok(_) => None,
        }
    };
    match kind {
        Kind::Ultralight => {
            let pages: Vec<Vec<u8>> = image["pages"].as_array()?.iter().map(bytes_of).collect();
            if pages[2][2] != 0 || pages[2][3] != 0 {
                return Some(format!(
                    "lock bytes {:02X} {:02X}",
                    pages[2][2], pages[2][3]
                ));
            }
            (pages[3] != [0; 4]).then(|| "OTP bits set".to_string())
        }
        Kind::Classic1K | Kind::Classic4K => {
            let blocks: Vec<Vec<u8>> = image["blocks"].as_array()?.iter().map(bytes_of).collect();
            let layout = if kind == Kind::Classic1K {
                crate::mifare::classic::Layout::OneK
            } else {
                crate::mifare::classic::Layout::FourK
            };
            blocks.iter().enumerate().find_map(|(n, block)| {
                let n = u8::try_from(n).ok()?;
                if layout.is_trailer(n) {
                    trailer_bad(&format!("block {n}"), block)
                } else {
                    None
                }
            })
        }
        Kind::Plus2K | Kind::Plus4K => {
            if image["committed"] == serde_json::json!(true) || image["level"] != 0 {
                return Some("CommitPerso done".to_string());
            }
            let perso = image["perso"].as_object()?;
            perso.iter().find_map(|(addr, data)| {
                let addr = u16::from_str_radix(addr, 16).ok()?;
                let block = u8::try_from(addr).ok()?;
                let layout = crate::mifare::classic::Layout::FourK;
                if !layout.is_trailer(block) {
                    return None;
                }
                let bytes = bytes_of(data);
                // Frozen bits are allowed in SL0 (the commit is guarded); dead ones never.
                access::decode([bytes[6], bytes[7], bytes[8]])
                    .is_err()
                    .then(|| format!("WritePerso block {block}: malformed access bits"))
            })
        }
        Kind::Iso7816 | Kind::Iso7816T0 => None,
        Kind::Cos | Kind::CosT1 => image["files"].as_array()?.iter().find_map(|file| {
            let keys = &file["body"]["keys"];
            if let Some((n, _)) = keys
                .as_object()
                .and_then(|keys| keys.iter().find(|(_, key)| key["locked"] == true))
            {
                return Some(format!("key {n} of file {} locked", file["fid"]));
            }
            (file["access"]["delete"] == "FF"
                && file["body"]["type"] != "keys"
                && file.get("parent").is_some())
            .then(|| format!("file {} can never be deleted", file["fid"]))
        }),
    }
}

/// Runs `sequences` random sequences on fresh cards of `kind`; returns the first irreversible
/// change found (with its seed), and how many commands went through and were refused.
fn run(
    kind: Kind,
    model: ReaderModel,
    seed: u64,
    sequences: usize,
    armed: bool,
) -> (Option<String>, usize, usize) {
    let (mut sent, mut refused) = (0, 0);
    for n in 0..sequences {
        let seq_seed = seed ^ (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut rng = Rng(seq_seed);
        let options = Options {
            reader: model,
            ..Options::default()
        };
        let sim = Simulator::new(kind, &options);
        let mut card = Guarded::new(sim.card(), armed);
        if armed && matches!(kind, Kind::Plus2K | Kind::Plus4K) {
            // The control: the keys CommitPerso needs, so that a commit can happen.
            for addr in ["00 90", "01 90", "03 90"] {
                card.transmit(&hex::parse(&format!("A8 {addr} {}", ["11"; 16].join(" "))).unwrap())
                    .unwrap();
            }
        }
        if matches!(kind, Kind::Cos | Kind::CosT1) {
            // The install key passed, so that the card itself would accept a lock.
            cos_authenticate(&mut card);
        }
        for _ in 0..rng.below(12) + 1 {
            for apdu in step(&mut rng, kind) {
                match apdu {
                    None => {
                        card.reset().unwrap();
                    }
                    Some(apdu) => match card.transmit(&apdu) {
                        Ok(_) => sent += 1,
                        Err(_) => refused += 1,
                    },
                }
            }
        }
        // A last reset: a committed MIFARE Plus shows it only at its next activation.
        card.reset().unwrap();
        if let Some(change) = irreversible_change(kind, &image(&sim)) {
            return (
                Some(format!(
                    "{kind} in {model}: sequence {n} (seed {seq_seed:#x}): {change}"
                )),
                sent,
                refused,
            );
        }
    }
    (None, sent, refused)
}

/// GET CHALLENGE and EXTERNAL AUTHENTICATE with a blank COS card's install key.
fn cos_authenticate(card: &mut Guarded) {
    let challenge = card.transmit(&[0x00, 0x84, 0x00, 0x00, 0x04]).unwrap();
    let challenge = match challenge.as_slice() {
        [random @ .., 0x90, 0x00] => random.to_vec(),
        other => panic!("GET CHALLENGE answered {other:02X?}"),
    };
    let cryptogram = crate::cos::cryptogram(b"APDU-RUN INSTALL", &challenge).unwrap();
    let mut command = vec![0x00, 0x82, 0x00, 0x00, 0x08];
    command.extend(cryptogram);
    assert_eq!(card.transmit(&command).unwrap(), [0x90, 0x00]);
}

const KINDS: [Kind; 9] = [
    Kind::Classic1K,
    Kind::Classic4K,
    Kind::Ultralight,
    Kind::Plus2K,
    Kind::Plus4K,
    Kind::Iso7816,
    Kind::Iso7816T0,
    Kind::Cos,
    Kind::CosT1,
];

fn fuzz(sequences: usize, seed: u64) {
    for &model in ReaderModel::all() {
        for kind in KINDS {
            let (change, sent, refused) = run(kind, model, seed, sequences, false);
            assert_eq!(change, None, "unarmed");
            assert!(
                sent > 0 && refused > 0 || kind.name().starts_with("iso"),
                "{kind} in {model}: {sent} sent, {refused} refused"
            );
        }
    }
}

#[test]
fn unarmed_random_sequences_change_nothing_irreversible() {
    fuzz(150, 0x5EED_0011);
}

/// `make fuzz-guard`: the long run.
#[test]
#[ignore]
fn unarmed_random_sequences_change_nothing_irreversible_long() {
    let count = std::env::var("GUARD_FUZZ_SEQUENCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let seed = std::env::var("GUARD_FUZZ_SEED")
        .ok()
        .and_then(|v| u64::from_str_radix(v.trim_start_matches("0x"), 16).ok())
        .unwrap_or(0x5EED_0011);
    let started = std::time::Instant::now();
    fuzz(count, seed);
    eprintln!(
        "fuzz-guard: {count} sequences per kind and reader model, {} kinds, {} models, seed {seed:#x}, {:.1} s",
        KINDS.len(),
        ReaderModel::all().len(),
        started.elapsed().as_secs_f64()
    );
}

/// The check can fail: armed, the same generator does make irreversible changes.
#[test]
fn armed_the_same_sequences_are_caught_by_the_check() {
    for &model in ReaderModel::all() {
        for kind in [Kind::Classic1K, Kind::Ultralight, Kind::Plus2K, Kind::Cos] {
            let (change, _, _) = run(kind, model, 0x5EED_0011, 300, true);
            assert!(
                change.is_some(),
                "{kind} in {model}: nothing irreversible happened armed"
            );
        }
    }
}

/// Sends `apdus` unarmed through `Guarded` to a fresh card of `kind`, resetting at the end;
/// returns the image and whether any command was refused.
fn unarmed(kind: Kind, apdus: &[&str]) -> (serde_json::Value, Vec<String>) {
    let sim = Simulator::new(kind, &Options::default());
    let mut card = Guarded::new(sim.card(), false);
    let mut refusals = Vec::new();
    for apdu in apdus {
        if let Err(e) = card.transmit(&hex::parse(apdu).unwrap()) {
            refusals.push(e.to_string());
        }
    }
    card.reset().unwrap();
    (image(&sim), refusals)
}

const OPEN_HEX: &str = "FF A0 00 07 03 01 00 01";

/// Issue 11's bypass classes: each reached the card unarmed before the one decoder.
#[test]
fn bypass_classes_are_refused_unarmed() {
    let keys = "A8 00 90 11 11 11 11 11 11 11 11 11 11 11 11 11 11 11 11";
    let plus_keys = [
        keys.to_string(),
        keys.replace("A8 00 90", "A8 01 90"),
        keys.replace("A8 00 90", "A8 03 90"),
    ];
    let zeros = ["00"; 12].join(" ");
    let cases: Vec<(Kind, Vec<String>)> = vec![
        // Other timeout bytes in the transceive header.
        (
            Kind::Ultralight,
            vec![
                OPEN_HEX.into(),
                "FF A0 00 05 0C 01 00 F3 00 00 00 A2 02 00 00 FF FF 00".into(),
            ],
        ),
        (
            Kind::Ultralight,
            vec![
                OPEN_HEX.into(),
                "FF A0 00 05 0C 01 00 F3 00 12 34 A2 03 FF FF FF FF 00".into(),
            ],
        ),
        // The two-frame COMPATIBILITY WRITE.
        (
            Kind::Ultralight,
            vec![
                OPEN_HEX.into(),
                "FF A0 00 05 08 01 00 F3 00 00 64 A0 02 00".into(),
                format!("FF A0 00 05 16 01 00 F3 00 00 64 00 00 FF FF {zeros} 00"),
            ],
        ),
        (
            Kind::Ultralight,
            vec![
                OPEN_HEX.into(),
                "FF A0 00 05 08 01 00 F3 00 00 64 A0 03 00".into(),
                format!("FF A0 00 05 16 01 00 F3 00 00 64 A2 03 00 01 {zeros} 00"),
            ],
        ),
        // CommitPerso in an I-block with a CID, with a NAD, with both, with other timeouts.
        (
            Kind::Plus2K,
            [
                plus_keys.to_vec(),
                vec![
                    OPEN_HEX.into(),
                    "FF A0 00 05 09 01 00 F3 00 00 64 0A 00 AA 00".into(),
                ],
            ]
            .concat(),
        ),
        (
            Kind::Plus2K,
            [
                plus_keys.to_vec(),
                vec![
                    OPEN_HEX.into(),
                    "FF A0 00 05 09 01 00 F3 00 00 64 06 00 AA 00".into(),
                ],
            ]
            .concat(),
        ),
        (
            Kind::Plus4K,
            [
                plus_keys.to_vec(),
                vec![
                    OPEN_HEX.into(),
                    "FF A0 00 05 0A 01 00 F3 00 FF FF 0F 03 00 AA 00".into(),
                ],
            ]
            .concat(),
        ),
        // CommitPerso chained.
        (
            Kind::Plus2K,
            [
                plus_keys.to_vec(),
                vec![
                    OPEN_HEX.into(),
                    "FF A0 00 05 07 01 00 F3 00 00 64 12 00".into(),
                    "FF A0 00 05 08 01 00 F3 00 00 64 03 AA 00".into(),
                ],
            ]
            .concat(),
        ),
    ];
    for (kind, apdus) in cases {
        let apdus: Vec<&str> = apdus.iter().map(String::as_str).collect();
        let (image, refusals) = unarmed(kind, &apdus);
        assert_eq!(irreversible_change(kind, &image), None, "{kind}: {apdus:?}");
        assert!(
            refusals.iter().any(|r| r.contains("--arm-irreversible")),
            "{kind}: {apdus:?}: {refusals:?}"
        );
    }
}

#[test]
fn a_malformed_trailer_by_write_perso_is_forbidden_in_every_wrapping_even_armed() {
    let bad = "FF FF FF FF FF FF FF 07 81 69 FF FF FF FF FF FF";
    let good = "FF FF FF FF FF FF FF 07 80 69 FF FF FF FF FF FF";
    for apdus in [
        vec![format!("A8 07 00 {bad}")],
        vec![
            OPEN_HEX.to_string(),
            format!("FF A0 00 05 1B 01 00 F3 00 00 00 0A 00 A8 07 00 {bad} 00"),
        ],
        vec![
            OPEN_HEX.to_string(),
            format!("FF A0 00 05 1B 01 00 F3 00 00 64 06 00 A8 07 00 {bad} 00"),
        ],
        // EV1 multi-block: the trailer is the second block.
        vec![format!("A8 06 00 {good} {bad}")],
        // Chained: the access bits arrive in the second part.
        vec![
            OPEN_HEX.to_string(),
            "FF A0 00 05 0B 01 00 F3 00 00 64 12 A8 07 00 FF 00".into(),
            format!("FF A0 00 05 16 01 00 F3 00 00 64 03 {} 00", &bad[3..]),
        ],
    ] {
        let sim = Simulator::new(Kind::Plus2K, &Options::default());
        let mut card = Guarded::new(sim.card(), true);
        let mut refused = Vec::new();
        for apdu in &apdus {
            if let Err(e) = card.transmit(&hex::parse(apdu).unwrap()) {
                refused.push(e.to_string());
            }
        }
        assert!(
            refused
                .iter()
                .any(|r| r.contains("sector 1 trailer (block 7) refused")),
            "{apdus:?}: {refused:?}"
        );
        assert_eq!(irreversible_change(Kind::Plus2K, &image(&sim)), None);
    }
}

#[test]
fn refusals_never_show_the_data_bytes() {
    // Lock and OTP bytes, trailer keys: none of them in the message.
    let (_, refusals) = unarmed(
        Kind::Ultralight,
        &["FF D6 00 03 04 5A 17 C3 9E", "FF D6 00 02 04 00 00 F0 0E"],
    );
    assert_eq!(refusals.len(), 2, "{refusals:?}");
    for r in &refusals {
        for secret in ["5A", "17 C3", "9E", "F0 0E"] {
            assert!(!r.contains(secret), "{r}");
        }
    }
    let (_, refusals) = unarmed(
        Kind::Classic1K,
        &["FF D6 00 07 10 A1 B2 C3 D4 E5 F6 07 8F 0F 69 1A 2B 3C 4D 5E 6F"],
    );
    assert_eq!(refusals.len(), 1);
    assert!(refusals[0].contains("07 8F 0F"), "{}", refusals[0]);
    for key in ["A1", "B2 C3", "1A 2B", "5E 6F"] {
        assert!(!refusals[0].contains(key), "{}", refusals[0]);
    }
}

#[test]
fn raw_frames_the_guard_cannot_classify_need_arming() {
    for (kind, frame) in [
        (
            Kind::Ultralight,
            "FF A0 00 05 09 01 00 F3 00 00 64 A5 02 01 00",
        ),
        (Kind::Classic1K, "FF A0 00 05 08 01 00 F3 00 00 64 60 04 00"),
        (Kind::Plus2K, "FF A0 00 05 07 01 00 F3 00 00 64 C2 00"),
        (Kind::Ultralight, "FF C2 00 01 06 5F 46 04 A2 02 00"),
    ] {
        let (_, refusals) = unarmed(kind, &[OPEN_HEX, frame]);
        assert_eq!(refusals.len(), 1, "{kind} {frame}");
        assert!(
            refusals[0].contains("cannot be classified with certainty")
                && refusals[0].contains("--arm-irreversible"),
            "{}",
            refusals[0]
        );
        let sim = Simulator::new(kind, &Options::default());
        let mut armed = Guarded::new(sim.card(), true);
        armed.transmit(&hex::parse(OPEN_HEX).unwrap()).unwrap();
        assert!(
            armed.transmit(&hex::parse(frame).unwrap()).is_ok(),
            "{kind} {frame}"
        );
    }
    // What passes unarmed: READ, harmless WRITE, HALT on an Ultralight.
    let (_, refusals) = unarmed(
        Kind::Ultralight,
        &[
            OPEN_HEX,
            "FF A0 00 05 08 01 00 F3 00 00 64 30 04 00",
            "FF A0 00 05 0C 01 00 F3 00 00 64 A2 05 01 02 03 04 00",
            "FF A0 00 05 08 01 00 F3 00 00 64 50 00 00",
        ],
    );
    assert_eq!(refusals, Vec::<String>::new());
}

/// A reader that opens an Omnikey generic session but refuses its transceive (`6A 81`), in
/// front of a simulated ACR122U: the guard cannot tell whether the frame was carried.
struct HalfOmnikey(Box<dyn Card + Send>);

impl Card for HalfOmnikey {
    fn atr(&self) -> &[u8] {
        self.0.atr()
    }
    fn reader_name(&self) -> &str {
        self.0.reader_name()
    }
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, crate::reader::Error> {
        match command {
            [0xFF, 0xA0, 0x00, 0x07, ..] => Ok(vec![0x90, 0x00]),
            [0xFF, 0xA0, ..] => Ok(vec![0x6A, 0x81]),
            _ => self.0.transmit(command),
        }
    }
    fn reset(&mut self) -> Result<Vec<u8>, crate::reader::Error> {
        self.0.reset()
    }
}

/// A frame-state change the reader did not confirm must not make the guard read later
/// frames in a state the card may not be in: the COMPATIBILITY WRITE announcement is refused,
/// so the next raw frame is the card's own WRITE — to the lock page here — and is judged as
/// such, besides as the data of the announced write.
#[test]
fn an_unconfirmed_frame_state_leaves_both_states_judged() {
    let options = Options {
        reader: ReaderModel::Acr122u,
        ..Options::default()
    };
    let sim = Simulator::new(Kind::Ultralight, &options);
    let mut card = Guarded::new(Box::new(HalfOmnikey(sim.card())), false);
    let send = |card: &mut Guarded, apdu: &str| card.transmit(&hex::parse(apdu).unwrap());
    send(&mut card, OPEN_HEX).unwrap();
    assert_eq!(
        send(&mut card, "FF A0 00 05 08 01 00 F3 00 00 64 A0 04 00").unwrap(),
        [0x6A, 0x81]
    );
    let refused = send(&mut card, "FF 00 00 00 08 D4 42 A2 02 00 00 FF FF");
    assert!(
        matches!(refused, Err(crate::reader::Error::Refused { ref reason }) if reason.contains("lock bits")),
        "{refused:?}"
    );
    assert_eq!(irreversible_change(Kind::Ultralight, &image(&sim)), None);
}
