//! Per-client token buckets, charged by what a query may cost
//! (`graphql::limits`), not by how many requests a client sends.
//!
//! Hand-written rather than `governor`: a request's charge is only known
//! after its document is measured and varies per request, and the eviction
//! we want is lossless — a bucket that has refilled to capacity is the same as
//! no bucket, so idle clients are simply dropped. Memory stays under
//! [`MAX_CLIENTS`] buckets.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most clients tracked at once (a few MB at most).
pub const MAX_CLIENTS: usize = 100_000;

/// Who is charged: a bearer token (only a keyed hash of it is kept) or an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    Token(u64),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

pub struct RateLimiter {
    capacity: f64,
    refill_per_second: f64,
    /// Keyed per process, so a token's hash is useless anywhere else.
    token_hasher: RandomState,
    buckets: Mutex<Buckets>,
}

#[derive(Default)]
struct Buckets {
    by_client: HashMap<ClientKey, Bucket>,
    /// Sweeping is O(clients): at most once a second, however many new
    /// clients arrive while the map is full.
    last_sweep: Option<Instant>,
}

impl RateLimiter {
    /// `capacity` 0 switches limiting off.
    pub fn new(capacity: u64, refill_per_second: u64) -> Self {
        RateLimiter {
            capacity: capacity as f64,
            refill_per_second: refill_per_second as f64,
            token_hasher: RandomState::new(),
            buckets: Mutex::new(Buckets::default()),
        }
    }

    pub fn token_key(&self, token: &str) -> ClientKey {
        ClientKey::Token(self.token_hasher.hash_one(token))
    }

    /// Takes `cost` points from the client's bucket, or says how long until
    /// it holds enough. A query dearer than the whole bucket needs a full one.
    pub fn charge(&self, key: ClientKey, cost: u64) -> Result<(), Duration> {
        if self.capacity <= 0.0 {
            return Ok(());
        }
        let cost = (cost.max(1) as f64).min(self.capacity);
        let now = Instant::now();
        // A poisoned lock only means another request panicked mid-update of a
        // number; the map is still usable.
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Buckets {
            by_client,
            last_sweep,
        } = &mut *buckets;
        if by_client.len() >= MAX_CLIENTS && !by_client.contains_key(&key) {
            if last_sweep
                .is_none_or(|at| now.saturating_duration_since(at) >= Duration::from_secs(1))
            {
                *last_sweep = Some(now);
                by_client.retain(|_, bucket| self.refilled(bucket, now) < self.capacity);
            }
            if by_client.len() >= MAX_CLIENTS {
                tracing::warn!(
                    clients = by_client.len(),
                    "rate limiter full of active clients; not tracking a new one"
                );
                return Ok(());
            }
        }
        let bucket = by_client.entry(key).or_insert(Bucket {
            tokens: self.capacity,
            updated: now,
        });
        bucket.tokens = self.refilled(bucket, now);
        bucket.updated = now;
        if bucket.tokens >= cost {
            bucket.tokens -= cost;
            return Ok(());
        }
        let missing = cost - bucket.tokens;
        let wait = if self.refill_per_second > 0.0 {
            (missing / self.refill_per_second).ceil().max(1.0)
        } else {
            3600.0
        };
        Err(Duration::from_secs_f64(wait))
    }

    fn refilled(&self, bucket: &Bucket, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        (bucket.tokens + elapsed * self.refill_per_second).min(self.capacity)
    }

    /// Clients currently tracked.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .by_client
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(n: u32) -> ClientKey {
        ClientKey::Address(IpAddr::from(n.to_be_bytes()))
    }

    #[test]
    fn a_bucket_empties_and_says_when_to_come_back() {
        let limiter = RateLimiter::new(100, 10);
        assert_eq!(limiter.charge(address(1), 60), Ok(()));
        assert_eq!(limiter.charge(address(1), 40), Ok(()));
        let wait = limiter.charge(address(1), 30).expect_err("empty");
        assert!((3..=4).contains(&wait.as_secs()), "{wait:?}");
        // Another client has its own bucket.
        assert_eq!(limiter.charge(address(2), 100), Ok(()));
        // Dearer than the bucket: needs a full one, not forever.
        assert!(limiter.charge(address(2), 1_000).is_err());
        assert_eq!(RateLimiter::new(10, 1).charge(address(3), 1_000), Ok(()));
    }

    #[test]
    fn tokens_are_keyed_by_hash_and_off_means_off() {
        let limiter = RateLimiter::new(0, 0);
        for _ in 0..1000 {
            assert_eq!(limiter.charge(address(1), u64::MAX), Ok(()));
        }
        assert_eq!(limiter.token_key("a"), limiter.token_key("a"));
        assert_ne!(limiter.token_key("a"), limiter.token_key("b"));
    }

    #[test]
    fn idle_clients_are_evicted_so_memory_stays_bounded() {
        // Refills instantly: every bucket is idle (full) by the next request.
        let limiter = RateLimiter::new(10, u64::MAX);
        for n in 0..(MAX_CLIENTS as u32 + 10) {
            assert_eq!(limiter.charge(address(n), 1), Ok(()));
        }
        assert!(limiter.tracked() <= MAX_CLIENTS);
    }
}
