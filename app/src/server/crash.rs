//! Crash points for the crash-safety tests (`server/tests/crash.rs`), in debug builds only
//! (not a `TRESTLE_` setting: those are configuration, and this is no setting):
//! with `TEST_CRASH_AT=NAME` the process dies at the point of that name as a power cut
//! or SIGKILL would, nothing unwound or flushed. Release builds have no such switch.

/// Dies here when `TEST_CRASH_AT` names this point.
pub fn point(name: &str) {
    #[cfg(debug_assertions)]
    {
        static AT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
        if AT
            .get_or_init(|| std::env::var("TEST_CRASH_AT").ok())
            .as_deref()
            == Some(name)
        {
            eprintln!("crash point {name}: the process dies here");
            std::process::abort();
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}
