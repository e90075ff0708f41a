//! Per-client token buckets, charged by what a query may cost
//! (`graphql::limits`), not by how many requests a client sends.
//!
//! Hand-written rather than `governor`: a request's charge is only known
//! after its document is measured and varies per request, and the eviction
//! we want is lossless — a bucket that has refilled to capacity is the same as
//! no bucket, so idle clients are simply dropped. Memory stays under
//! [`MAX_CLIENTS`] buckets.
//!
//! With `TALENTGRAPH_REDIS_URL` the buckets live in Redis instead (see
//! [`SharedBuckets`]), so that every copy of the service charges the same
//! bucket; while Redis cannot be reached, each process charges its own.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use prometheus::{IntCounter, IntGauge, Registry};
use sha2::{Digest, Sha256};

/// Most clients tracked at once (a few MB at most).
pub const MAX_CLIENTS: usize = 100_000;

/// Who is charged: a bearer token (only a hash of it is kept) or an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    Token([u8; 16]),
    Address(IpAddr),
}

impl ClientKey {
    /// The same in every process, so that copies of the service sharing
    /// Redis charge one bucket.
    fn redis_suffix(&self) -> String {
        match self {
            ClientKey::Token(hash) => {
                let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
                format!("token:{hex}")
            }
            ClientKey::Address(address) => format!("address:{address}"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// What a charge left: the figures `extensions.cost` and the `RateLimit-*`
/// headers show.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// The points this request was charged (or asked for, when refused).
    pub requested: u64,
    /// The bucket's capacity.
    pub limit: u64,
    /// Points left after the charge.
    pub remaining: u64,
    /// Until the bucket is full again.
    pub full_in: Duration,
}

/// The outcome of [`RateLimiter::charge`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Charge {
    /// Limiting is off (`TALENTGRAPH_RATE_LIMIT_CAPACITY=0`).
    Unlimited {
        requested: u64,
    },
    Allowed(Budget),
    /// Not enough points: nothing was taken; `retry_after` until there are.
    Refused {
        budget: Budget,
        retry_after: Duration,
    },
}

impl Charge {
    pub fn budget(&self) -> Option<Budget> {
        match self {
            Charge::Unlimited { .. } => None,
            Charge::Allowed(budget) | Charge::Refused { budget, .. } => Some(*budget),
        }
    }

    pub fn requested(&self) -> u64 {
        match self {
            Charge::Unlimited { requested } => *requested,
            Charge::Allowed(budget) | Charge::Refused { budget, .. } => budget.requested,
        }
    }
}

pub struct RateLimiter {
    capacity: f64,
    refill_per_second: f64,
    buckets: Mutex<Buckets>,
    shared: Option<SharedBuckets>,
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
            buckets: Mutex::new(Buckets::default()),
            shared: None,
        }
    }

    /// Keeps the buckets in Redis from now on (falling back to this
    /// process's own while Redis cannot be reached).
    pub fn share(&mut self, shared: SharedBuckets) {
        self.shared = Some(shared);
    }

    /// A hash of the secret, never the secret: in memory and in Redis keys.
    pub fn token_key(&self, token: &str) -> ClientKey {
        let digest = Sha256::new()
            .chain_update(b"talentgraph rate limit\0")
            .chain_update(token.as_bytes())
            .finalize();
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        ClientKey::Token(key)
    }

    /// Takes `cost` points from the client's bucket, or says how long until
    /// it holds enough. A query dearer than the whole bucket needs a full one.
    pub async fn charge(&self, key: ClientKey, cost: u64) -> Charge {
        let requested = cost.max(1);
        if self.capacity <= 0.0 {
            return Charge::Unlimited { requested };
        }
        let cost = (requested as f64).min(self.capacity);
        if let Some(shared) = &self.shared
            && let Some(outcome) = shared
                .charge(&key, self.capacity, self.refill_per_second, cost)
                .await
        {
            return self.outcome(requested, outcome);
        }
        let outcome = self.charge_locally(key, cost);
        self.outcome(requested, outcome)
    }

    fn outcome(&self, requested: u64, outcome: Outcome) -> Charge {
        let budget = Budget {
            requested,
            limit: self.capacity as u64,
            remaining: outcome.tokens.max(0.0).floor() as u64,
            full_in: self.time_to_gain(self.capacity - outcome.tokens),
        };
        if outcome.allowed {
            Charge::Allowed(budget)
        } else {
            Charge::Refused {
                budget,
                retry_after: outcome.retry_after,
            }
        }
    }

