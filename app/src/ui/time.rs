//! Times as people read them, the same on the server and in the browser.

use chrono::{DateTime, Utc};

/// The current time; wasm32 has no system clock, so the browser asks JavaScript.
pub fn now() -> DateTime<Utc> {
    #[cfg(feature = "hydrate")]
    {
        DateTime::from_timestamp_millis(web_sys::js_sys::Date::now() as i64)
            .unwrap_or_else(Utc::now)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Utc::now()
    }
}

pub fn full_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// "just now", "5 minutes ago", … and the date beyond a week.
pub fn relative_time(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds();
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    match secs {
        s if s < 45 => "just now".to_string(),
        s if s < 3_600 => plural(((s + 30) / 60).max(1), "minute"),
        s if s < 86_400 => plural(s / 3_600, "hour"),
        s if s < 7 * 86_400 => plural(s / 86_400, "day"),
        _ => at.format("%Y-%m-%d").to_string(),
    }
}

/// "in 24 hours", "in 10 minutes".
pub fn from_now(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = ((at - now).num_seconds() + 30) / 60;
    let (n, unit) = if minutes >= 120 {
        (minutes / 60, "hour")
    } else {
        (minutes.max(1), "minute")
    };
    if n == 1 {
        format!("in 1 {unit}")
    } else {
        format!("in {n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn past_times_read_as_people_say_them() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let ago = |secs: i64| relative_time(now - chrono::Duration::seconds(secs), now);
        assert_eq!(ago(-30), "just now", "a clock slightly ahead");
        assert_eq!(ago(10), "just now");
        assert_eq!(ago(60), "1 minute ago");
        assert_eq!(ago(5 * 60), "5 minutes ago");
        assert_eq!(ago(3600), "1 hour ago");
        assert_eq!(ago(2 * 3600), "2 hours ago");
        assert_eq!(ago(86_400), "1 day ago");
        assert_eq!(ago(30 * 86_400), "2026-11-01");
    }

    #[test]
    fn future_times_round_to_minutes_then_hours() {
        let now = Utc.with_ymd_and_hms(2025, 3, 10, 12, 0, 0).unwrap();
        let ahead = |secs: i64| from_now(now + chrono::Duration::seconds(secs), now);
        assert_eq!(ahead(24 * 3600), "in 24 hours");
        assert_eq!(ahead(10 * 60), "in 10 minutes");
        assert_eq!(ahead(20), "in 1 minute");
    }
}
