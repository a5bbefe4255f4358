//! A small, seeded pseudo-random sequence for tests: where to kill a
//! worker, how long to sleep, how to shuffle. Deterministic per seed, so
//! a failing iteration can be replayed.

/// Marsaglia's xorshift64: fast, seeded, and good enough to spread kill
/// points and shuffles; not for anything that needs real randomness.
#[derive(Clone, Debug)]
pub struct Jitter(u64);

impl Jitter {
    /// A sequence from `seed` (zero is replaced: xorshift never leaves it).
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// The next value.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// The next value in `0..bound` (`0` when `bound` is zero).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    /// The next index in `0..len` (`0` when `len` is zero).
    pub fn index(&mut self, len: usize) -> usize {
        usize::try_from(self.below(len as u64)).expect("below a usize")
    }
}

#[cfg(test)]
mod tests {
    use super::Jitter;

    #[test]
    fn the_same_seed_gives_the_same_sequence_and_values_stay_below_the_bound() {
        let (mut a, mut b) = (Jitter::new(7), Jitter::new(7));
        let first: Vec<u64> = (0..100).map(|_| a.below(10)).collect();
        let second: Vec<u64> = (0..100).map(|_| b.below(10)).collect();
        assert_eq!(first, second);
        assert!(first.iter().all(|&v| v < 10));
        assert!(
            first
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len()
                > 5,
            "spread: {first:?}"
        );
        assert_eq!(Jitter::new(0).below(0), 0);
    }
}
