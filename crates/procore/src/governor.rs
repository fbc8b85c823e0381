//! Keeps a client inside Procore's rate limits (procore-api.md §2.8). Every response says
//! how much of the window is left (`X-Rate-Limit-Remaining`) and when it resets
//! (`X-Rate-Limit-Reset`, unix seconds). Requests already on their way will use some of
//! what is left, so a request is only sent while `remaining > in flight`; otherwise it
//! waits for the reset. A 429 or 503 with `Retry-After` holds every request back until
//! then (plus jitter, so many clients do not return at the same instant).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::HeaderMap;
use rand::Rng;
use tokio::time::Instant;

use crate::unix_now;

#[derive(Default)]
pub(crate) struct Governor {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// From the latest response; `None` until the first one.
    remaining: Option<u64>,
    limit: Option<u64>,
    reset: i64,
    /// `reset` on the runtime's clock, which is what waiting uses.
    reset_at: Option<Instant>,
    in_flight: u64,
    held_until: Option<Instant>,
}

/// A place among the requests in flight; dropping it gives the place back. It owns its
/// handle on the state, so futures holding it stay `Send` for any lifetime.
pub(crate) struct Permit {
    state: Arc<Mutex<State>>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Ok(mut state) = self.state.lock() {
            state.in_flight = state.in_flight.saturating_sub(1);
        }
    }
}

/// The budget as last reported, for call logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateBudget {
    pub limit: u64,
    pub remaining: u64,
    pub reset: i64,
}

impl Governor {
    /// Waits until a request may be sent without being refused. The future owns its
    /// handle on the state rather than borrowing the governor.
    pub fn admit(&self) -> impl Future<Output = Permit> + Send + 'static {
        let shared = self.state.clone();
        async move { Governor::wait_for_room(shared).await }
    }

    async fn wait_for_room(shared: Arc<Mutex<State>>) -> Permit {
        loop {
            let wait = {
                let mut state = shared.lock().expect("governor lock");
                let now = Instant::now();
                match state.held_until {
                    Some(until) if until > now => Some(until - now),
                    _ => {
                        state.held_until = None;
                        let exhausted = state
                            .remaining
                            .is_some_and(|remaining| remaining <= state.in_flight);
                        let reset_at = state.reset_at.filter(|at| *at > now);
                        if exhausted && state.in_flight > 0 {
                            // Their answers will tell the budget: look again shortly.
                            Some(Duration::from_millis(20))
                        } else if let Some(reset_at) = reset_at.filter(|_| exhausted) {
                            Some(reset_at - now + jitter())
                        } else {
                            if exhausted {
                                // The window has reset; the next answer tells the new budget.
                                state.remaining = state.limit;
                            }
                            state.in_flight += 1;
                            None
                        }
                    }
                }
            };
            match wait {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return Permit { state: shared },
            }
        }
    }

    /// Reads the budget from a response.
    pub fn observe(&self, headers: &HeaderMap) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok())
        };
        let (Some(remaining), Some(reset)) = (
            number("x-rate-limit-remaining"),
            number("x-rate-limit-reset"),
        ) else {
            return;
        };
        // A window resets within the hour; a reset further off is not believed (waiting
        // for it would stall every call, and one past the clock's range would overflow).
        if reset.saturating_sub(unix_now()) > LONGEST_WAIT.as_secs() as i64 + CLOCK_SKEW {
            return;
        }
        let mut state = self.state.lock().expect("governor lock");
        // Answers arrive out of order; within one window the smallest remaining is newest.
        if reset > state.reset || state.remaining.is_none() {
            state.remaining = Some(remaining.max(0) as u64);
        } else if reset == state.reset {
            state.remaining = Some(
                state
                    .remaining
                    .unwrap_or(u64::MAX)
                    .min(remaining.max(0) as u64),
            );
        }
        if reset >= state.reset {
            state.reset = reset;
            // Whole seconds: counting from now errs on the late side, never the early.
            let wait = Duration::from_secs((reset - unix_now()).max(0) as u64);
            state.reset_at = Some(Instant::now() + wait);
        }
        if let Some(limit) = number("x-rate-limit-limit") {
            state.limit = Some(limit.max(0) as u64);
        }
    }

    /// Holds every request back for `wait` (a 429 or 503's `Retry-After`), an hour at most.
    pub fn hold(&self, wait: Duration) {
        let until = Instant::now() + wait.min(LONGEST_WAIT) + jitter();
        let mut state = self.state.lock().expect("governor lock");
        if state.held_until.is_none_or(|held| held < until) {
            state.held_until = Some(until);
        }
    }

    pub fn budget(&self) -> Option<RateBudget> {
        let state = self.state.lock().expect("governor lock");
        Some(RateBudget {
            limit: state.limit?,
            remaining: state.remaining?,
            reset: state.reset,
        })
    }
}

