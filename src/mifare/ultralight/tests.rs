//! Tests still to come.
