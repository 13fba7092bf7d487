use std::sync::Arc;

use super::*;

const ONS: &str = "ptable_10_5_rule";
const LOW_NOISE: &str = "ptable_3_2_unbiased";

fn table(name: &str) -> PerturbationTable {
    PerturbationTable::shipped(name).unwrap()
}

fn every_key() -> impl Iterator<Item = u8> {
    0..=u8::MAX
}

/// A small deterministic generator (SplitMix64), so that random cases repeat.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

#[test]
fn counts_above_750_reuse_rows_501_to_750() {
    for count in 0..=MAX_PCV {
        assert_eq!(pcv(count), count);
    }
    assert_eq!(pcv(751), 501);
    assert_eq!(pcv(752), 502);
    assert_eq!(pcv(1000), 750);
    assert_eq!(pcv(1001), 501);
    assert_eq!(pcv(1250), 750);
    assert_eq!(pcv(1251), 501);
    assert_eq!(pcv(u64::MAX), 615);
    for count in 751..=5000 {
        let row = pcv(count);
        assert!((501..=750).contains(&row), "{count} → {row}");
        assert_eq!(row % 250, count % 250, "{count} → {row}");
    }
}

#[test]
fn a_count_above_750_gets_the_noise_of_its_row() {
    for name in PerturbationTable::shipped_names() {
        let table = table(name);
        for count in 751..=3000 {
            let row = pcv(count);
            for key in every_key() {
                let noise = perturb(&table, row, key) as i64 - row as i64;
                assert_eq!(perturb(&table, count, key) as i64, count as i64 + noise);
            }
        }
        // no overflow at the top
        assert!(perturb(&table, u64::MAX, 7) >= u64::MAX - 2);
    }
    let ons = table(ONS);
    assert_eq!(perturb(&ons, 751, 0), 750);
    assert_eq!(perturb(&ons, 1003, 99), 1005);
    assert_eq!(perturb(&ons, 1252, 255), 1250);
}

#[test]
fn the_ons_table_is_the_10_5_rule() {
    let ons = table(ONS);
    for count in 0..=3000u64 {
        let expected = match count {
            0..10 => 0,
            _ => match count % 5 {
                0 => count,
                1 | 2 => count - count % 5,
                _ => count + 5 - count % 5,
            },
        };
        for key in every_key() {
            assert_eq!(
                perturb(&ons, count, key),
                expected,
                "count {count}, key {key}"
            );
        }
    }
    assert_eq!(ons.smallest_publishable(), 10);
}

#[test]
fn shipped_tables_never_publish_1_or_2_and_keep_their_maximum_deviation() {
    for name in PerturbationTable::shipped_names() {
        let table = table(name);
        for count in 0..=3000u64 {
            let max_deviation = match (name, count) {
                (ONS, 0..10) => count,
                _ => 2,
            };
            for key in every_key() {
                let published = perturb(&table, count, key);
                assert!(
                    published != 1 && published != 2,
                    "{name}: {count} → {published}"
                );
                assert!(
                    published.abs_diff(count) <= max_deviation,
                    "{name}: {count} → {published}"
                );
            }
        }
    }
}

/// How many cell keys give each published value, for one count.
fn spread(table: &PerturbationTable, count: u64) -> Vec<(u64, usize)> {
    let mut published: Vec<u64> = every_key().map(|k| perturb(table, count, k)).collect();
    published.sort_unstable();
    let mut spread: Vec<(u64, usize)> = Vec::new();
    for value in published {
        match spread.last_mut() {
            Some((last, keys)) if *last == value => *keys += 1,
            _ => spread.push((value, 1)),
        }
    }
    spread
}

#[test]
fn the_low_noise_table_is_as_documented() {
    let low = table(LOW_NOISE);
    assert_eq!(low.smallest_publishable(), 3);
    assert_eq!(spread(&low, 0), [(0, 256)]);
    assert_eq!(spread(&low, 1), [(0, 171), (3, 85)]);
    assert_eq!(spread(&low, 2), [(0, 86), (3, 168), (4, 2)]);
    assert_eq!(spread(&low, 3), [(3, 256)]);
    assert_eq!(spread(&low, 4), [(3, 96), (4, 80), (5, 64), (6, 16)]);
    for count in 5..=3000 {
        let expected = [
            (count - 2, 16),
            (count - 1, 64),
            (count, 96),
            (count + 1, 64),
            (count + 2, 16),
        ];
        assert_eq!(spread(&low, count), expected, "count {count}");
    }
    // mean and variance of the perturbation, in 256ths and 65536ths
    let moments = |count: u64| {
        let noise: Vec<i64> = every_key()
            .map(|k| perturb(&low, count, k) as i64 - count as i64)
            .collect();
        let sum: i64 = noise.iter().sum();
        let squares: i64 = noise.iter().map(|n| n * n).sum();
        (sum, 256 * squares - sum * sum)
    };
    assert_eq!(moments(1), (-1, 130_815));
    assert_eq!(moments(2), (0, 65 * 65_536 / 32));
    assert_eq!(moments(3), (0, 0));
    assert_eq!(moments(4), (0, 7 * 65_536 / 8));
    for count in 5..=3000 {
        assert_eq!(moments(count), (0, 65_536), "count {count}");
    }
}