    /// How long until the bucket has gained `points`.
    fn time_to_gain(&self, points: f64) -> Duration {
        if points <= 0.0 {
            return Duration::ZERO;
        }
        if self.refill_per_second > 0.0 {
            Duration::from_secs_f64((points / self.refill_per_second).min(3600.0 * 24.0))
        } else {
            Duration::from_secs(3600)
        }
    }

    fn charge_locally(&self, key: ClientKey, cost: f64) -> Outcome {
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
                return Outcome {
                    allowed: true,
                    tokens: self.capacity,
                    retry_after: Duration::ZERO,
                };
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
            return Outcome {
                allowed: true,
                tokens: bucket.tokens,
                retry_after: Duration::ZERO,
            };
        }
        Outcome {
            allowed: false,
            tokens: bucket.tokens,
            retry_after: self.retry_after(cost - bucket.tokens),
        }
    }

    /// Whole seconds, at least one: what `Retry-After` says.
    fn retry_after(&self, missing: f64) -> Duration {
        let wait = if self.refill_per_second > 0.0 {
            (missing / self.refill_per_second).ceil().max(1.0)
        } else {
            3600.0
        };
        Duration::from_secs_f64(wait)
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

/// One charge's result, wherever the bucket lives.
#[derive(Debug, Clone, Copy)]
struct Outcome {
    allowed: bool,
    /// Points in the bucket after the charge.
    tokens: f64,
    retry_after: Duration,
}

/// Refill, charge and save one bucket atomically, on Redis's own clock (so
/// that the copies of the service need not agree on the time). A bucket's
/// key expires once it would be full again: a full bucket and no bucket are
/// the same.
const CHARGE_SCRIPT: &str = r#"
local capacity = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(saved[1])
local at = tonumber(saved[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
if now > at then
  tokens = math.min(capacity, tokens + (now - at) * refill / 1000)
end
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
local full_ms = 3600000
if refill > 0 then
  full_ms = math.ceil((capacity - tokens) * 1000 / refill)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], full_ms + 1000)
return {allowed, tostring(tokens)}
"#;

/// How long one Redis round trip may take before the charge is made locally.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);
/// How often a process that lost Redis tries it again.
const REDIS_RETRY: Duration = Duration::from_secs(1);

/// Buckets in Redis, shared by every process that names the same server
/// and key prefix.
pub struct SharedBuckets {
    client: redis::Client,
    prefix: String,
    script: redis::Script,
    conn: tokio::sync::Mutex<Connection>,
    /// Whether the last charge reached Redis (to log each change once).
    reachable: AtomicBool,
    fallbacks: IntCounter,
    up: IntGauge,
}

#[derive(Default)]
struct Connection {
    open: Option<redis::aio::MultiplexedConnection>,
    /// No connection attempt before this (after a failure).
    quiet_until: Option<Instant>,
}

impl SharedBuckets {
    /// Registers its metrics; connects on the first charge.
    pub fn new(url: &str, prefix: &str, registry: &Registry) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|error| anyhow::anyhow!("TALENTGRAPH_REDIS_URL is not valid: {error}"))?;
        let fallbacks = IntCounter::new(
            "rate_limit_redis_fallbacks_total",
            "Charges made on this process's own buckets because Redis could not be reached",
        )?;
        let up = IntGauge::new(
            "rate_limit_redis_up",
            "1 if the last rate-limit charge reached Redis",
        )?;
        registry.register(Box::new(fallbacks.clone()))?;
        registry.register(Box::new(up.clone()))?;
        Ok(SharedBuckets {
            client,
            prefix: prefix.to_owned(),
            script: redis::Script::new(CHARGE_SCRIPT),
            conn: tokio::sync::Mutex::new(Connection::default()),
            reachable: AtomicBool::new(true),
            fallbacks,
            up,
        })
    }

    /// The charge made in Redis, or `None` (counted, and logged when Redis
    /// stops answering) for the caller to charge locally.
    async fn charge(
        &self,
        key: &ClientKey,
        capacity: f64,
        refill_per_second: f64,
        cost: f64,
    ) -> Option<Outcome> {
        match self
            .try_charge(key, capacity, refill_per_second, cost)
            .await
        {
            Ok((allowed, tokens)) => {
                if !self.reachable.swap(true, Ordering::AcqRel) {
                    tracing::info!("Redis answers again: rate limits are shared again");
                }
                self.up.set(1);
                let retry_after = if allowed {
                    Duration::ZERO
                } else if refill_per_second > 0.0 {
                    Duration::from_secs_f64(((cost - tokens) / refill_per_second).ceil().max(1.0))
                } else {
                    Duration::from_secs(3600)
                };
                Some(Outcome {
                    allowed,
                    tokens,
                    retry_after,
                })
            }
            Err(error) => {
                if self.reachable.swap(false, Ordering::AcqRel) {
                    tracing::warn!(
                        %error,
                        "Redis cannot be reached: rate limits fall back to this process's own buckets"
                    );
                }
                self.up.set(0);
                self.fallbacks.inc();
                None
            }
        }
    }

    async fn try_charge(
        &self,
        key: &ClientKey,
        capacity: f64,
        refill_per_second: f64,
        cost: f64,
    ) -> Result<(bool, f64), String> {
        let mut conn = self.connection().await?;
        let mut invocation = self
            .script
            .key(format!("{}{}", self.prefix, key.redis_suffix()));
        invocation.arg(capacity).arg(refill_per_second).arg(cost);
        let call = invocation.invoke_async::<(i64, String)>(&mut conn);
        let answer = tokio::time::timeout(REDIS_TIMEOUT, call).await;
        let answer = match answer {
            Ok(Ok(answer)) => answer,
            Ok(Err(error)) => return Err(self.forget(error.to_string()).await),
            Err(_) => return Err(self.forget("no answer in time".to_owned()).await),
        };
        let tokens: f64 = answer
            .1
            .parse()
            .map_err(|_| format!("the script answered {:?}", answer.1))?;
        Ok((answer.0 == 1, tokens))
    }

    /// Drops a connection that failed, so the next charge (after a pause)
    /// opens a new one.
    async fn forget(&self, error: String) -> String {
        let mut conn = self.conn.lock().await;
        conn.open = None;
        conn.quiet_until = Some(Instant::now() + REDIS_RETRY);
        error
    }

    async fn connection(&self) -> Result<redis::aio::MultiplexedConnection, String> {
        let mut conn = self.conn.lock().await;
        if let Some(open) = &conn.open {
            return Ok(open.clone());
        }
        if conn.quiet_until.is_some_and(|until| Instant::now() < until) {
            return Err("Redis failed a moment ago".to_owned());
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT));
        match self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
        {
            Ok(open) => {
                conn.open = Some(open.clone());
                conn.quiet_until = None;
                Ok(open)
            }
            Err(error) => {
                conn.quiet_until = Some(Instant::now() + REDIS_RETRY);
                Err(error.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(n: u32) -> ClientKey {
        ClientKey::Address(IpAddr::from(n.to_be_bytes()))
    }

    fn allowed(charge: Charge) -> bool {
        matches!(charge, Charge::Allowed(_) | Charge::Unlimited { .. })
    }

    #[tokio::test]
    async fn a_bucket_empties_and_says_when_to_come_back() {
        let limiter = RateLimiter::new(100, 10);
        let first = limiter.charge(address(1), 60).await;
        assert_eq!(first.budget().map(|b| b.remaining), Some(40));
        assert!(allowed(limiter.charge(address(1), 40).await));
        let Charge::Refused {
            retry_after,
            budget,
        } = limiter.charge(address(1), 30).await
        else {
            panic!("an empty bucket refuses");
        };
        assert!((3..=4).contains(&retry_after.as_secs()), "{retry_after:?}");
        assert_eq!(budget.remaining, 0);
        // Empty, 10 points a second: full in about 10 s.
        assert!((9..=10).contains(&budget.full_in.as_secs()), "{budget:?}");
        // Another client has its own bucket.
        assert!(allowed(limiter.charge(address(2), 100).await));
        // Dearer than the bucket: needs a full one, not forever.
        assert!(!allowed(limiter.charge(address(2), 1_000).await));
        assert!(allowed(
            RateLimiter::new(10, 1).charge(address(3), 1_000).await
        ));
    }

    #[tokio::test]
    async fn tokens_are_keyed_by_hash_and_off_means_off() {
        let limiter = RateLimiter::new(0, 0);
        for _ in 0..1000 {
            assert!(allowed(limiter.charge(address(1), u64::MAX).await));
        }
        assert_eq!(limiter.token_key("a"), limiter.token_key("a"));
        assert_ne!(limiter.token_key("a"), limiter.token_key("b"));
        // The same in another process: copies sharing Redis share the bucket.
        assert_eq!(
            limiter.token_key("a"),
            RateLimiter::new(1, 1).token_key("a")
        );
    }

    #[tokio::test]
    async fn idle_clients_are_evicted_so_memory_stays_bounded() {
        // Refills instantly: every bucket is idle (full) by the next request.
        let limiter = RateLimiter::new(10, u64::MAX);
        for n in 0..(MAX_CLIENTS as u32 + 10) {
            assert!(allowed(limiter.charge(address(n), 1).await));
        }
        assert!(limiter.tracked() <= MAX_CLIENTS);
    }
}
