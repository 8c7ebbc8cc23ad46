//! The clock. Every time rule takes `now` as an argument, so tests freeze time exactly; this is
//! only the default source of `now` for callers that do not pass one.

/// Seconds since the Unix epoch, rounded down: the host's `Date.now()` on `wasm32-unknown-unknown`,
/// the system clock elsewhere. A clock before 1970 reads as 0.
pub fn unix_now() -> i64 {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    {
        (js_sys::Date::now() / 1000.0).floor() as i64
    }
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    }
}