#[test]
fn one_more_firm_gets_fresh_noise_whatever_its_record_key() {
    // A firm with record key r joining a cell of count c and key k: how often the published
    // difference is exactly 1, the true one. With independent noise that is Σ p² = 17920/65536
    // (0.273) on average; with one key order for all rows it would be near 1 for small r.
    let low = table(LOW_NOISE);
    for r in [0u8, 1, 2, 255] {
        let (mut exact, mut cases) = (0u64, 0u64);
        for count in 5..=700u64 {
            for k in every_key() {
                let before = perturb(&low, count, k);
                let after = perturb(&low, count + 1, k.wrapping_add(r));
                exact += u64::from(after == before + 1);
                cases += 1;
            }
        }
        let rate = exact as f64 / cases as f64;
        assert!((0.25..0.30).contains(&rate), "record key {r}: {rate}");
    }
}

#[test]
fn the_cell_key_is_the_sum_of_record_keys_modulo_256() {
    assert_eq!(cell_key(std::iter::empty()), 0);
    assert_eq!(cell_key([255, 1].into_iter()), 0);
    assert_eq!(cell_key([200, 100, 3].into_iter()), 47);
    let mut random = SplitMix(7);
    for _ in 0..500 {
        let firms = random.below(2000) as usize;
        let keys: Vec<u8> = (0..firms).map(|_| random.below(256) as u8).collect();
        let sum: u64 = keys.iter().map(|k| u64::from(*k)).sum();
        assert_eq!(u64::from(cell_key(keys.iter().copied())), sum % 256);
    }
}

#[test]
fn the_same_firms_are_always_published_alike() {
    let mut random = SplitMix(2026);
    for name in PerturbationTable::shipped_names() {
        let table = table(name);
        for _ in 0..300 {
            let firms = random.below(3000) as usize;
            let mut keys: Vec<u8> = (0..firms).map(|_| random.below(256) as u8).collect();
            let first = perturb(&table, firms as u64, cell_key(keys.iter().copied()));
            // the same firms in another order, as another table or request would sum them
            for i in (1..keys.len()).rev() {
                keys.swap(i, random.below(i as u64 + 1) as usize);
            }
            let again = perturb(&table, firms as u64, cell_key(keys.iter().copied()));
            assert_eq!(first, again);
            assert!(first != 1 && first != 2);
        }
    }
}

#[test]
fn the_threshold_is_the_tables_unless_the_publisher_sets_one_and_requests_only_raise_it() {
    let low = Arc::new(table(LOW_NOISE));
    let implied = DisclosurePolicy::new(Arc::clone(&low), None);
    assert_eq!(implied.min_cell(), 3);
    let set = DisclosurePolicy::new(Arc::clone(&low), Some(5));
    assert_eq!(set.min_cell(), 5);
    assert_eq!(set.for_request(None).min_cell(), 5);
    assert_eq!(set.for_request(Some(2)).min_cell(), 5);
    assert_eq!(set.for_request(Some(8)).min_cell(), 8);
    let ons = DisclosurePolicy::new(Arc::new(table(ONS)), None);
    assert_eq!(ons.min_cell(), 10);
    assert_eq!(ons.table().name(), ONS);
}

#[test]
fn a_cell_shows_when_its_perturbed_count_reaches_the_threshold() {
    let low = DisclosurePolicy::new(Arc::new(table(LOW_NOISE)), None);
    let key_giving = |count: u64, published: u64| {
        every_key()
            .find(|k| low.perturbed(count, *k) == published)
            .unwrap()
    };
    assert_eq!(low.publish(1, key_giving(1, 0)), None);
    assert_eq!(low.publish(1, key_giving(1, 3)), Some(3));
    assert_eq!(low.publish(3, 9), Some(3));
    let raised = low.for_request(Some(4));
    assert_eq!(raised.publish(3, 9), None);
    assert_eq!(raised.perturbed(3, 9), 3);
    assert_eq!(raised.publish(5, key_giving(5, 3)), None);
    assert_eq!(raised.publish(5, key_giving(5, 4)), Some(4));
    assert_eq!(raised.publish(5, key_giving(5, 7)), Some(7));
    let ons = DisclosurePolicy::new(Arc::new(table(ONS)), None);
    assert_eq!(ons.publish(9, 1), None);
    assert_eq!(ons.publish(11, 1), Some(10));
    assert_eq!(ons.perturbed(13, 1), 15);
    assert_eq!(ons.publish(0, 0), None);
    assert_eq!(
        DisclosurePolicy::new(Arc::new(table(ONS)), Some(0)).publish(0, 0),
        Some(0)
    );
}

