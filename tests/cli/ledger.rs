//! The PostgreSQL ledger against a real server: `ledger init|import|status|export`, and
//! several station processes on one lot with overlapping simulated card streams, `kill -9`
//! of random stations and the database restarted mid-batch.
//!
//! Each test starts a throwaway cluster ([`Cluster`]): `initdb` into a temporary directory
//! and `pg_ctl start` on a private port, as an unprivileged user when the tests run as root
//! (PostgreSQL refuses to run as root), stopped again when the test ends, failed or not.
//! Skipped with a message when PostgreSQL is not installed — except on CI (`CI=true`),
//! where that fails the test (`make unit` installs it).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::batch::PROFILE;
use super::{Ran, bin, ran};

/// The user the cluster runs as when the tests run as root.
const UNPRIVILEGED: &str = "nobody";

/// A throwaway PostgreSQL cluster; stopped on drop.
struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    user: Option<&'static str>,
}

impl Cluster {
    /// A fresh cluster, or `None` (with a message) when PostgreSQL is not installed and this
    /// is not CI.
    fn start() -> Option<Cluster> {
        let Some(bin) = server_bin() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "PostgreSQL is not installed (apt-get install postgresql; `make unit` does)"
            );
            eprintln!("skipped: PostgreSQL is not installed (apt-get install postgresql)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let root = is_root();
        let user = root.then_some(UNPRIVILEGED);
        if root {
            // The unprivileged server must reach its data directory and socket.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        let port = free_port();
        let cluster = Cluster {
            dir,
            bin,
            port,
            user,
        };
        let data = cluster.data();
        let r = cluster.as_server(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "apdu",
                "--no-sync",
            ],
        );
        assert_eq!(r.code, 0, "initdb: {}{}", r.stdout, r.stderr);
        cluster.pg_ctl("start");
        Some(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn url(&self) -> String {
        format!("postgresql://apdu@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs one of the server's programs, as the unprivileged user when root.
    fn as_server(&self, program: &str, args: &[&str]) -> Ran {
        let path = self.bin.join(program);
        let mut command = match self.user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&path);
                c
            }
            None => Command::new(&path),
        };
        command.args(args).current_dir(self.dir.path());
        ran(command.output().unwrap())
    }

    fn pg_ctl(&self, action: &str) {
        let data = self.data();
        let log = self.dir.path().join("server.log");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let mut args = vec![
            "-D",
            data.to_str().unwrap(),
            "-l",
            log.to_str().unwrap(),
            "-w",
            "-t",
            "60",
        ];
        if action != "stop" {
            args.extend(["-o", &options]);
        }
        args.extend(["-m", "fast", action]);
        let r = self.as_server("pg_ctl", &args);
        assert_eq!(r.code, 0, "pg_ctl {action}: {}{}", r.stdout, r.stderr);
    }

    /// `apdu-run ARGS` with the ledger in the environment.
    fn command(&self, work: &Path, args: &[&str]) -> Command {
        let mut command = bin();
        command
            .current_dir(work)
            .args(args)
            .env("APDU_RUN_LEDGER", self.url())
            .env_remove("PGPASSWORD")
            .env_remove("PGPASSFILE");
        command
    }

    fn run(&self, work: &Path, args: &[&str]) -> Ran {
        ran(self.command(work, args).output().unwrap())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self.as_server(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
}

/// The directory of `initdb` and `pg_ctl`: Debian keeps them under
/// /usr/lib/postgresql/VERSION/bin (the newest is taken), else on PATH.
fn server_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    socket.local_addr().unwrap().port()
}

/// A data file of `rows` serials `00000001`, … in `dir`.
fn data(dir: &Path, rows: usize) -> String {
    let mut text = String::from("serial\n");
    for i in 1..=rows {
        text.push_str(&format!("{i:08X}\n"));
    }
    let path = dir.join("data.csv");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// A started cluster, a work directory with the test profile (`t.yaml`) and a data file of
/// `rows` serials; `None` when PostgreSQL is not installed and this is not CI.
fn bench(rows: usize) -> Option<(Cluster, tempfile::TempDir, String, String)> {
    let db = Cluster::start()?;
    let work = tempfile::tempdir().unwrap();
    let profile = work.path().join("t.yaml");
    std::fs::write(&profile, PROFILE).unwrap();
    let profile = profile.to_str().unwrap().to_string();
    let data = data(work.path(), rows);
    Some((db, work, profile, data))
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn init_import_status_export_keep_their_contract_and_never_show_a_value() {
    let Some((db, work, profile, data)) = bench(6) else {
        return;
    };
    let (w, profile) = (work.path(), profile.as_str());

    // Nothing works before `ledger init`, and says so.
    let r = db.run(w, &["ledger", "status", "--lot", "L1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("ledger init"), "{}", r.stderr);
    for _ in 0..2 {
        let r = db.run(w, &["ledger", "init"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let r = db.run(w, &["ledger", "import", "--lot", "L1", &data]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = db.run(w, &["ledger", "import", "--lot", "L1", &data]);
    assert_eq!(r.code, 2, "a lot is imported once: {}", r.stderr);

    let r = db.run(w, &["ledger", "status", "--lot", "L1", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let status: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    let mut fields: Vec<&String> = status.as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(fields, ["failed", "issued", "leased", "open", "total"]);
    assert_eq!(
        (status["total"].as_i64(), status["open"].as_i64()),
        (Some(6), Some(6))
    );

    let r = db.run(
        w,
        &[
            "batch",
            "--lot",
            "L1",
            "--station",
            "s1",
            "--sim",
            "iso7816",
            "--count",
            "4",
            profile,
        ],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = db.run(w, &["ledger", "status", "--lot", "L1", "--json"]);
    let status: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(
        (
            status["issued"].as_i64(),
            status["open"].as_i64(),
            status["leased"].as_i64()
        ),
        (Some(4), Some(2), Some(0))
    );

    let r = db.run(w, &["ledger", "export", "--lot", "L1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cards = lines(&r.stdout);
    assert_eq!(cards.len(), 4);
    for card in &cards {
        for field in [
            "identity", "row", "verdict", "station", "profile", "begun", "ended",
        ] {
            assert!(card.get(field).is_some(), "{field} missing: {card}");
        }
        assert_eq!(card["verdict"], "ok");
        assert_eq!(card["station"], "s1");
    }
    // No data value in any output (the serials are 0000000N).
    for text in [&r.stdout, &r.stderr] {
        assert!(!text.contains("00000001"), "{text}");
    }

    // The cards issued are never issued again, by any station.
    let r = db.run(
        w,
        &[
            "batch",
            "--lot",
            "L1",
            "--station",
            "s2",
            "--sim",
            "iso7816",
            "--count",
            "6",
            profile,
        ],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout.matches("already issued ok").count(),
        4,
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("station `s1`"), "{}", r.stdout);

    // A second lot continues the same ledger; a changed profile only with the flag, and
    // the cards issued from lot L1 under the first version are never issued again.
    let second = w.join("second.csv");
    std::fs::write(&second, "serial\n000000B1\n000000B2\n000000B3\n").unwrap();
    let r = db.run(
        w,
        &["ledger", "import", "--lot", "L2", second.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let first_version =
        lines(&db.run(w, &["ledger", "export", "--lot", "L1"]).stdout)[0]["profile"].clone();
    std::fs::write(w.join("t.yaml"), PROFILE.replace("verify PIN", "check PIN")).unwrap();
    let lot2 = [
        "batch",
        "--lot",
        "L2",
        "--station",
        "s3",
        "--sim",
        "iso7816",
        "--count",
        "9",
        profile,
    ];
    let r = db.run(w, &lot2);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--profile-changed"), "{}", r.stderr);
    let r = db.run(w, &[&lot2[..], &["--profile-changed"]].concat());
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout.matches("already issued ok").count(),
        6,
        "{}",
        r.stdout
    );
    let cards = lines(&db.run(w, &["ledger", "export", "--lot", "L2"]).stdout);
    let identities: Vec<&str> = cards
        .iter()
        .map(|c| c["identity"].as_str().unwrap())
        .collect();
    // Identified by the simulated CPLC's IC serial (`identify:`): positions 6-8.
    assert_eq!(identities, ["10000006", "10000007", "10000008"]);
    assert!(
        cards.iter().all(|c| c["profile"] != first_version),
        "{cards:?}"
    );
}

#[test]
fn a_password_never_comes_from_argv_and_is_never_shown() {
    let Some(db) = Cluster::start() else { return };
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let with_password = db.url().replace("apdu@", "apdu:s3cr3tpw@");
    let r = db.run(w, &["ledger", "--ledger", &with_password, "init"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!r.stderr.contains("s3cr3tpw"), "{}", r.stderr);
    assert!(r.stderr.contains("APDU_RUN_LEDGER"), "{}", r.stderr);
    // From the environment it is used (the cluster trusts it) and never printed.
    let r = ran(db
        .command(w, &["ledger", "init"])
        .env("APDU_RUN_LEDGER", &with_password)
        .output()
        .unwrap());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("s3cr3tpw") && !r.stderr.contains("s3cr3tpw"));
    // An unknown lot names the ledger without the password.
    let r = ran(db
        .command(w, &["ledger", "status", "--lot", "nope"])
        .env("APDU_RUN_LEDGER", &with_password)
        .output()
        .unwrap());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("apdu@127.0.0.1") && !r.stderr.contains("s3cr3tpw"),
        "{}",
        r.stderr
    );
}

#[test]
fn odd_lot_and_station_names_are_refused_before_the_database_is_reached() {
    // A name others print (line breaks, terminal escapes, empty, huge) is refused with
    // exit 2, shown escaped; the ledger named is unreachable, so reaching it would be 3.
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    std::fs::write(w.join("t.yaml"), PROFILE).unwrap();
    data(w, 2);
    let long = "y".repeat(5000);
    let bad = ["a\nb\u{1b}[31mred", "", " lot", long.as_str(), "lot\u{7}"];
    let unreachable = "postgresql://apdu@127.0.0.1:1/postgres";
    for name in bad {
        for args in [
            vec!["ledger", "import", "--lot", name, "data.csv"],
            vec!["ledger", "status", "--lot", name],
            vec!["ledger", "export", "--lot", name],
            vec!["batch", "--lot", name, "--sim", "iso7816", "t.yaml"],
            vec![
                "batch",
                "--lot",
                "L",
                "--station",
                name,
                "--sim",
                "iso7816",
                "t.yaml",
            ],
        ] {
            let r = ran(bin()
                .args(&args)
                .current_dir(w)
                .env("APDU_RUN_LEDGER", unreachable)
                .output()
                .unwrap());
            assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
            assert!(r.stderr.contains(" name `"), "{args:?}: {}", r.stderr);
            assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {}", r.stderr);
            assert!(!r.stderr.contains('\u{1b}') && !r.stderr.contains('\u{7}'));
            assert!(r.stderr.len() < 400, "{args:?}: {}", r.stderr);
        }
    }
}

/// A ledger of schema version 1 (as the first release made it: the same tables, no
/// functions) is refused until `ledger init` migrates it, and keeps its cards.
#[test]
fn a_version_1_ledger_is_migrated_by_init_and_keeps_its_cards() {
    let Some((db, work, profile, data)) = bench(5) else {
        return;
    };
    let (w, profile) = (work.path(), profile.as_str());
    assert_eq!(db.run(w, &["ledger", "init"]).code, 0);
    assert_eq!(
        db.run(w, &["ledger", "import", "--lot", "L", &data]).code,
        0
    );
    let batch = |count: &str| {
        db.run(
            w,
            &[
                "batch", "--lot", "L", "--sim", "iso7816", "--count", count, profile,
            ],
        )
    };
    let r = batch("2");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    // Back to version 1: what migration 2 added is taken away again.
    let port = db.port.to_string();
    let r = db.as_server(
        "psql",
        &[
            "-h", "127.0.0.1", "-p", &port, "-U", "apdu", "-d", "postgres", "-v",
            "ON_ERROR_STOP=1", "-c",
            "DROP FUNCTION apdu_run_lease, apdu_run_end, apdu_run_more; DELETE FROM apdu_run_schema WHERE version > 1",
        ],
    );
    assert_eq!(r.code, 0, "psql: {}{}", r.stdout, r.stderr);
    let r = batch("4");
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("version 1") && r.stderr.contains("ledger init"),
        "{}",
        r.stderr
    );
    let r = db.run(w, &["ledger", "init"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = batch("4");
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout.matches("already issued ok").count(),
        2,
        "{}",
        r.stdout
    );
    let r = db.run(w, &["ledger", "status", "--lot", "L", "--json"]);
    let status: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(
        (status["issued"].as_i64(), status["open"].as_i64()),
        (Some(4), Some(1))
    );
}

/// `--count` holds across stations: three stations of two readers each, on streams of
/// their own, asked for 7 cards of one lot together, start no more than 7.
#[test]
fn count_is_a_ceiling_for_all_stations_together() {
    let Some((db, work, profile, data)) = bench(30) else {
        return;
    };
    let w = work.path();
    assert_eq!(db.run(w, &["ledger", "init"]).code, 0);
    assert_eq!(
        db.run(w, &["ledger", "import", "--lot", "L", &data]).code,
        0
    );
    let stations: Vec<Child> = (0..3)
        .map(|i| {
            let first = (1 + 10 * i).to_string();
            db.command(
                w,
                &[
                    "batch",
                    "--lot",
                    "L",
                    "--station",
                    &format!("s{i}"),
                    "--sim",
                    "iso7816",
                    "--sim-readers",
                    "2",
                    "--sim-first",
                    &first,
                    "--count",
                    "7",
                    "--var",
                    "spin=20000",
                    &profile,
                ],
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
        })
        .collect();
    for mut station in stations {
        assert_eq!(station.wait().unwrap().code(), Some(0));
    }
    let r = db.run(w, &["ledger", "status", "--lot", "L", "--json"]);
    let status: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(
        (status["issued"].as_i64(), status["leased"].as_i64()),
        (Some(7), Some(0)),
        "{status}"
    );
}

/// A small xorshift generator, reproducible from the printed seed.
struct Random(u64);

impl Random {
    fn new() -> Random {
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos() as u64
            | 1;
        println!("seed {seed}");
        Random(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

const CARDS: usize = 30;

fn station(db: &Cluster, work: &Path, profile: &str, name: &str) -> Child {
    let report = work.join(format!("{name}.report.jsonl"));
    let count = CARDS.to_string();
    db.command(
        work,
        &[
            "batch",
            "--lot",
            "L",
            "--station",
            name,
            "--sim",
            "iso7816",
            "--sim-readers",
            "2",
            "--count",
            &count,
            "--var",
            "spin=2000",
            "--report",
            report.to_str().unwrap(),
            profile,
        ],
    )
    .stdout(Stdio::null())
    // Kept (appended per station) so that a station ending unexpectedly says why.
    .stderr(
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(work.join(format!("{name}.stderr")))
            .unwrap(),
    )
    .spawn()
    .unwrap()
}

#[test]
fn stations_killed_and_a_restarted_database_never_reuse_a_row_nor_issue_a_card_twice() {
    let Some((db, work, profile, data)) = bench(CARDS) else {
        return;
    };
    let w = work.path();
    assert_eq!(db.run(w, &["ledger", "init"]).code, 0);
    assert_eq!(
        db.run(w, &["ledger", "import", "--lot", "L", &data]).code,
        0
    );
    let mut random = Random::new();

    // Three stations see the same stream of cards (SIM-000001 …): every card reaches each.
    let names = ["s1", "s2", "s3"];
    let mut children: Vec<(usize, Child)> = names
        .iter()
        .enumerate()
        .map(|(i, name)| (i, station(&db, w, &profile, name)))
        .collect();
    for round in 0..4 {
        std::thread::sleep(Duration::from_millis(100 + random.below(400)));
        if round == 2 {
            // The database goes away under the stations and comes back.
            db.pg_ctl("restart");
        } else {
            let victim = random.below(children.len() as u64) as usize;
            let (i, mut child) = children.swap_remove(victim);
            let _ = child.kill();
            let _ = child.wait();
            children.push((i, station(&db, w, &profile, names[i])));
        }
    }
    for (i, mut child) in children {
        let status = child.wait().unwrap();
        // 0: finished; 1: a card was skipped because another station was issuing it (no
        // card may fail: every card is `ok` in the ledger, checked below); 3: lost the
        // database.
        assert!(
            matches!(status.code(), Some(0 | 1 | 3)),
            "station {} ended {status:?}: {}",
            names[i],
            std::fs::read_to_string(w.join(format!("{}.stderr", names[i]))).unwrap_or_default()
        );
    }
    // A last station finishes whatever the others left open.
    let last = db.run(
        w,
        &[
            "batch",
            "--lot",
            "L",
            "--station",
            "last",
            "--sim",
            "iso7816",
            "--count",
            &CARDS.to_string(),
            "--report",
            w.join("last.report.jsonl").to_str().unwrap(),
            &profile,
        ],
    );
    assert_eq!(last.code, 0, "{}\n{}", last.stdout, last.stderr);

    let r = db.run(w, &["ledger", "export", "--lot", "L"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cards = lines(&r.stdout);
    let mut by_row: HashMap<i64, String> = HashMap::new();
    let mut ledger: HashMap<String, (i64, String)> = HashMap::new();
    for card in &cards {
        let identity = card["identity"].as_str().unwrap().to_string();
        let row = card["row"].as_i64().unwrap();
        let verdict = card["verdict"].as_str().unwrap_or("open").to_string();
        assert!(
            by_row.insert(row, identity.clone()).is_none(),
            "row {row} used twice"
        );
        assert!(
            ledger.insert(identity.clone(), (row, verdict)).is_none(),
            "{identity} twice"
        );
    }
    assert_eq!(cards.len(), CARDS);
    assert!(ledger.values().all(|(_, v)| v == "ok"), "{ledger:?}");
    // Every card a station printed `ok` is `ok` in the ledger, with the row it printed, and
    // no card was printed `ok` twice.
    let mut printed: HashMap<String, u64> = HashMap::new();
    let mut skipped = 0;
    for name in names.iter().chain(&["last"]) {
        let text =
            std::fs::read_to_string(w.join(format!("{name}.report.jsonl"))).unwrap_or_default();
        let complete = text.rfind('\n').map_or("", |i| &text[..=i]);
        let reported = lines(complete);
        skipped += reported
            .iter()
            .filter(|c| c["verdict"] == "skipped")
            .count();
        for card in reported.iter().filter(|c| c["verdict"] == "ok") {
            let identity = card["identity"].as_str().unwrap().to_string();
            let row = card["row"].as_i64().unwrap();
            assert_eq!(
                ledger.get(&identity),
                Some(&(row, "ok".to_string())),
                "{card}"
            );
            *printed.entry(identity).or_default() += 1;
        }
    }
    assert!(
        printed.values().all(|&n| n == 1),
        "a card printed ok twice: {printed:?}"
    );
    // The streams overlapped: stations met cards that others had (or were) issuing.
    assert!(skipped > 0, "no station met another's card");
    let r = db.run(w, &["ledger", "status", "--lot", "L", "--json"]);
    let status: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(status["issued"].as_u64(), Some(CARDS as u64), "{status}");
}

/// One back end of the ledger contract: the journal file, or a lot on PostgreSQL.
enum Backend<'a> {
    File,
    Postgres(&'a Cluster),
}

impl Backend<'_> {
    /// `apdu-run batch` on this back end with `extra` arguments before the profile.
    fn batch(&self, w: &Path, extra: &[&str]) -> Command {
        let profile = w.join("t.yaml");
        let mut args = vec!["batch", "--sim", "iso7816"];
        let data = w.join("data.csv");
        let journal = w.join("j.jsonl");
        match self {
            Backend::File => args.extend([
                "--data",
                data.to_str().unwrap(),
                "--journal",
                journal.to_str().unwrap(),
            ]),
            Backend::Postgres(_) => args.extend(["--lot", "C"]),
        }
        args.extend_from_slice(extra);
        args.push(profile.to_str().unwrap());
        let mut command = match self {
            Backend::File => {
                let mut c = bin();
                c.current_dir(w).args(&args);
                c
            }
            Backend::Postgres(db) => db.command(w, &args),
        };
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        command
    }

    /// Every card the ledger holds as (identity, row, verdict), `verdict` empty while open.
    fn cards(&self, w: &Path) -> Vec<(String, u64, String)> {
        let text = |v: &Value| v.as_str().unwrap_or("").to_string();
        let mut cards: Vec<(String, u64, String)> = match self {
            Backend::File => {
                let mut last: HashMap<String, (u64, String)> = HashMap::new();
                let journal = std::fs::read_to_string(w.join("j.jsonl")).unwrap_or_default();
                for record in lines(&journal) {
                    let identity = text(&record["identity"]);
                    let row = record["row"].as_u64().unwrap_or(0);
                    match record["event"].as_str() {
                        Some("begin") => {
                            last.insert(identity, (row, String::new()));
                        }
                        // An interrupted card is open again: it keeps its row.
                        Some("end") if record["verdict"] == "interrupted" => {}
                        Some("end") => {
                            last.insert(identity, (row, text(&record["verdict"])));
                        }
                        _ => {}
                    }
                }
                last.into_iter().map(|(i, (r, v))| (i, r, v)).collect()
            }
            Backend::Postgres(db) => lines(&db.run(w, &["ledger", "export", "--lot", "C"]).stdout)
                .iter()
                .map(|c| {
                    let verdict = match text(&c["verdict"]).as_str() {
                        "interrupted" => String::new(),
                        v => v.to_string(),
                    };
                    (
                        text(&c["identity"]),
                        c["row"].as_u64().unwrap_or(0),
                        verdict,
                    )
                })
                .collect(),
        };
        cards.sort();
        cards
    }
}

/// The ledger contract, the same for both back ends: an interrupted card keeps its row and
/// is finished with it; cards done before are never run again; new cards take the next
/// rows in order.
fn contract(backend: &Backend<'_>, w: &Path) -> Vec<(String, u64, String)> {
    std::fs::write(w.join("t.yaml"), PROFILE).unwrap();
    // Card 1 takes long; it is interrupted (SIGINT) once its `begin` is recorded.
    let child = super::child::Running::spawn(
        &mut backend.batch(w, &["--count", "3", "--var", "spin=5000000"]),
    );
    let started = std::time::Instant::now();
    while backend.cards(w).is_empty() {
        assert!(started.elapsed() < Duration::from_secs(30), "no card began");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.signal("INT");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    let open = backend.cards(w);
    assert_eq!(open, [("10000000".to_string(), 1, String::new())]);
    // Resumed with its row; two new cards take rows 2 and 3.
    let r = ran(backend.batch(w, &["--count", "3"]).output().unwrap());
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("(resumed)"), "{}", r.stdout);
    // Presented again, those three are left alone; cards 4 and 5 get rows 4 and 5.
    let r = ran(backend.batch(w, &["--count", "5"]).output().unwrap());
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("2 ok, 0 failed, 0 interrupted, 3 skipped"),
        "{}",
        r.stdout
    );
    // Why it ended, in the words of its back end: one journal, or a lot all share.
    let why = match backend {
        Backend::File => "batch ended: the journal holds --count finished cards",
        Backend::Postgres(_) => {
            "batch ended: the lot holds --count finished cards (all stations together)"
        }
    };
    assert!(r.stdout.contains(why), "{}", r.stdout);
    backend.cards(w)
}

#[test]
fn both_back_ends_keep_the_same_ledger_contract() {
    let Some(db) = Cluster::start() else { return };
    let expected: Vec<(String, u64, String)> = (0..5)
        .map(|i| {
            (
                format!("{:08X}", 0x1000_0000 + i),
                i as u64 + 1,
                "ok".to_string(),
            )
        })
        .collect();
    let file = tempfile::tempdir().unwrap();
    data(file.path(), 5);
    assert_eq!(contract(&Backend::File, file.path()), expected);
    let pg = tempfile::tempdir().unwrap();
    let rows = data(pg.path(), 5);
    assert_eq!(db.run(pg.path(), &["ledger", "init"]).code, 0);
    assert_eq!(
        db.run(pg.path(), &["ledger", "import", "--lot", "C", &rows])
            .code,
        0
    );
    assert_eq!(contract(&Backend::Postgres(&db), pg.path()), expected);
}
