//! Rows read on nearly every request — the session, the form being filled in, its data
//! source — kept in memory for a moment, so a form's list fields cost no database round
//! trip while someone types.
//!
//! Writes through this store drop the rows they change at once. Another server sharing the
//! database cannot tell us, so what it writes shows here within [`KEEP_FOR`]: the price of
//! a signing-out or a permission change taking up to that long to reach the other servers.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a row read from the database is served from memory.
pub const KEEP_FOR: Duration = Duration::from_secs(2);

/// Beyond this many rows, expired ones are dropped; still beyond it, all of them.
const MOST: usize = 10_000;

pub struct Recent<V> {
    keep_for: Duration,
    entries: Mutex<HashMap<String, (Instant, V)>>,
    /// Bumped by every write, so a read that raced one cannot put back what it replaced.
    generation: AtomicU64,
}

/// Taken before reading the database; [`Recent::put`] keeps the row only if no write
/// happened since.
#[derive(Clone, Copy)]
pub struct Ticket(u64);

impl<V: Clone> Recent<V> {
    pub fn new(keep_for: Duration) -> Recent<V> {
        Recent {
            keep_for,
            entries: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
        }
    }

    pub fn get(&self, key: &str) -> Option<V> {
        let entries = self.entries.lock().expect("recent rows");
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.keep_for)
            .map(|(_, value)| value.clone())
    }

    pub fn ticket(&self) -> Ticket {
        Ticket(self.generation.load(Ordering::Acquire))
    }

    pub fn put(&self, ticket: Ticket, key: &str, value: V) {
        if self.keep_for.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().expect("recent rows");
        // Under the lock, so a write cannot slip between this check and the insert.
        if self.generation.load(Ordering::Acquire) != ticket.0 {
            return;
        }
        if entries.len() >= MOST {
            entries.retain(|_, (at, _)| at.elapsed() < self.keep_for);
            if entries.len() >= MOST {
                entries.clear();
            }
        }
        entries.insert(key.to_string(), (Instant::now(), value));
    }

    /// Held across a write to these rows: drops them all when the write is over, however
    /// it ended (dropping them before could let a read in between keep an old row). All,
    /// because writes are rare next to reads and some touch rows by condition.
    pub fn writing(&self) -> Writing<'_, V> {
        Writing(self)
    }
}

#[must_use = "the rows are dropped when this is"]
pub struct Writing<'a, V>(&'a Recent<V>);

impl<V> Drop for Writing<'_, V> {
    fn drop(&mut self) {
        let mut entries = self.0.entries.lock().expect("recent rows");
        self.0.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_a_row_until_it_is_written_or_old() {
        let recent = Recent::new(Duration::from_millis(50));
        recent.put(recent.ticket(), "a", 1);
        assert_eq!(recent.get("a"), Some(1));
        let write = recent.writing();
        assert_eq!(recent.get("a"), Some(1), "dropped before the write is over");
        drop(write);
        assert_eq!(recent.get("a"), None);

        recent.put(recent.ticket(), "b", 2);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(recent.get("b"), None, "kept past its time");
    }

    #[test]
    fn a_read_that_raced_a_write_is_not_kept() {
        let recent = Recent::new(Duration::from_secs(60));
        let before_read = recent.ticket();
        drop(recent.writing()); // the write lands while the read is in flight
        recent.put(before_read, "a", "old");
        assert_eq!(recent.get("a"), None);

        recent.put(recent.ticket(), "a", "new");
        assert_eq!(recent.get("a"), Some("new"));
    }

    #[test]
    fn stays_bounded() {
        let recent = Recent::new(Duration::from_secs(60));
        for i in 0..MOST + 10 {
            recent.put(recent.ticket(), &i.to_string(), i);
        }
        assert!(recent.entries.lock().unwrap().len() <= MOST);
        assert_eq!(recent.get(&(MOST + 9).to_string()), Some(MOST + 9));
    }

    #[test]
    fn keeps_nothing_when_told_to_keep_nothing() {
        let recent = Recent::new(Duration::ZERO);
        recent.put(recent.ticket(), "a", 1);
        assert_eq!(recent.get("a"), None);
    }
}