/// A valid table with no noise, as CSV, with `edit` applied to each (pcv, ckey, pvalue) line.
fn no_noise_csv(edit: impl Fn(u64, u16, &str) -> Option<String>) -> String {
    let mut csv = String::from("pcv,ckey,pvalue\n");
    for pcv in 1..=MAX_PCV {
        for ckey in 0..256u16 {
            let line = format!("{pcv},{ckey},0");
            if let Some(line) = edit(pcv, ckey, &line) {
                csv.push_str(&line);
                csv.push('\n');
            }
        }
    }
    csv
}

fn problem(csv: &str) -> String {
    PerturbationTable::from_csv("t", csv)
        .unwrap_err()
        .to_string()
}

#[test]
fn a_table_is_checked_when_it_is_loaded() {
    let plain = PerturbationTable::from_csv("t", &no_noise_csv(|_, _, l| Some(l.into()))).unwrap();
    assert_eq!(perturb(&plain, 1, 0), 1);
    assert_eq!(plain.smallest_publishable(), 1);
    // the ONS file's own form: quoted header, CRLF, columns in another order
    let ons_form = no_noise_csv(|p, k, _| Some(format!("{k},{p},0\r"))).replacen(
        "pcv,ckey,pvalue",
        "\"ckey\",\"pcv\",\"pvalue\"\r",
        1,
    );
    assert!(PerturbationTable::from_csv("t", &ons_form).is_ok());
    // a row for count 0 that does not perturb is accepted
    let zero_row = no_noise_csv(|_, _, l| Some(l.into())) + "0,0,0\n";
    assert!(PerturbationTable::from_csv("t", &zero_row).is_ok());

    let missing = problem(&no_noise_csv(|p, k, l| {
        (p != 17 || k < 200).then(|| l.into())
    }));
    assert_eq!(
        missing,
        "perturbation table `t`: pcv 17 lacks 56 of the 256 cell keys, ckey 200 first"
    );
    let no_top_rows = problem(&no_noise_csv(|p, _, l| (p <= 700).then(|| l.into())));
    assert!(no_top_rows.contains("pcv 701 lacks 256"), "{no_top_rows}");
    let too_high = problem(&(no_noise_csv(|_, _, l| Some(l.into())) + "751,0,0\n"));
    assert!(too_high.contains("pcv 751 is above 750"), "{too_high}");
    let negative = problem(&no_noise_csv(|p, k, l| {
        Some(if p == 4 && k == 3 {
            "4,3,-5".into()
        } else {
            l.into()
        })
    }));
    assert_eq!(
        negative,
        "perturbation table `t`, line 773: pvalue -5 would make the count 4 negative"
    );
    let twice = problem(&(no_noise_csv(|_, _, l| Some(l.into())) + "9,9,1\n"));
    assert!(twice.contains("pcv 9, ckey 9 is given twice"), "{twice}");
    let zero = problem(&(no_noise_csv(|_, _, l| Some(l.into())) + "0,4,3\n"));
    assert!(zero.contains("a count of 0 cannot be perturbed"), "{zero}");
    let key = problem(&(no_noise_csv(|_, _, l| Some(l.into())) + "9,256,1\n"));
    assert!(key.contains("ckey `256` is not in 0–255"), "{key}");
    let header = problem("pcv,ckey,noise\n1,0,0\n");
    assert!(header.contains("line 1: the header must name"), "{header}");
    let fields = problem("pcv,ckey,pvalue\n1,0\n");
    assert!(
        fields.contains("line 2: expected 3 fields, found 2"),
        "{fields}"
    );
    assert_eq!(problem(""), "perturbation table `t`: it is empty");
    assert_eq!(
        PerturbationTable::shipped("ptable_5_5")
            .unwrap_err()
            .to_string(),
        "no perturbation table is called `ptable_5_5`; the shipped ones are \
         `ptable_10_5_rule`, `ptable_3_2_unbiased`"
    );
}