/// Up to a quarter second, so clients held back together do not return together.
pub(crate) fn jitter() -> Duration {
    Duration::from_millis(rand::rng().random_range(0..250))
}

/// Procore's longest rate-limit window is an hour: no honest answer asks for a longer wait.
pub(crate) const LONGEST_WAIT: Duration = Duration::from_secs(3600);

/// How far ahead of our clock Procore's may be, in seconds.
const CLOCK_SKEW: i64 = 300;

/// `Retry-After` in seconds (Procore sends seconds, not dates). A wait longer than
/// [`LONGEST_WAIT`] is not believed: the caller backs off as if none was given.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
        .filter(|wait| *wait <= LONGEST_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(remaining: i64, reset: i64) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-rate-limit-limit", "100".parse().unwrap());
        h.insert(
            "x-rate-limit-remaining",
            remaining.to_string().parse().unwrap(),
        );
        h.insert("x-rate-limit-reset", reset.to_string().parse().unwrap());
        h
    }

    // Real time, kept short: paused time would need tokio's `test-util` feature, which
    // would give tests a different tokio build than the server and rebuild everything on it.
    #[tokio::test]
    async fn waits_for_the_reset_once_the_budget_is_spent() {
        let governor = Governor::default();
        let reset = unix_now() + 1;
        governor.observe(&headers(1, reset));
        let first = governor.admit().await;
        let started = Instant::now();
        let second = tokio::time::timeout(Duration::from_millis(100), governor.admit()).await;
        assert!(
            second.is_err(),
            "one left and one in flight: the next waits"
        );
        drop(first);
        governor.observe(&headers(0, reset));
        let _permit = governor.admit().await;
        // The reset is a whole second on the wall clock, so how long that is from `started`
        // depends on when in the second the test began; what holds is that it has passed.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        assert!(
            now.as_secs_f64() >= reset as f64,
            "admitted before the reset"
        );
        assert!(started.elapsed() >= Duration::from_millis(100));
    }

    #[tokio::test]
    async fn a_hold_delays_every_request() {
        let governor = Governor::default();
        governor.hold(Duration::from_millis(300));
        let started = Instant::now();
        let _permit = governor.admit().await;
        assert!(started.elapsed() >= Duration::from_millis(300));
    }

    #[test]
    fn the_smallest_remaining_of_a_window_wins() {
        let governor = Governor::default();
        governor.observe(&headers(50, 1_000));
        governor.observe(&headers(60, 1_000));
        assert_eq!(governor.budget().unwrap().remaining, 50);
        governor.observe(&headers(99, 2_000));
        assert_eq!(governor.budget().unwrap().remaining, 99, "a new window");
    }

    #[test]
    fn reads_retry_after_seconds() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", u64::MAX.to_string().parse().unwrap());
        assert_eq!(retry_after(&h), None, "longer than any window");
    }

    #[test]
    fn a_reset_beyond_the_hour_is_not_believed() {
        let governor = Governor::default();
        governor.observe(&headers(0, i64::MAX));
        assert_eq!(governor.budget(), None, "ignored, and no overflow");
        governor.observe(&headers(0, unix_now() + 10 * 365 * 86_400));
        assert_eq!(governor.budget(), None);
        governor.observe(&headers(0, unix_now() + 3_000));
        assert_eq!(governor.budget().unwrap().remaining, 0);
    }
}
