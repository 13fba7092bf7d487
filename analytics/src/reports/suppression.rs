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

/// A linear relation between published cells of a table: `parts` sum to `total`, a cell of
/// the same table (`Some(index)`) or a published figure beside it (`None`, e.g. the size of
/// the cell the parts partition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub total: Option<usize>,
    pub parts: Vec<usize>,
}

/// Secondary suppression on a table of related cells. `sizes` are the published sizes the
/// choice is made on, `hidden` the primary suppression (updated in place). Whenever exactly
/// one member of a relation (its parts and an internal total) is hidden, it could be derived
/// from the others, so the smallest visible part is hidden too (the first on ties), or the
/// total when no part is visible; repeated until no relation has exactly one hidden member.
pub fn suppress_related(sizes: &[u64], hidden: &mut [bool], relations: &[Relation]) {
    loop {
        let mut changed = false;
        for relation in relations {
            let members = relation.parts.iter().copied().chain(relation.total);
            if members.filter(|&cell| hidden[cell]).count() != 1 {
                continue;
            }
            let partner = relation
                .parts
                .iter()
                .copied()
                .filter(|&cell| !hidden[cell])
                .min_by_key(|&cell| (sizes[cell], cell))
                .or(relation.total.filter(|&cell| !hidden[cell]));
            if let Some(cell) = partner {
                hidden[cell] = true;
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Relation, suppress, suppress_related};

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

    #[test]
    fn related_cells_never_leave_one_derivable() {
        // Two rows of three parts with external totals, and the columns summed into a third
        // row (cells 6, 7, 8) that is published too.
        let sizes = [1, 9, 8, 6, 7, 5, 7, 16, 13];
        let mut hidden: Vec<bool> = sizes.iter().map(|&n| n < 3).collect();
        let relations = [
            Relation {
                total: None,
                parts: vec![0, 1, 2],
            },
            Relation {
                total: None,
                parts: vec![3, 4, 5],
            },
            Relation {
                total: Some(6),
                parts: vec![0, 3],
            },
            Relation {
                total: Some(7),
                parts: vec![1, 4],
            },
            Relation {
                total: Some(8),
                parts: vec![2, 5],
            },
        ];
        suppress_related(&sizes, &mut hidden, &relations);
        // 0 is primary; its row hides 2 (8 < 9), its column 3; row two then hides 5, whose
        // column already holds 2.
        assert_eq!(
            hidden,
            [true, false, true, true, false, true, false, false, false]
        );
        // A relation of one part and an internal total hides the total.
        let mut hidden = vec![true, false];
        suppress_related(
            &[1, 4],
            &mut hidden,
            &[Relation {
                total: Some(1),
                parts: vec![0],
            }],
        );
        assert_eq!(hidden, [true, true]);
    }
}
