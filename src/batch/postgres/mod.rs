//! The issuance ledger on PostgreSQL: several stations drawing from one lot of data rows,
//! each card issued once across all of them.
//!
//! `conn.rs` reaches the database (URL, password sources, redaction, errors), `schema.rs`
//! creates and migrates the tables (`ledger init`), `lots.rs` imports lots and reports on
//! them (`ledger import`, `status`, `export`), `names.rs` holds lot and station names to a
//! plain form, `store.rs` is the batch's ledger back end and
//! `statements.rs` the SQL it runs per card, prepared once per connection.
//! Only this directory names the `postgres` crate; it is synchronous (no async runtime of
//! ours), one connection per station.

pub mod conn;
pub mod lots;
pub mod names;
pub mod schema;
pub mod statements;
pub mod store;

pub use conn::{DbError, Kind, LEDGER_ENV, Origin, Target};
pub use store::{PgStore, ProfileVersion};
