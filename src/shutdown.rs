//! Graceful shutdown sized for container runtimes: `docker stop` (and
//! Kubernetes) send SIGTERM, wait a grace period (10 s for Docker), then
//! SIGKILL. actix-web would drain for 30 s on its own, so it would be killed
//! mid-request; instead, on SIGTERM or SIGINT the service
//!
//! 1. answers 503 on `/readyz` at once, so load balancers stop routing to it;
//! 2. keeps accepting connections for the *drain* period, because requests
//!    routed before a balancer noticed are still on their way, and marks every
//!    response `Connection: close` so clients reconnect elsewhere;
//! 3. closes its listener (new connections are refused) and lets in-flight
//!    requests finish;
//! 4. exits 0 when they have, or when the *grace* period since the signal is
//!    spent, whichever comes first.
//!
//! A second signal during the drain skips the rest of it (Ctrl-C twice).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::signal::unix::{Signal, SignalKind, signal};

/// Set once a termination signal has arrived; `/readyz` and the
/// connection policy read it.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn begin(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// How long a shutdown may take. Whole seconds: actix's worker timeout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownTimes {
    /// From the signal to the exit, at most. Fits inside `docker stop`'s 10 s.
    pub grace: Duration,
    /// From the signal to closing the listener.
    pub drain: Duration,
}

pub const DEFAULT_GRACE_SECS: u64 = 8;
pub const DEFAULT_DRAIN_SECS: u64 = 2;

impl Default for ShutdownTimes {
    fn default() -> Self {
        ShutdownTimes {
            grace: Duration::from_secs(DEFAULT_GRACE_SECS),
            drain: Duration::from_secs(DEFAULT_DRAIN_SECS),
        }
    }
}

impl ShutdownTimes {
    /// Seconds in-flight requests get once the listener is closed.
    pub fn in_flight_secs(&self) -> u64 {
        self.grace.saturating_sub(self.drain).as_secs()
    }
}

/// SIGTERM and SIGINT, listened for from the moment this is built (before
/// migrations, so that a container's PID 1 never ignores `docker stop`).
pub struct Signals {
    terminate: Signal,
    interrupt: Signal,
}

impl Signals {
    pub fn listen() -> std::io::Result<Self> {
        Ok(Signals {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    /// Waits for the next signal and names it.
    pub async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}
