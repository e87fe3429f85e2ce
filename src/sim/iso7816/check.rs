//! Checks on a file tree read from a card image, before any command can use it.
//!
//! A loaded tree must look like one the card itself could have built: the MF first, every
//! parent an earlier DF, identifiers, names and SFIs unique where the card keeps them
//! unique, sizes within the card's limits. Then no command can index out of bounds or meet
//! a file it does not expect. This file only checks; it never repairs an image.

use super::fs::{
    Body, CAPACITY, Condition, File, MAX_EF_SIZE, MAX_FILES, MAX_NAME_LEN, MAX_RECORDS, MF, MF_FID,
    Tree,
};

impl Tree {
    /// Checks a tree read from an image, so that no command can index out of bounds or meet
    /// a file the card could not have created.
    pub(super) fn validate(&self) -> Result<(), String> {
        let Some(mf) = self.files().first() else {
            return Err("the file list is empty (it must start with the MF)".into());
        };
        if mf.fid != MF_FID || mf.parent.is_some() || mf.body != Body::Df {
            return Err("the first file must be the MF: a DF `3F00` without parent".into());
        }
        if self.files().len() > MAX_FILES {
            return Err(format!(
                "{} files, the card holds {MAX_FILES}",
                self.files().len()
            ));
        }
        if self.allocated() > CAPACITY {
            return Err(format!(
                "files take {} bytes, the card holds {CAPACITY}",
                self.allocated()
            ));
        }
        for (i, file) in self.files().iter().enumerate() {
            self.validate_file(i, file)
                .map_err(|e| format!("file {i} (`{:04X}`): {e}", file.fid))?;
        }
        Ok(())
    }

    fn validate_file(&self, index: usize, file: &File) -> Result<(), String> {
        for condition in [file.read, file.update] {
            if let Condition::Pin(r) = condition {
                if !(1..=2).contains(&r) {
                    return Err(format!(
                        "access condition names PIN {r}, the card has 1 and 2"
                    ));
                }
            }
        }
        if index != MF {
            match file.parent {
                Some(p) if p < index && self.is_df(p) => {}
                _ => return Err("its parent must be a DF listed before it".into()),
            }
            if matches!(file.fid, MF_FID | 0x3FFF | 0xFFFF) {
                return Err("the identifier is reserved".into());
            }
            let twins = self
                .files()
                .iter()
                .filter(|f| f.parent == file.parent && f.fid == file.fid);
            if twins.count() > 1 {
                return Err("another file in the same DF has this identifier".into());
            }
        }
        if let Some(name) = &file.name {
            if file.body != Body::Df || name.is_empty() || name.len() > MAX_NAME_LEN {
                return Err(format!("only a DF has a name, of 1..={MAX_NAME_LEN} bytes"));
            }
            if self
                .files()
                .iter()
                .filter(|f| f.name.as_ref() == Some(name))
                .count()
                > 1
            {
                return Err("another DF has this name".into());
            }
        }
        if let Some(sfi) = file.sfi {
            if file.body == Body::Df || !(1..=30).contains(&sfi) {
                return Err("only an EF has an SFI, of 1..=30".into());
            }
            let twins = self
                .files()
                .iter()
                .filter(|f| f.parent == file.parent && f.sfi == Some(sfi));
            if twins.count() > 1 {
                return Err(format!("another EF in the same DF has SFI {sfi}"));
            }
        }
        match &file.body {
            Body::Df => Ok(()),
            Body::Transparent { data, .. } if data.len() <= MAX_EF_SIZE => Ok(()),
            Body::Transparent { .. } => Err(format!(
                "a transparent EF holds at most {MAX_EF_SIZE} bytes"
            )),
            Body::LinearFixed {
                record_len,
                max_records,
                records,
            } => {
                if *record_len == 0 || *max_records == 0 || *max_records > MAX_RECORDS {
                    return Err(format!(
                        "records must be 1..=255 bytes, 1..={MAX_RECORDS} of them"
                    ));
                }
                if records.len() > *max_records as usize {
                    return Err("more records than the file holds".into());
                }
                if records.iter().any(|r| r.len() != *record_len as usize) {
                    return Err(format!("every record must be {record_len} bytes"));
                }
                Ok(())
            }
        }
    }
}
