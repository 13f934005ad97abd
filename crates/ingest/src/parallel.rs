//! Building work units on every core and assembling them in input order.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::mpsc::{channel, sync_channel};

use crate::error::IngestError;
use crate::row::Unit;

/// Runs `work` on the items of `items` (produced on their own thread) with `threads` workers and
/// hands the resulting units to `sink` in the order of the items. Memory stays bounded: at most a
/// few items wait for a worker.
pub(crate) fn run_ordered<W: Send>(
    threads: usize,
    items: impl Iterator<Item = Result<W, IngestError>> + Send,
    work: impl Fn(W) -> Result<Unit, IngestError> + Sync,
    mut sink: impl FnMut(Unit),
) -> Result<(), IngestError> {
    let threads = threads.max(1);
    let (work_tx, work_rx) = sync_channel::<(usize, W)>(threads * 2);
    let work_rx = Mutex::new(work_rx);
    std::thread::scope(|s| {
        let (done_tx, done_rx) = channel::<(usize, Result<Unit, IngestError>)>();
        let producer = s.spawn(move || -> Result<(), IngestError> {
            for (i, item) in items.enumerate() {
                if work_tx.send((i, item?)).is_err() {
                    break;
                }
            }
            Ok(())
        });
        for _ in 0..threads {
            let done_tx = done_tx.clone();
            let (work_rx, work) = (&work_rx, &work);
            s.spawn(move || {
                loop {
                    let next = work_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((i, item))) = next else { break };
                    if done_tx.send((i, work(item))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let mut pending = BTreeMap::new();
        let mut next = 0;
        let mut first_error = None;
        for (i, result) in done_rx {
            match result {
                Ok(unit) if first_error.is_none() => {
                    pending.insert(i, unit);
                    while let Some(unit) = pending.remove(&next) {
                        sink(unit);
                        next += 1;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        let produced = producer
            .join()
            .unwrap_or_else(|_| panic!("input reader thread panicked"));
        match first_error {
            Some(e) => Err(e),
            None => produced,
        }
    })
}
