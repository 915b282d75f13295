//! Fault injection for tests: named points in the runtime that a test arms, each firing
//! once. Compiled in only with the `fault-injection` feature (the integration tests turn
//! it on); without it every point is a constant `false`.

#[cfg(feature = "fault-injection")]
static ARMED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Arms the point `name`: the next time the runtime passes it, it fires.
///
/// Points: `receiver` (a receiver thread panics as it hands over a block).
#[cfg(feature = "fault-injection")]
pub fn arm(name: &str) {
    crate::sync::lock(&ARMED).push(name.to_string());
}

/// Whether the point `name` fires now (once per arming).
#[cfg(feature = "fault-injection")]
pub(crate) fn fires(name: &str) -> bool {
    let mut armed = crate::sync::lock(&ARMED);
    match armed.iter().position(|n| n == name) {
        Some(i) => {
            armed.remove(i);
            true
        }
        None => false,
    }
}

/// Whether the point `name` fires now: never without the `fault-injection` feature.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(crate) fn fires(_name: &str) -> bool {
    false
}
