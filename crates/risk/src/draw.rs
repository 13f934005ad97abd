//! Seeded random draws that depend only on the seed, a purpose and the declaration identifier:
//! the same declaration gets the same draw whatever the order or size of the batch, so that a
//! selectivity run can be reproduced and explained declaration by declaration.

/// A uniform draw in [0, 1) for `id`, for the given `seed` and `purpose`.
pub fn uniform(seed: u64, purpose: &str, id: &str) -> f64 {
    uniform_for(seed, &[purpose], id)
}

/// [`uniform`] for the purpose written as the concatenation of `purpose` (the same draw),
/// without the concatenation being built: selectivity draws per declaration and lane.
pub fn uniform_for(seed: u64, purpose: &[&str], id: &str) -> f64 {
    // FNV-1a over purpose and identifier, then the SplitMix64 finaliser with the seed.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let bytes = purpose.iter().flat_map(|p| p.bytes());
    for b in bytes.chain([0xff]).chain(id.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = h ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    // The top 53 bits as a fraction.
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_reproducible_uniform_and_seed_dependent() {
        assert_eq!(uniform(7, "random", "D1"), uniform(7, "random", "D1"));
        assert_ne!(uniform(7, "random", "D1"), uniform(8, "random", "D1"));
        assert_ne!(uniform(7, "random", "D1"), uniform(7, "split", "D1"));
        assert_eq!(
            uniform(7, "random:red", "D1"),
            uniform_for(7, &["random", ":", "red"], "D1")
        );
        let n = 100_000;
        let draws: Vec<f64> = (0..n).map(|i| uniform(1, "t", &i.to_string())).collect();
        assert!(draws.iter().all(|u| (0.0..1.0).contains(u)));
        // Each tenth of [0, 1) gets 10% of the draws, within 5 standard errors.
        for decile in 0..10 {
            let share = draws
                .iter()
                .filter(|u| (**u * 10.0) as usize == decile)
                .count() as f64
                / n as f64;
            assert!(
                (share - 0.1).abs() < 5.0 * (0.1f64 * 0.9 / n as f64).sqrt(),
                "{decile}: {share}"
            );
        }
    }
}
