//! Work spread over a few threads, with results in the order of the items: the engine's
//! results never depend on the number of threads.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `f` on each item on up to `threads` threads and returns the results in the items'
/// order. Items are handed out one at a time as threads become free, so that a few long items
/// (a boosting run, a large feature key) do not leave a thread idle behind a fixed share.
pub(crate) fn on_threads<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (f, next) = (&f, &next);
                s.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else {
                            return mine;
                        };
                        mine.push((i, f(item)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Declarations handled together on one thread by [`on_ranges`].
const RANGE: usize = 512;

/// Runs `f` on consecutive ranges of `0..n` (512 items each) on up to `threads` threads and
/// returns the results of every index in order: `f` gets a range and returns one result per
/// index in it (so it can reuse a buffer within the range).
pub(crate) fn on_ranges<R: Send>(
    n: usize,
    threads: usize,
    f: impl Fn(std::ops::Range<usize>) -> Vec<R> + Sync,
) -> Vec<R> {
    let ranges: Vec<std::ops::Range<usize>> = (0..n)
        .step_by(RANGE)
        .map(|start| start..(start + RANGE).min(n))
        .collect();
    on_threads(&ranges, threads, |r| f(r.clone()))
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_order_of_the_items_whatever_the_threads() {
        let items: Vec<u64> = (0..100).collect();
        // Uneven work, so that threads finish out of order.
        let f = |&i: &u64| (0..(i % 7) * 10_000).fold(i, |a, b| a.wrapping_mul(31).wrapping_add(b));
        let one = on_threads(&items, 1, f);
        for threads in [2, 3, 8, 200] {
            assert_eq!(on_threads(&items, threads, f), one);
        }
        assert_eq!(on_threads(&[] as &[u64], 4, f), Vec::<u64>::new());
    }

    #[test]
    fn ranges_cover_every_index_once_in_order() {
        for (n, threads) in [(0, 2), (1, 1), (511, 2), (512, 2), (513, 3), (5000, 2)] {
            let got = on_ranges(n, threads, |r| r.map(|i| i * 3).collect());
            assert_eq!(got, (0..n).map(|i| i * 3).collect::<Vec<_>>(), "n = {n}");
        }
    }
}
