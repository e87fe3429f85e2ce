//! Reaching the ledger database: the URL, the password's sources, the connection, and the
//! one error type of the PostgreSQL back end.
//!
//! A ledger is named by a `postgresql://` (or `postgres://`) URL. A password is never taken
//! from the command line (it would show in `ps`): it comes from the URL only when the URL
//! comes from the environment (`APDU_RUN_LEDGER`), else from `PGPASSWORD`, else from the
//! password file (`PGPASSFILE`, default `~/.pgpass`, libpq's format). Every message names
//! the ledger by [`Target::shown`], which never holds a password, and any error text from
//! the server or the client is scrubbed of the password before it is shown.
//!
//! This file does not know the schema or the batch.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use postgres::config::Host;
use postgres::{Client, Config, NoTls};

/// The environment variable that may name the ledger (URL, password allowed).
pub const LEDGER_ENV: &str = "APDU_RUN_LEDGER";

/// What a failure means for whoever called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The database cannot be reached or was lost (exit 3): nothing is decided.
    Unreachable,
    /// What was asked does not fit the ledger (no schema, unknown lot, changed profile):
    /// nothing was sent to a card (exit 2).
    Invalid,
    /// The database refused or failed an operation (exit 1).
    Failed,
}

/// A failure of the PostgreSQL ledger: one line naming the ledger, never its password.
#[derive(Debug, Clone, thiserror::Error)]
#[error("ledger `{shown}`: {message}")]
pub struct DbError {
    /// The ledger, as shown.
    pub shown: String,
    /// What it means.
    pub kind: Kind,
    /// What happened.
    pub message: String,
}

/// A ledger database: how to connect, and how to name it.
#[derive(Clone)]
pub struct Target {
    config: Config,
    shown: String,
    password: Option<Vec<u8>>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Target({})", self.shown)
    }
}

/// Where a URL came from: the command line may not carry a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `--ledger URL`.
    Argument,
    /// [`LEDGER_ENV`].
    Environment,
}

impl Target {
    /// Parses `url` and finds its password. `env` looks up environment variables (the
    /// process's in use; a map in tests).
    pub fn parse(
        url: &str,
        origin: Origin,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Target, String> {
        if !(url.starts_with("postgresql://") || url.starts_with("postgres://")) {
            return Err(format!(
                "`{}` is not a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE); the file journal is chosen with --journal",
                scrub_url(url)
            ));
        }
        let mut config = Config::from_str(url)
            .map_err(|e| format!("`{}` is not a valid URL: {e}", scrub_url(url)))?;
        if config.get_password().is_some() && origin == Origin::Argument {
            return Err(format!(
                "`{}` carries a password on the command line, where any user can read it (`ps`); put the URL in {LEDGER_ENV}, or the password in PGPASSWORD or a password file (PGPASSFILE, ~/.pgpass)",
                scrub_url(url)
            ));
        }
        if config.get_user().is_none() {
            let user = env("PGUSER").or_else(|| env("USER")).ok_or_else(|| {
                format!(
                    "`{}` names no user, and neither PGUSER nor USER is set",
                    scrub_url(url)
                )
            })?;
            config.user(&user);
        }
        if config.get_hosts().is_empty() {
            config.host(&env("PGHOST").unwrap_or_else(|| "localhost".to_string()));
        }
        if config.get_dbname().is_none() {
            let user = config.get_user().unwrap_or_default().to_string();
            config.dbname(&user);
        }
        let host = match config.get_hosts().first() {
            Some(Host::Tcp(host)) => host.clone(),
            Some(Host::Unix(path)) => path.display().to_string(),
            None => "localhost".to_string(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let user = config.get_user().unwrap_or_default().to_string();
        let db = config.get_dbname().unwrap_or_default().to_string();
        if config.get_password().is_none() {
            let found = match env("PGPASSWORD") {
                Some(password) => Some(password),
                None => {
                    let file = env("PGPASSFILE")
                        .map(PathBuf::from)
                        .or_else(|| env("HOME").map(|home| Path::new(&home).join(".pgpass")));
                    match file {
                        Some(file) => pgpass_lookup(&file, &host, port, &db, &user)?,
                        None => None,
                    }
                }
            };
            if let Some(password) = found {
                config.password(password);
            }
        }
        config.connect_timeout(Duration::from_secs(10));
        config.application_name("apdu-run");
        let password = config.get_password().map(<[u8]>::to_vec);
        let shown = format!("postgresql://{user}@{host}:{port}/{db}");
        Ok(Target {
            config,
            shown,
            password,
        })
    }

    /// The ledger as shown in messages: no password.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Opens a connection.
    pub fn connect(&self) -> Result<Client, DbError> {
        self.config.connect(NoTls).map_err(|e| self.error(&e))
    }

    /// An error of `kind` with `message`.
    pub fn fail(&self, kind: Kind, message: impl Into<String>) -> DbError {
        DbError {
            shown: self.shown.clone(),
            kind,
            message: self.scrub(&message.into()),
        }
    }

    /// A client error as a [`DbError`]: a closed connection, an I/O failure or a server
    /// going down is [`Kind::Unreachable`].
    pub fn error(&self, e: &postgres::Error) -> DbError {
        let code = e.code().map(|c| c.code().to_string());
        let unreachable = e.is_closed()
            || code.as_deref().is_some_and(|c| {
                c.starts_with("08") || c == "57P01" || c == "57P02" || c == "57P03"
            })
            || (code.is_none() && e.as_db_error().is_none());
        let message = match e.as_db_error() {
            Some(db) => db.message().to_string(),
            None => {
                let mut text = e.to_string();
                let mut source = std::error::Error::source(e);
                while let Some(s) = source {
                    text.push_str(": ");
                    text.push_str(&s.to_string());
                    source = s.source();
                }
                text
            }
        };
        let kind = if unreachable {
            Kind::Unreachable
        } else {
            Kind::Failed
        };
        self.fail(kind, message)
    }

    /// Removes the password from a text, wherever it appears.
    fn scrub(&self, text: &str) -> String {
        match self.password.as_deref().map(String::from_utf8_lossy) {
            Some(password) if !password.is_empty() => text.replace(password.as_ref(), "(secret)"),
            _ => text.to_string(),
        }
    }
}

/// A URL as it may be shown: the part between `:` and `@` of its authority removed.
pub fn scrub_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}{tail}")
        }
        None => url.to_string(),
    }
}

