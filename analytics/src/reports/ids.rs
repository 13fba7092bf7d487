//! The ids of the responses a snapshot holds, exactly, in about 16 bytes each: a sorted array,
//! and the ids added since it was last merged in a small hash set. A hash set of every id
//! takes twice that and more (its buckets are a power of two, a fraction of them empty).

use super::batch::IdSet;

#[derive(Debug, Default)]
pub(crate) struct ResponseIds {
    sorted: Vec<u128>,
    recent: IdSet,
}

/// A batch at least this fraction of the array is merged into it at once (one linear pass);
/// the new ids of a smaller batch go to the recent set.
const MERGE_FRACTION: usize = 16;

impl ResponseIds {
    /// For each id of a batch, whether it is new: neither held before nor earlier in the batch.
    /// The new ids are held from now on.
    ///
    /// The batch is taken in id order and walked beside the array by galloping from the last
    /// position found, so a large array is read near where the previous id was found, not
    /// by a binary search over the whole of it per id.
    pub fn insert_batch(&mut self, ids: &[u128]) -> Vec<bool> {
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
            cursor = gallop(&self.sorted, cursor, id);
            if self.sorted.get(cursor) != Some(&id) && !self.recent.contains(&id) {
                new[at] = true;
                added.push(id);
            }
        }
        if added.len().saturating_mul(MERGE_FRACTION) >= self.sorted.len() {
            self.sorted = merge(&self.sorted, &added);
        } else {
            for id in added {
                self.recent.insert(id);
            }
            if self.recent.len() > self.sorted.len() / 8 {
                self.compact();
            }
        }
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

/// The first position at or after `from` whose id is not below `id` (`sorted.len()` when
/// none): the distance from `from` doubled until it passes `id`, then a binary search within
/// the last step.
fn gallop(sorted: &[u128], from: usize, id: u128) -> usize {
    let rest = sorted.get(from..).unwrap_or_default();
    let mut bound = 1;
    while bound < rest.len() && rest[bound - 1] < id {
        bound *= 2;
    }
    let low = bound / 2;
    let high = bound.min(rest.len());
    from + low + rest[low..high].partition_point(|held| *held < id)
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

    #[test]
    fn galloping_finds_what_a_binary_search_finds() {
        let sorted: Vec<u128> = (0..300).map(|i| u128::from(i * 3_u32)).collect();
        for from in [0, 1, 2, 5, 64, 150, 299, 300] {
            for id in 0..=905 {
                let expected = from + sorted[from..].partition_point(|held| *held < id);
                assert_eq!(gallop(&sorted, from, id), expected, "from {from}, id {id}");
            }
        }
        assert_eq!(gallop(&[], 0, 7), 0);
    }
}
