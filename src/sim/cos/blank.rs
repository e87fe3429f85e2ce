//! The blank card every `--sim cos` run starts from (unless an image is loaded): the MF
//! `3F00` (files may be created in it after EXTERNAL AUTHENTICATE with key 0; it can be
//! neither written nor deleted) and its key file `0000` holding key 0, the install key
//! [`INSTALL_KEY`] (5 tries), under whose authentication keys and PINs are installed.
//!
//! **UNCONFIRMED**: the source gives no transport key; this one is this project's, published
//! like every card maker's default key.

use super::fs::{Body, File, MF, Tree};
use super::keys::{KeyFile, Secret};
use crate::cos::{Access, Condition};

/// A blank card's install key (key 0 of the MF): the ASCII text `APDU-RUN INSTALL`.
pub(crate) const INSTALL_KEY: [u8; 16] = *b"APDU-RUN INSTALL";
/// The install key's retry limit.
pub(crate) const INSTALL_KEY_TRIES: u8 = 5;
/// The MF key file's identifier.
pub(crate) const KEY_FILE: u16 = 0x0000;

/// The blank card's file system.
pub(super) fn tree() -> Tree {
    let mf = File {
        fid: 0x3F00,
        parent: None,
        name: None,
        access: Access {
            read: Condition::Always,
            write: Condition::Never,
            create: Condition::Key(0),
            delete: Condition::Never,
        },
        body: Body::Df,
    };
    let mut keys = KeyFile::default();
    keys.keys
        .insert(0, Secret::new(&INSTALL_KEY, INSTALL_KEY_TRIES));
    let key_file = File {
        fid: KEY_FILE,
        parent: Some(MF),
        name: None,
        access: Access {
            read: Condition::Never,
            write: Condition::Key(0),
            create: Condition::Never,
            delete: Condition::Never,
        },
        body: Body::Keys(keys),
    };
    Tree::new(vec![mf, key_file])
}