/// The password for `host:port/db` as `user` from a libpq password file, if one line fits.
/// A file that group or others may read is refused, as libpq ignores it.
fn pgpass_lookup(
    file: &Path,
    host: &str,
    port: u16,
    db: &str,
    user: &str,
) -> Result<Option<String>, String> {
    let Ok(meta) = std::fs::metadata(file) else {
        return Ok(None);
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(format!(
                "password file `{}` may be read by group or others; `chmod 600` it (libpq ignores such a file too)",
                file.display()
            ));
        }
    }
    let text = crate::input::read_text(file, crate::input::Kind::Secret)
        .map_err(|e| format!("password file `{}`: {e}", file.display()))?;
    let port = port.to_string();
    let wanted = [host, port.as_str(), db, user];
    Ok(text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(pgpass_fields)
        .find(|fields| {
            fields[..4]
                .iter()
                .zip(wanted)
                .all(|(field, want)| field == "*" || field == want)
        })
        .map(|mut fields| fields.swap_remove(4)))
}

/// The five fields of a password file line (`\:` and `\\` escaped), or `None` for a line
/// that does not have five.
pub fn pgpass_fields(line: &str) -> Option<Vec<String>> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    fields.last_mut()?.push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut()?.push(c),
        }
    }
    (fields.len() == 5).then_some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn a_password_on_the_command_line_is_refused_without_showing_it() {
        let e =
            Target::parse("postgresql://u:hunter2@db:5433/l", Origin::Argument, &none).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(e.contains("APDU_RUN_LEDGER"), "{e}");
    }

    #[test]
    fn a_password_from_the_environment_is_used_and_never_shown() {
        let t = Target::parse(
            "postgresql://u:hunter2@db:5433/l",
            Origin::Environment,
            &none,
        )
        .unwrap();
        assert_eq!(t.shown(), "postgresql://u@db:5433/l");
        assert_eq!(t.config.get_password(), Some(&b"hunter2"[..]));
        let e = t.fail(Kind::Failed, "server said hunter2");
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn pgpassword_then_the_password_file() {
        let env = |name: &str| (name == "PGPASSWORD").then(|| "pw".to_string());
        let t = Target::parse("postgresql://u@db/l", Origin::Argument, &env).unwrap();
        assert_eq!(t.config.get_password(), Some(&b"pw"[..]));

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(&file, "# c\nother:*:*:*:no\ndb:5432:l:u:p\\:w\n").unwrap();
        let path = file.display().to_string();
        let env = move |name: &str| (name == "PGPASSFILE").then(|| path.clone());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = Target::parse("postgresql://u@db/l", Origin::Argument, &env).unwrap_err();
            assert!(e.contains("chmod 600"), "{e}");
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let t = Target::parse("postgresql://u@db/l", Origin::Argument, &env).unwrap();
        assert_eq!(t.config.get_password(), Some(&b"p:w"[..]));
    }

    #[test]
    fn not_a_postgresql_url() {
        let e = Target::parse("ledger.jsonl", Origin::Argument, &none).unwrap_err();
        assert!(e.contains("--journal"), "{e}");
    }

    proptest! {
        #[test]
        fn scrub_url_never_keeps_the_password(user in "[a-z]{1,8}", pw in "[A-Za-z0-9]{6,12}", host in "[a-z]{1,8}") {
            let url = format!("postgresql://{user}:{pw}@{host}:5432/db");
            let shown = scrub_url(&url);
            let leaked = shown.contains(&format!(":{pw}@"));
            prop_assert!(!leaked);
            prop_assert_eq!(shown, format!("postgresql://{user}@{host}:5432/db"));
        }

        #[test]
        fn any_url_or_pgpass_line_parses_without_panic(text in ".{0,80}") {
            let _ = Target::parse(&text, Origin::Environment, &none);
            let _ = scrub_url(&text);
            let _ = pgpass_fields(&text);
        }
    }
}
