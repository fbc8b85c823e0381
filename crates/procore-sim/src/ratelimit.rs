//! Procore's two rate limits per token (procore-api.md §2.8): an hourly window and a
//! 10-second spike window. Every REST response carries `X-Rate-Limit-*` for whichever
//! limit is closer to running out; going over either answers 429 with `Retry-After`.

use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub hourly: u32,
    pub spike: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            hourly: 3600,
            spike: 100,
        }
    }
}

const HOUR: i64 = 3600;
const SPIKE: i64 = 10;

#[derive(Debug, Default, Clone, Copy)]
struct Window {
    started: i64,
    used: u32,
}

impl Window {
    fn roll(&mut self, now: i64, length: i64) {
        if now >= self.started + length {
            *self = Window {
                started: now,
                used: 0,
            };
        }
    }
}

/// What the three headers say, and whether the request may proceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Unix seconds when the reported window starts over.
    pub reset: i64,
}

#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: HashMap<String, (Window, Window)>,
}

impl RateLimiter {
    /// Counts one request for `token` at `now` (refused requests do not count).
    pub fn check(&mut self, token: &str, limits: Limits, now: i64) -> Verdict {
        let (hourly, spike) = self.windows.entry(token.to_string()).or_default();
        hourly.roll(now, HOUR);
        spike.roll(now, SPIKE);
        let allowed = hourly.used < limits.hourly && spike.used < limits.spike;
        if allowed {
            hourly.used += 1;
            spike.used += 1;
        }
        let hourly_left = limits.hourly.saturating_sub(hourly.used);
        let spike_left = limits.spike.saturating_sub(spike.used);
        // Report the window closer to running out, as a share of its limit.
        let spike_closer = u64::from(spike_left) * u64::from(limits.hourly.max(1))
            <= u64::from(hourly_left) * u64::from(limits.spike.max(1));
        let (limit, remaining, reset) = if hourly_left == 0 || (!spike_closer && spike_left > 0) {
            (limits.hourly, hourly_left, hourly.started + HOUR)
        } else {
            (limits.spike, spike_left, spike.started + SPIKE)
        };
        Verdict {
            allowed,
            limit,
            remaining,
            reset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    #[test]
    fn the_spike_window_refuses_then_resets() {
        let mut limiter = RateLimiter::default();
        let limits = Limits {
            hourly: 100,
            spike: 3,
        };
        for expected in [2, 1, 0] {
            let v = limiter.check("t", limits, NOW);
            assert!(v.allowed);
            assert_eq!((v.limit, v.remaining), (3, expected));
        }
        let refused = limiter.check("t", limits, NOW + 9);
        assert!(!refused.allowed);
        assert_eq!(refused.reset, NOW + 10);
        assert!(limiter.check("t", limits, NOW + 10).allowed);
        assert!(
            limiter.check("other", limits, NOW + 9).allowed,
            "windows are per token"
        );
    }

    #[test]
    fn the_hourly_window_wins_when_it_runs_out() {
        let mut limiter = RateLimiter::default();
        let limits = Limits {
            hourly: 2,
            spike: 50,
        };
        limiter.check("t", limits, NOW);
        let last = limiter.check("t", limits, NOW + 1);
        assert_eq!((last.limit, last.remaining, last.reset), (2, 0, NOW + 3600));
        let refused = limiter.check("t", limits, NOW + 20);
        assert!(!refused.allowed);
        assert_eq!(refused.reset, NOW + 3600);
    }
}
