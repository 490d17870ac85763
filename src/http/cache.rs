//! One rendered answer kept until what it was rendered from changes: the
//! status page and `/history` are rendered (and compressed) once per
//! snapshot, by the first request that wants them, like the health bodies.

use std::sync::Arc;

use arc_swap::ArcSwapOption;

use crate::snapshot::Prepared;

/// The last render of one answer, with the key it was rendered for.
pub(super) struct Cached<K> {
    slot: ArcSwapOption<(K, Prepared)>,
}

impl<K> Default for Cached<K> {
    fn default() -> Self {
        Cached {
            slot: ArcSwapOption::empty(),
        }
    }
}

impl<K: PartialEq> Cached<K> {
    /// The answer for `key`: the kept one if it matches, else a fresh render
    /// (kept for the next request). Two requests racing both render; the
    /// last one is kept.
    pub(super) fn get(&self, key: K, render: impl FnOnce() -> Prepared) -> Arc<(K, Prepared)> {
        if let Some(hit) = self.slot.load_full().filter(|e| e.0 == key) {
            return hit;
        }
        let fresh = Arc::new((key, render()));
        self.slot.store(Some(fresh.clone()));
        fresh
    }
}
