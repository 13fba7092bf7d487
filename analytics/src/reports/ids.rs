//! The ids of the responses a snapshot holds, exactly, in about 16 bytes each: a sorted array,
//! and the ids added since it was last merged in a small hash set. A hash set of every id
//! takes twice that and more (its buckets are a power of two, a fraction of them empty).

use super::batch::IdSet;

#[derive(Debug, Default)]
pub(crate) struct ResponseIds {
    sorted: Vec<u128>,
    recent: IdSet,
}

/// A batch at least this fraction of the array is merged into it at once: one linear pass
/// instead of a binary search per id.
const MERGE_FRACTION: usize = 16;

impl ResponseIds {
    /// For each id of a batch, whether it is new: neither held before nor earlier in the batch.
    /// The new ids are held from now on.
    pub fn insert_batch(&mut self, ids: &[u128]) -> Vec<bool> {
        if ids.len().saturating_mul(MERGE_FRACTION) < self.sorted.len() {
            let new = ids
                .iter()
                .map(|id| self.sorted.binary_search(id).is_err() && self.recent.insert(*id))
                .collect();
            if self.recent.len() > self.sorted.len() / 8 {
                self.compact();
            }
            return new;
        }
        // The batch in id order (first occurrences first), walked beside the array.
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|at| (ids[*at], *at));
        let mut new = vec![false; ids.len()];
        let mut added = Vec::with_capacity(ids.len());
        let mut cursor = 0;
        let mut previous = None;
        for at in order {
            let id = ids[at];
            if previous == Some(id) {
                continue;
            }
            previous = Some(id);
            cursor += self.sorted[cursor..].partition_point(|held| *held < id);
            if self.sorted.get(cursor) != Some(&id) && !self.recent.contains(&id) {
                new[at] = true;
                added.push(id);
            }
        }
        self.sorted = merge(&self.sorted, &added);
        new
    }

    /// Merges the recent ids into the array.
    fn compact(&mut self) {
        let mut recent: Vec<u128> = self.recent.drain().collect();
        recent.sort_unstable();
        self.sorted = merge(&self.sorted, &recent);
        self.recent = IdSet::default();
    }

    pub fn memory_bytes(&self) -> usize {
        self.sorted.capacity() * 16 + self.recent.capacity() * 24
    }
}

/// Two sorted arrays of distinct ids (no id in both) as one, allocated to its exact size.
fn merge(a: &[u128], b: &[u128]) -> Vec<u128> {
    let mut merged = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        if x < y {
            merged.push(*x);
            i += 1;
        } else {
            merged.push(*y);
            j += 1;
        }
    }
    merged.extend_from_slice(a.get(i..).unwrap_or_default());
    merged.extend_from_slice(b.get(j..).unwrap_or_default());
    merged
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn batches_of_every_size_take_each_id_once() {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut ids = ResponseIds::default();
        let mut reference = HashSet::new();
        let mut taken = 0;
        for round in 0..400 {
            // Large batches first, then mostly small ones (refreshes), ids from a small range
            // so that repeats within and across batches are common.
            let size = if round < 5 { 5_000 } else { 1 + next() % 60 };
            let batch: Vec<u128> = (0..size).map(|_| u128::from(next() % 40_000)).collect();
            let new = ids.insert_batch(&batch);
            let expected: Vec<bool> = batch.iter().map(|id| reference.insert(*id)).collect();
            assert_eq!(new, expected, "round {round}");
            taken += new.iter().filter(|n| **n).count();
        }
        assert_eq!(taken, reference.len());
        assert!(ids.sorted.windows(2).all(|w| w[0] < w[1]));
        assert!(taken > 20_000, "{taken}");
    }
}
