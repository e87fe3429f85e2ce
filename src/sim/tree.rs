//! The file tree of the simulated file cards (ISO 7816-4 and COS): a flat list, MF first,
//! in which every file names its parent DF by index and every parent comes before its
//! children.
//!
//! What a tree does with any kind of file is here: look files up by index, parent,
//! identifier or name, count and add them, and remove a file with everything under it
//! (renumbering the rest). What a file is — its access conditions, its body, how short
//! identifiers and names are matched, what makes a tree valid — is each card's own
//! (`iso7816/fs.rs`, `cos/fs.rs`), through [`Node`]. Nothing here knows commands or status
//! words.

use serde::{Deserialize, Serialize};

/// What the tree needs to know of a file.
pub(in crate::sim) trait Node {
    /// Its file identifier.
    fn fid(&self) -> u16;
    /// Its parent DF's index; `None` for the MF.
    fn parent(&self) -> Option<usize>;
    /// The same, for renumbering.
    fn parent_mut(&mut self) -> &mut Option<usize>;
    /// Whether it is a DF.
    fn is_df(&self) -> bool;
    /// Its DF name (AID), if it has one.
    fn name(&self) -> Option<&[u8]>;
    /// Bytes of card memory it takes.
    fn allocated(&self) -> usize;
}

/// Implements [`Node`] for a card's file type that has the fields `fid: u16`,
/// `parent: Option<usize>`, `name: Option<Vec<u8>>` and `body`, whose type has
/// `allocated()` and a DF variant `$df`.
macro_rules! file_node {
    ($file:ty, $df:pat) => {
        impl $crate::sim::tree::Node for $file {
            fn fid(&self) -> u16 {
                self.fid
            }
            fn parent(&self) -> Option<usize> {
                self.parent
            }
            fn parent_mut(&mut self) -> &mut Option<usize> {
                &mut self.parent
            }
            fn is_df(&self) -> bool {
                matches!(self.body, $df)
            }
            fn name(&self) -> Option<&[u8]> {
                self.name.as_deref()
            }
            fn allocated(&self) -> usize {
                self.body.allocated()
            }
        }
    };
}
pub(in crate::sim) use file_node;

/// The whole file system, MF first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(in crate::sim) struct Tree<F> {
    files: Vec<F>,
}

impl<F: Node> Tree<F> {
    /// A tree from a list known to be valid (a built-in card), or to be validated.
    pub(in crate::sim) fn new(files: Vec<F>) -> Tree<F> {
        Tree { files }
    }

    /// The file at `index` (an index handed out by this tree).
    pub(in crate::sim) fn file(&self, index: usize) -> &F {
        &self.files[index]
    }

    /// The file at `index`, for writing.
    pub(in crate::sim) fn file_mut(&mut self, index: usize) -> &mut F {
        &mut self.files[index]
    }

    /// Whether the file at `index` is a DF.
    pub(in crate::sim) fn is_df(&self, index: usize) -> bool {
        self.files[index].is_df()
    }

    /// The parent DF of `index`; `None` for the MF.
    pub(in crate::sim) fn parent(&self, index: usize) -> Option<usize> {
        self.files[index].parent()
    }

    /// The files directly under `df`, in creation order.
    pub(in crate::sim) fn children(&self, df: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.files.len()).filter(move |&i| self.files[i].parent() == Some(df))
    }

    /// The child of `df` with identifier `fid`.
    pub(in crate::sim) fn child(&self, df: usize, fid: u16) -> Option<usize> {
        self.children(df).find(|&i| self.files[i].fid() == fid)
    }

    /// The DF named exactly `name`.
    pub(in crate::sim) fn named(&self, name: &[u8]) -> Option<usize> {
        self.files.iter().position(|f| f.name() == Some(name))
    }

    /// Every file, MF first.
    pub(in crate::sim) fn files(&self) -> &[F] {
        &self.files
    }

    /// Number of files, MF included.
    pub(in crate::sim) fn len(&self) -> usize {
        self.files.len()
    }

    /// Bytes of card memory all files take.
    pub(in crate::sim) fn allocated(&self) -> usize {
        self.files.iter().map(Node::allocated).sum()
    }

    /// Adds a file (the caller has checked it fits) and returns its index.
    pub(in crate::sim) fn push(&mut self, file: F) -> usize {
        self.files.push(file);
        self.files.len() - 1
    }

    /// Removes the file at `index` (never the MF, index 0) and every file under it,
    /// renumbering the parents that remain. Returns, for each old index, its new one
    /// (`None`: removed), so that indices held elsewhere (a current file) can follow.
    pub(in crate::sim) fn remove(&mut self, index: usize) -> Vec<Option<usize>> {
        let files = &mut self.files;
        if index == 0 || index >= files.len() {
            return (0..files.len()).map(Some).collect();
        }
        let mut gone = vec![false; files.len()];
        gone[index] = true;
        // Parents come before their children, so one pass finds every descendant.
        for i in index + 1..files.len() {
            if files[i].parent().is_some_and(|p| gone[p]) {
                gone[i] = true;
            }
        }
        let mut next = 0;
        let map: Vec<Option<usize>> = gone
            .iter()
            .map(|&g| {
                (!g).then(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect();
        let old = std::mem::take(files);
        *files = old
            .into_iter()
            .zip(&map)
            .filter(|(_, new)| new.is_some())
            .map(|(mut file, _)| {
                let parent = file.parent_mut();
                *parent = parent.and_then(|p| map[p]);
                file
            })
            .collect();
        map
    }
}
