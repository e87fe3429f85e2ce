//! `today()` and `now()` for scripts: the UTC date and instant from `crate::clock`.
//!
//! `today()` returns the date `--var today=YYYY-MM-DD` fixes when the run has one (kept
//! in the run's session; the command line has checked its form, a value that slipped
//! through throws), otherwise the system clock's UTC date. `now()` always reads the system clock. Nothing else here.

use rhai::{Engine, ImmutableString};

use super::error::Fault;
use super::session::Shared;
use crate::clock::{self, Date};

/// Registers `today()` and `now()`.
pub(super) fn register(engine: &mut Engine, session: &Shared) {
    let s = session.clone();
    engine.register_fn(
        "today",
        move || -> Result<ImmutableString, Box<rhai::EvalAltResult>> {
            match &s.borrow().today {
                Some(text) => Date::parse(text)
                    .map(|date| date.to_string().into())
                    .map_err(|e| Fault::failed(format!("--var today: {e}"))),
                None => Ok(clock::today().to_string().into()),
            }
        },
    );
    engine.register_fn("now", || -> ImmutableString { clock::now().into() });
}