#[test]
fn the_unperturbed_table_publishes_every_count_as_it_is() {
    let exact = PerturbationTable::unperturbed();
    assert_eq!(exact.name(), "unperturbed");
    assert_eq!(exact.smallest_publishable(), 1);
    for count in (0..=2000).chain([u64::MAX]) {
        for key in every_key() {
            assert_eq!(perturb(&exact, count, key), count);
        }
    }
    assert!(PerturbationTable::shipped_names().all(|name| name != exact.name()));
    assert!(PerturbationTable::shipped("unperturbed").is_err());
    let policy = DisclosurePolicy::new(Arc::new(exact), None);
    assert_eq!(policy.min_cell(), 1);
    assert_eq!(policy.publish(1, 200), Some(1));
}

#[test]
fn the_mean_noise_has_mean_0_and_standard_deviation_one_half_in_a_shuffled_order() {
    let mean = MEAN_NOISE.iter().sum::<f64>() / 256.0;
    let sd = (MEAN_NOISE.iter().map(|m| m * m).sum::<f64>() / 256.0).sqrt();
    assert!(mean.abs() < 1e-12, "{mean}");
    assert!((sd - 0.5).abs() < 1e-4, "{sd}");
    let mut sorted = MEAN_NOISE;
    sorted.sort_by(f64::total_cmp);
    for (i, value) in sorted.iter().enumerate() {
        let expected = 0.866_025_403_784_438_6 * ((2 * i + 1) as f64 / 256.0 - 1.0);
        assert!((value - expected).abs() < 1e-12, "{i}: {value}");
    }
    // Not in key order: neighbouring keys are not neighbouring values.
    let ascending = MEAN_NOISE.windows(2).filter(|w| w[0] < w[1]).count();
    assert!((90..166).contains(&ascending), "{ascending}");
}

#[test]
fn counts_inside_a_cell_are_perturbed_and_capped_at_its_size() {
    let policy = DisclosurePolicy::new(Arc::new(table(LOW_NOISE)), None);
    let mut random = SplitMix(11);
    for _ in 0..2000 {
        let n = Tally {
            count: 1 + random.below(60),
            key: random.below(256) as u8,
        };
        let part = Tally {
            count: random.below(n.count + 1),
            key: random.below(256) as u8,
        };
        let size = policy.size(n);
        assert_eq!(size.get(), perturb(policy.table(), n.count, n.key));
        let published = policy.part(part, size);
        assert_eq!(
            published.get(),
            perturb(policy.table(), part.count, part.key).min(size.get())
        );
        let share = estimate(published, size);
        assert_eq!(share.count, published.get());
        assert!(share.share <= 1.0, "{share:?}");
        assert!(share.ci_low <= share.share + 1e-12, "{share:?}");
        assert!(share.share <= share.ci_high + 1e-12, "{share:?}");
    }
}

#[test]
fn means_are_noisy_rounded_and_repeatable_unless_the_table_is_exact() {
    let noisy = DisclosurePolicy::new(Arc::new(table(LOW_NOISE)), None);
    let exact = DisclosurePolicy::new(Arc::new(PerturbationTable::unperturbed()), None);
    let cell = Tally { count: 20, key: 77 };
    let n = noisy.size(cell);
    let mut moved = 0;
    for dimension in 0..5 {
        let mean = noisy.mean(1000.0, cell, n, dimension);
        assert_eq!(mean, noisy.mean(1000.0, cell, n, dimension));
        assert!((mean * 10.0 - (mean * 10.0).round()).abs() < 1e-9);
        let bound = (1000.0 + SCORE_RANGE * 0.8661) / n.get() as f64;
        assert!(mean <= bound.min(100.0) + 0.05, "{mean}");
        moved += usize::from((mean - 1000.0 / n.get() as f64).abs() > 0.05);
        assert_eq!(exact.mean(1000.0, cell, exact.size(cell), dimension), 50.0);
    }
    assert!(moved >= 3, "{moved}");
    // A mean never leaves 0–100.
    let tiny = Tally { count: 3, key: 0 };
    for dimension in 0..5 {
        let low = noisy.mean(0.0, tiny, noisy.size(tiny), dimension);
        let high = noisy.mean(300.0, tiny, noisy.size(tiny), dimension);
        assert!((0.0..=100.0).contains(&low) && (0.0..=100.0).contains(&high));
    }
    assert_eq!(
        noisy.mean(5.0, cell, exact.size(Tally { count: 0, key: 0 }), 0),
        0.0
    );
}

#[test]
fn weighted_totals_follow_their_published_count() {
    let policy = DisclosurePolicy::new(Arc::new(table(LOW_NOISE)), None);
    let published = policy.size(Tally { count: 8, key: 3 });
    let scaled = scaled_total(12.0, 8, published);
    assert!((scaled - 12.0 * published.get() as f64 / 8.0).abs() < 1e-12);
    assert_eq!(scaled_total(0.0, 0, published), 0.0);
}
