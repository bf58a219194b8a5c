//! The pauses between `wait`'s attempts: the first is `--interval`, each
//! next one doubles up to a cap, and each is jittered by ±20 % so that many
//! CI jobs started together do not knock in step.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// The longest pause, unless `--interval` asks for a longer one: short
/// enough to notice a healed endpoint within seconds, long enough that an
/// attempt (a TCP connect, a TLS handshake, a login) every 2 s is no load.
pub const MAX_PAUSE: Duration = Duration::from_secs(2);

/// Jitter, in percent either way.
const JITTER_PERCENT: u64 = 20;

/// The pauses of one wait.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    cap: Duration,
}

impl Backoff {
    /// Pauses starting at `interval`, doubling up to `max(interval, MAX_PAUSE)`.
    pub fn new(interval: Duration) -> Backoff {
        Backoff {
            next: interval,
            cap: interval.max(MAX_PAUSE),
        }
    }

    /// The next pause (jittered) and doubles the one after.
    pub fn pause(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.cap);
        jitter(base, random_u64())
    }
}

/// `base` moved by up to ±20 %, as `random` says.
fn jitter(base: Duration, random: u64) -> Duration {
    let ms = u64::try_from(base.as_millis()).unwrap_or(u64::MAX / 2);
    let span = ms * JITTER_PERCENT / 100;
    let offset = random % (2 * span + 1);
    Duration::from_millis(ms - span + offset)
}

/// A random number from the standard library's randomly keyed hasher: no
/// crate for a jitter (or `github`'s stop-commands token).
pub(super) fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::{Backoff, Duration, MAX_PAUSE, jitter};

    fn within(pause: Duration, base_ms: u64) -> bool {
        let ms = u64::try_from(pause.as_millis()).unwrap();
        ms >= base_ms * 8 / 10 && ms <= base_ms * 12 / 10
    }

    #[test]
    fn pauses_double_up_to_the_cap_with_jitter() {
        let mut b = Backoff::new(Duration::from_millis(250));
        for base in [250, 500, 1000, 2000, 2000, 2000] {
            let pause = b.pause();
            assert!(within(pause, base), "{pause:?} is not {base} ms ±20 %");
        }
    }

    #[test]
    fn a_long_interval_is_its_own_cap() {
        let mut b = Backoff::new(Duration::from_secs(5));
        for _ in 0..3 {
            assert!(within(b.pause(), 5000));
        }
        assert!(Duration::from_secs(5) > MAX_PAUSE);
    }

    #[test]
    fn jitter_spans_both_sides() {
        let base = Duration::from_secs(1);
        assert_eq!(jitter(base, 0), Duration::from_millis(800));
        assert_eq!(jitter(base, 400), Duration::from_millis(1200));
        assert_eq!(jitter(base, 401), Duration::from_millis(800));
        assert_eq!(jitter(Duration::ZERO, 7), Duration::ZERO);
    }
}
