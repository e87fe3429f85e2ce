//! Third-party clients against `sim serve` through pcscd: pcsc-tools' `scriptor` runs every
//! shipped `.apdu` file and answers as `apdu-run` does; OpenSC's `opensc-explorer` walks,
//! creates, writes and deletes files on the simulated ISO 7816-4 card; the iso:: helpers
//! and the CPLC work through pcscd as on the simulator.

use std::io::Write;
use std::process::{Command, Stdio};

use super::server::Server;
use super::{READER, stack, traced};
use crate::{apdu_run, shipped_scripts};

/// The answers of a scriptor-style output: the hex of each `<` block (a block wraps after 16
/// bytes and ends at ` : meaning`), and `OK: ATR` for a reset, spaces normalised.
fn answers(stdout: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut open: Option<String> = None;
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("< ") {
            if let Some(done) = open.take() {
                out.push(done);
            }
            if rest.starts_with("OK:") {
                out.push(rest.split_whitespace().collect::<Vec<_>>().join(" "));
                continue;
            }
            open = Some(String::new());
        }
        if let Some(answer) = open.as_mut() {
            let text = line.strip_prefix("< ").unwrap_or(line);
            let (hex, closed) = match text.split_once(" : ") {
                Some((hex, _)) => (hex, true),
                None => (text, false),
            };
            for byte in hex.split_whitespace() {
                if !answer.is_empty() {
                    answer.push(' ');
                }
                answer.push_str(byte);
            }
            if closed {
                out.push(open.take().unwrap_or_default());
            }
        }
    }
    out.extend(open);
    out
}

#[test]
fn answers_are_read_from_both_formats() {
    let scriptor = "00B0810010\n> 00 B0 81 00 10 \n< 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F \n90 00 : Normal processing.\n# expect 9000\nreset\n> RESET\n< OK: 3B 0A 80 \n";
    let ours = "> 00 B0 81 00 10\n< 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F\n90 00 : OK\n> RESET\n< OK: 3B 0A 80\n";
    assert_eq!(answers(scriptor), answers(ours));
    assert_eq!(answers(ours).len(), 2);
    assert!(answers(ours)[0].ends_with("0F 90 00"));
}

#[test]
fn scriptor_and_apdu_run_get_the_same_answers_for_every_shipped_apdu_file() {
    let Some(_stack) = stack() else { return };
    let files: Vec<_> = shipped_scripts()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "apdu"))
        .collect();
    assert!(!files.is_empty());
    for kind in ["iso7816", "iso7816-t0"] {
        for file in &files {
            let file = file.to_str().unwrap();
            let theirs = {
                let _server = Server::present(&["--card", kind]);
                let output = Command::new("scriptor")
                    .args(["-r", READER, file])
                    .output()
                    .expect("scriptor runs (pcsc-tools)");
                let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
                assert!(
                    output.status.success(),
                    "scriptor refused {file} on {kind}: {stdout}{}",
                    String::from_utf8_lossy(&output.stderr)
                );
                answers(&stdout)
            };
            let ours = {
                let _server = Server::present(&["--card", kind]);
                let r = apdu_run(&["--reader", READER, file]);
                assert_eq!(r.code, 0, "{file} on {kind}: {}", r.stderr);
                answers(&r.stdout)
            };
            assert!(!ours.is_empty(), "{file}");
            assert_eq!(theirs, ours, "{file} on {kind}");
        }
    }
}

/// Runs `opensc-explorer` on the virtual reader with `commands` on its standard input.
fn opensc_explorer(commands: &str) -> (bool, String) {
    let mut child = Command::new("opensc-explorer")
        .args(["--reader", READER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("opensc-explorer runs (opensc)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(commands.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn opensc_explorer_walks_creates_updates_and_deletes_files() {
    let Some(_stack) = stack() else { return };
    let _server = Server::present(&["--card", "iso7816"]);
    // Each command on its own line. `ls` needs a card driver with a file listing, which
    // OpenSC's default ISO driver has not: the client itself says "Not supported".
    let (ok, text) = opensc_explorer(
        "ls\n\
         cat 2F00\n\
         cd 5000\n\
         cat 0101\n\
         cd ..\n\
         mkdir 6000 64\n\
         cd 6000\n\
         create 6001 8\n\
         update_binary 6001 0 CAFEBABE\n\
         cat 6001\n\
         rm 6001\n\
         cd ..\n\
         rm 6000\n\
         verify CHV1 31323334\n",
    );
    assert!(ok, "{text}");
    assert!(
        text.contains("Unable to receive file listing: Not supported") || text.contains("2F00"),
        "{text}"
    );
    assert!(text.contains("Code correct."), "{text}");
    assert!(text.contains("Total of 4 bytes written to 6001"), "{text}");
    // EF 2F00 holds 00..0F; the new EF reads back what was written.
    assert!(text.contains("00 01 02 03 04 05 06 07"), "{text}");
    assert!(text.contains("CA FE BA BE 00 00 00 00"), "{text}");
    assert!(!text.to_lowercase().contains("failed"), "{text}");
    assert!(!text.contains("Card returned error"), "{text}");
    // The deleted DF is gone: cd into it fails.
    let (_, text) = opensc_explorer("cd 6000\n");
    assert!(
        text.to_lowercase().contains("not found") || text.contains("6A82"),
        "{text}"
    );
}

#[test]
fn iso_helpers_and_the_cplc_through_pcscd_match_the_simulator() {
    let Some(_stack) = stack() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = crate::script(
        dir.path(),
        "t.rhai",
        "iso::select(\"3F00/5000/0101\");\n\
         let d = iso::read_binary(250, 100); print(d.len()); print(iso::last_sw());\n\
         print(iso::get_challenge(4).len());\n\
         let c = send(\"80 CA 9F 7F 00\", \"9000\"); print(hex(c.data.extract(0, 3)));\n",
    );
    let file = file.to_str().unwrap();
    for kind in ["iso7816", "iso7816-t0"] {
        let _server = Server::present(&["--card", kind]);
        let (served, _) = traced(&["--reader", READER, file]);
        let (simulated, _) = traced(&["--sim", kind, file]);
        assert_eq!(served.code, 0, "{kind}: {}", served.stderr);
        assert_eq!(served.stdout, "50\n25218\n4\n9F7F2A\n", "{kind}");
        assert_eq!(served.stdout, simulated.stdout, "{kind}");
    }
}

#[test]
fn sim_serve_count_gives_each_contact_card_its_own_cplc_serial() {
    use apdu_run::reader::pcsc::{PcscReader, Protocol};
    use apdu_run::reader::{Card, Reader};
    let Some(_stack) = stack() else { return };
    let mut server = Server::start(&["--card", "iso7816-t0", "--count", "3", "--dwell-ms", "5000"]);
    let mut reader = PcscReader::open(READER, Protocol::Any).unwrap();
    let cplc = apdu_run::apdu::Command::new(0x80, 0xCA, 0x9F, 0x7F).with_le(256);
    let mut serials = Vec::new();
    for _ in 1..=3 {
        let mut card = reader
            .next_card(Some(super::NOTICE))
            .unwrap()
            .expect("a card");
        let response = card.exchange(&cplc).unwrap();
        assert!(response.is_ok(), "{response:?}");
        assert_eq!(response.data.len(), 45);
        serials.push(response.data[15..19].to_vec());
        drop(card);
        reader.wait_removed(Some(super::NOTICE)).unwrap();
    }
    let status = server.exit();
    assert!(status.success(), "{status}\n{}", server.stderr());
    serials.sort();
    serials.dedup();
    assert_eq!(serials.len(), 3, "{serials:?}");
}
