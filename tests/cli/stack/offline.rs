//! `sim serve` without pcscd: argument checks, no vpcd, and a fake vpcd sending a bad frame.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use super::server::{Server, wait_until};
use crate::apdu_run;

#[test]
fn serve_refuses_bad_arguments_with_exit_2() {
    let cases: [(&[&str], &str); 6] = [
        (&["--card", "classic-9k"], "classic-9k"),
        (
            &["--card", "iso7816", "--count", "3", "--state", "x.json"],
            "--state keeps one card; it cannot be combined with --count 3",
        ),
        (
            &["--card", "iso7816", "--count", "2", "--sim-uid", "04112233"],
            "--sim-uid names one card's UID; with --count 2 each card gets its own",
        ),
        (
            &["--card", "iso7816", "--sim-uid", "04A"],
            "--sim-uid `04A`",
        ),
        (
            &["--card", "iso7816", "--vpcd", "35963"],
            "expected HOST:PORT",
        ),
        (&["--card", "iso7816", "--count", "0"], "--count"),
    ];
    for (args, message) in cases {
        let mut all = vec!["sim", "serve"];
        all.extend_from_slice(args);
        let r = apdu_run(&all);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(message), "{args:?}: {}", r.stderr);
    }
}

/// An address nothing listens on.
fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

#[test]
fn serve_without_vpcd_exits_3_with_one_line() {
    let address = closed_port();
    let r = apdu_run(&["sim", "serve", "--card", "iso7816", "--vpcd", &address]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr
            .starts_with(&format!("error: cannot reach vpcd at `{address}`: ")),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
}

#[test]
fn serve_logs_a_malformed_frame_and_reconnects() {
    let vpcd = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = vpcd.local_addr().unwrap().to_string();
    let server = Server::off_stack(&["--card", "iso7816", "--vpcd", &address]);
    let (mut first, _) = vpcd.accept().unwrap();
    // A frame announcing 16 bytes, 3 of which arrive before the connection closes.
    first.write_all(&[0x00, 0x10, 0x00, 0xA4, 0x00]).unwrap();
    drop(first);
    let (mut second, _) = vpcd.accept().unwrap();
    second
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    second.write_all(&[0x00, 0x01, 0xAA]).unwrap();
    let mut reply = [0; 4];
    second.read_exact(&mut reply).unwrap();
    assert_eq!(reply[..2], [0x00, 0x02], "one-byte commands are answered");
    drop(second);
    drop(vpcd);
    wait_until("the log line", || {
        server.stderr().contains("malformed frame")
    });
    let stderr = server.stderr();
    assert!(
        stderr.contains(
            "card 1: malformed frame from vpcd (a frame announced 16 payload bytes, but the \
             connection closed after 5 bytes of it); reconnecting\n"
        ),
        "{stderr}"
    );
}
