//! Disclosure control: small cells are hidden, and so is one more when a single hidden cell
//! could be recovered from the total.

/// Decides which cells to hide. `segments` are the segment sizes in key order; they partition
/// the overall total. Reports pass the published (perturbed) numbers of distinct firms, so
/// neither a hidden cell nor the choice of its partner depends on a true size. Returns
/// (overall hidden, each segment hidden).
///
/// - the overall cell is hidden when its `n < min_cell`, and then everything is;
/// - a segment is hidden when its `n < min_cell` (primary suppression);
/// - when exactly one segment is hidden, the smallest other one (the first in key order on
///   ties) is hidden too (secondary suppression), so no subtraction from the total reveals it.
pub fn suppress(overall: u64, segments: &[u64], min_cell: u64) -> (bool, Vec<bool>) {
    if overall < min_cell {
        return (true, vec![true; segments.len()]);
    }
    let mut hidden: Vec<bool> = segments.iter().map(|&n| n < min_cell).collect();
    if hidden.iter().filter(|&&h| h).count() == 1 {
        let smallest_visible = segments
            .iter()
            .enumerate()
            .filter(|(index, _)| !hidden[*index])
            .min_by_key(|(index, n)| (**n, *index))
            .map(|(index, _)| index);
        if let Some(index) = smallest_visible {
            hidden[index] = true;
        }
    }
    (false, hidden)
}

#[cfg(test)]
mod tests {
    use super::suppress;

    #[test]
    fn small_cells_and_one_partner_are_hidden() {
        assert_eq!(
            suppress(30, &[2, 10, 8, 10], 5),
            (false, vec![true, false, true, false])
        );
        assert_eq!(
            suppress(30, &[10, 6, 6, 8], 5),
            (false, vec![false, false, false, false])
        );
        // ties: the first in key order
        assert_eq!(
            suppress(24, &[9, 3, 6, 6], 5),
            (false, vec![false, true, true, false])
        );
        // two primary cells need no partner
        assert_eq!(
            suppress(24, &[2, 2, 20], 5),
            (false, vec![true, true, false])
        );
        assert_eq!(suppress(4, &[2, 2], 5), (true, vec![true, true]));
    }
}
