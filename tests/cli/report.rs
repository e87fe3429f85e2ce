//! `apdu-run report`: a lot's journals (and reports) summarised for the terminal, as JSON,
//! and as a static HTML page checked in a real headless Chromium.
//!
//! The lots are either real batches on the simulator or journals written here in the
//! journal's published format (two stations over ninety minutes, failures, an interrupted
//! and resumed card), so every figure on the page has a known right answer. Chromium is
//! installed by `make unit`; without it the browser test is skipped with a message, except
//! on CI (`CI=true`), where it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::child::Running;
use super::{Ran, apdu_run};

/// 2026-11-22T06:00:00Z, in seconds since 1970.
const START: u64 = 1_795_845_600;

fn stamp(seconds: u64, micros: u64) -> String {
    // The batch's own format; days since 1970 to a date for November 2026 only.
    let day = (seconds - 1_795_824_000) / 86_400 + 22;
    let s = seconds % 86_400;
    format!(
        "2026-11-{day:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

struct Lot {
    dir: tempfile::TempDir,
}

impl Lot {
    /// Station A: 120 cards over 90 minutes, every 10th failing at `write serial` with
    /// 6982, card 50 interrupted and resumed to ok, card 121 begun and never ended.
    /// Station B: 60 cards in the first 30 minutes, 3 failing at `verify PIN` with 63C2.
    fn write() -> Lot {
        let dir = tempfile::tempdir().unwrap();
        let header = |profile: &str| {
            json!({"event":"header","version":1,"profile":profile,"file":"perso.yaml",
                   "hash":"h","data":"lot7.csv","data_hash":"d","time":stamp(START, 0)})
        };
        let begin = |t: u64, seq: u64, reader: &str| {
            json!({"event":"begin","time":stamp(t, 1),"seq":seq,"row":seq,"uid":null,
                   "identity":format!("CARD-{seq:04}"),"reader":reader,"atr":"3B00"})
        };
        let end = |t: u64,
                   seq: u64,
                   reader: &str,
                   verdict: &str,
                   step: Option<&str>,
                   sw: Option<&str>,
                   micros: u64| {
            json!({"event":"end","time":stamp(t, 500_000),"seq":seq,"row":seq,"uid":null,
                   "identity":format!("CARD-{seq:04}"),"reader":reader,"verdict":verdict,
                   "step":step,"sw":sw,"message":null,"micros":micros})
        };
        let mut a = vec![header("perso <v2>")];
        let mut report = Vec::new();
        for seq in 1..=120u64 {
            let t = START + (seq - 1) * 45;
            let reader = if seq % 2 == 0 {
                "<Reader> 01"
            } else {
                "Reader 00"
            };
            a.push(begin(t, seq, reader));
            let micros = 200_000 + seq * 1000;
            if seq % 10 == 0 {
                a.push(end(
                    t + 1,
                    seq,
                    reader,
                    "failed",
                    Some("write serial"),
                    Some("6982"),
                    micros,
                ));
            } else if seq == 55 {
                a.push(end(
                    t + 1,
                    seq,
                    reader,
                    "interrupted",
                    Some("write serial"),
                    None,
                    1000,
                ));
                a.push(begin(t + 30, seq, reader));
                a.push(end(t + 31, seq, reader, "ok", None, None, micros));
            } else {
                a.push(end(t + 1, seq, reader, "ok", None, None, micros));
            }
            report.push(json!({"verdict": if seq % 10 == 0 {"failed"} else {"ok"},
                "message": null,
                "steps":[{"name":"select","sw":"9000","micros":1000},
                         {"name":"write serial","sw":"9000","micros":micros - 1000}]}));
        }
        a.push(begin(START + 120 * 45, 121, "Reader 00"));
        report.push(json!({"verdict":"skipped","message":"already issued","steps":[]}));
        let mut b = vec![header("perso <v2>")];
        for seq in 1..=60u64 {
            let t = START + (seq - 1) * 30;
            b.push(begin(t, seq, "Reader 00"));
            if seq % 20 == 0 {
                b.push(end(
                    t + 1,
                    seq,
                    "Reader 00",
                    "failed",
                    Some("verify PIN"),
                    Some("63C2"),
                    5000,
                ));
            } else {
                b.push(end(t + 1, seq, "Reader 00", "ok", None, None, 300_000));
            }
        }
        let lot = Lot { dir };
        lot.lines("station-a.jsonl", &a);
        lot.lines("station-b.jsonl", &b);
        lot.lines("a.report.jsonl", &report);
        lot
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }

    fn lines(&self, name: &str, values: &[Value]) {
        let text: String = values.iter().map(|v| format!("{v}\n")).collect();
        std::fs::write(self.path(name), text).unwrap();
    }
}

fn report(lot: &Lot, extra: &[&str]) -> Ran {
    let (a, b, r) = (
        lot.path("station-a.jsonl"),
        lot.path("station-b.jsonl"),
        lot.path("a.report.jsonl"),
    );
    let mut args = vec!["report", &a, &b, "--report", &r];
    args.extend_from_slice(extra);
    apdu_run(&args)
}

#[test]
fn summarises_several_stations_as_json_and_text() {
    let lot = Lot::write();
    let r = report(&lot, &["--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    // A: 120 ended (12 failed, 108 ok incl. the resumed one) + 1 open; B: 57 ok, 3 failed.
    assert_eq!(v["cards"], 181);
    assert_eq!(v["ok"], 165);
    assert_eq!(v["failed"], 15);
    assert_eq!(v["interrupted"], 0);
    assert_eq!(v["open"], 1);
    assert_eq!(v["resumed"], 1);
    assert_eq!(v["skipped"], 1);
    assert_eq!(
        v["by_step"][0],
        json!({"name":"write serial","failed":12,"interrupted":1})
    );
    assert_eq!(
        v["by_step"][1],
        json!({"name":"verify PIN","failed":3,"interrupted":0})
    );
    assert_eq!(v["by_station"][0]["name"], "station-a");
    assert_eq!(v["by_sw"][0]["name"], "6982");
    assert_eq!(v["slowest"][0]["identity"], "CARD-0120");
    assert_eq!(v["slowest"][0]["verdict"], "failed");
    assert_eq!(v["max_ms"], 319.0);
    assert_eq!(v["first"], "2026-11-22T06:00:00.000001Z");
    assert_eq!(v["journals"][1]["station"], "station-b");
    let r = report(&lot, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with(
            "181 cards: 165 ok, 15 failed, 0 interrupted, 1 open (1 resumed, 1 skipped)\n"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("failures by step: write serial (12 failed, 1 interrupted), verify PIN"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_real_batch_reports_what_the_batch_said() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("t.yaml");
    std::fs::write(
        &profile,
        "name: t\ncard: iso7816\nidentify: { apdu: 80 CA 9F 7F 00, bytes: 15-18 }\nsteps:\n  - name: verify PIN\n    apdu: 00 20 00 01 04 ${pin}\n",
    )
    .unwrap();
    let mut data = String::from("pin\n");
    for i in 1..=12 {
        data.push_str(if i % 4 == 0 {
            "39393939\n"
        } else {
            "31323334\n"
        });
    }
    std::fs::write(dir.path().join("d.csv"), data).unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let r = apdu_run(&[
        "batch",
        "--sim",
        "iso7816",
        "--count",
        "12",
        "--data",
        &p("d.csv"),
        "--journal",
        &p("j.jsonl"),
        "--report",
        &p("r.jsonl"),
        "--trace-file",
        &p("traces"),
        &p("t.yaml"),
    ]);
    assert_eq!(r.code, 1, "a batch with failed cards exits 1: {}", r.stderr);
    assert!(r.stdout.contains("9 ok, 3 failed"), "{}", r.stdout);
    let r = apdu_run(&["report", &p("j.jsonl"), "--report", &p("r.jsonl"), "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (v["cards"].clone(), v["ok"].clone(), v["failed"].clone()),
        (json!(12), json!(9), json!(3))
    );
    assert_eq!(v["by_step"][0]["name"], "verify PIN");
    assert_eq!(v["journals"][0]["profile"], "t");
    // The slowest cards name their audit trail.
    let trace = v["slowest"][0]["trace"].as_str().unwrap();
    assert!(dir.path().join("traces").join(trace).is_file(), "{trace}");
}

#[test]
fn bad_input_exits_2_naming_the_file_and_line() {
    let lot = Lot::write();
    let bad = lot.path("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"event\":\"header\",\"profile\":\"p\",\"file\":\"f\",\"time\":\"t\"}\nnot json\n",
    )
    .unwrap();
    let r = apdu_run(&["report", &bad]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("bad.jsonl`:2: not a JSON line"),
        "{}",
        r.stderr
    );
    let r = apdu_run(&["report", &lot.path("missing.jsonl")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    for path in ["/dev/zero", "/tmp"] {
        let r = apdu_run(&["report", path]);
        assert_eq!(r.code, 2, "{path}: {}", r.stderr);
        assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
    }
    let fifo = lot.path("fifo");
    if Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        let r = apdu_run(&["report", &fifo]);
        assert_eq!(r.code, 2, "{}", r.stderr);
    }
    // The page's path is checked before anything is read, and a failed write leaves no file.
    let r = report(&lot, &["--html", &lot.path("no/such/dir/out.html")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--html"), "{}", r.stderr);
    let r = apdu_run(&["report"]);
    assert_eq!(r.code, 2);
}

#[test]
fn the_page_is_self_contained_and_escapes_what_it_shows() {
    let lot = Lot::write();
    let out = lot.path("lot.html");
    let r = report(&lot, &["--html", &out]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("wrote "), "{}", r.stdout);
    let page = std::fs::read_to_string(&out).unwrap();
    assert!(!page.contains("<script"), "no script");
    for attribute in ["src=", "href=", "url(", "@import"] {
        assert!(!page.contains(attribute), "the page refers to {attribute}");
    }
    assert!(page.contains("&lt;Reader&gt; 01"));
    assert!(!page.contains("<Reader>"));
    assert!(page.contains("perso &lt;v2&gt;"));
    // No temporary file is left beside it.
    let left: Vec<_> = std::fs::read_dir(lot.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(left.is_empty());
}

/// Chromium, or `None` (with a message) when it is not installed and this is not CI.
fn chromium() -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "Chromium is not installed (apt-get install chromium; `make unit` does)"
        );
        eprintln!("skipped: Chromium is not installed (apt-get install chromium)");
    }
    found
}

/// Runs headless Chromium on `page` with `args`, offline, bounded to a minute; its stdout.
fn browse(browser: &Path, home: &Path, page: &str, args: &[&str]) -> String {
    let mut child = Running::spawn(
        Command::new(browser)
            .env("HOME", home)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
            ])
            // Any request leaving the machine would fail: the page must need none.
            .args([
                "--proxy-server=127.0.0.1:9",
                "--proxy-bypass-list=<-loopback>",
            ])
            .arg(format!(
                "--user-data-dir={}",
                home.join("profile").display()
            ))
            .args(args)
            .arg(format!("file://{page}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "Chromium did not finish"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "Chromium failed: {:?}", out.status);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text of the element carrying `data-field="NAME"` in Chromium's DOM.
fn field<'a>(dom: &'a str, name: &str) -> &'a str {
    let at = dom
        .find(&format!("data-field=\"{name}\">"))
        .unwrap_or_else(|| panic!("no field {name}"));
    let rest = &dom[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest.find("</td>").unwrap();
    &rest[start..end]
}

#[test]
fn the_page_renders_in_headless_chromium_with_the_lot_figures() {
    let Some(browser) = chromium() else { return };
    let lot = Lot::write();
    let out = lot.path("lot.html");
    let r = report(&lot, &["--html", &out, "--title", "Lot 7 <north hall>"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let home = tempfile::tempdir().unwrap();
    let dom = browse(&browser, home.path(), &out, &["--dump-dom"]);
    assert!(
        dom.contains("<title>Lot 7 &lt;north hall&gt;</title>"),
        "{dom}"
    );
    for (name, value) in [
        ("cards", "181"),
        ("ok", "165"),
        ("failed", "15"),
        ("open", "1"),
        ("resumed", "1"),
        ("skipped", "1"),
        ("max_ms", "319 ms"),
        ("period", "2026-11-22 06:00:00 – 2026-11-22 07:30:00"),
    ] {
        assert_eq!(field(&dom, name), value, "{name}");
    }
    for section in [
        "summary",
        "journals",
        "throughput",
        "durations",
        "failures",
        "slowest",
        "steps",
        "skipped",
    ] {
        assert!(
            dom.contains(&format!("<section id=\"{section}\">")),
            "{section}"
        );
    }
    // Ninety one-minute buckets (06:00 to 07:29, the last end), one histogram of 24 bins.
    assert_eq!(dom.matches("<g class=\"bucket\">").count(), 90);
    assert_eq!(dom.matches("<g class=\"bin\">").count(), 24);
    let failures = &dom[dom.find("id=\"by-step\"").unwrap()..];
    let failures = &failures[..failures.find("</table>").unwrap()];
    assert!(failures.find("write serial").unwrap() < failures.find("verify PIN").unwrap());
    // And it draws: a screenshot of the page is a PNG of some substance.
    let png = home.path().join("lot.png");
    browse(
        &browser,
        home.path(),
        &out,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1000,1800",
        ],
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(
        bytes.len() > 20_000,
        "a near-empty screenshot: {} bytes",
        bytes.len()
    );
}
