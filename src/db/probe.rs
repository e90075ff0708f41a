//! `/readyz`'s look at the primary, on a connection of its own.
//!
//! A probe that took a connection from the request pool would wait behind
//! busy requests, time out and report a busy instance as not ready: a load
//! balancer would then drain a healthy copy just when it is most needed. So
//! each worker keeps one connection for probing alone, opened on first use
//! and replaced when it fails.

use std::time::Duration;

use diesel_async::{AsyncPgConnection, RunQueryDsl};
use tokio::sync::Mutex;

use super::connect;
use crate::config::DatabaseUrl;

pub struct ReadinessProbe {
    url: DatabaseUrl,
    limit: Duration,
    conn: Mutex<Option<AsyncPgConnection>>,
}

impl ReadinessProbe {
    /// `limit` bounds a whole probe: connecting and `SELECT 1`.
    pub fn new(url: DatabaseUrl, limit: Duration) -> Self {
        ReadinessProbe {
            url,
            limit,
            conn: Mutex::new(None),
        }
    }

    /// Whether the database answers `SELECT 1` within the limit.
    pub async fn database_answers(&self) -> bool {
        let attempt = async {
            // Probes arriving together share the answer of one connection.
            let mut conn = self.conn.lock().await;
            if conn.is_none() {
                *conn = connect(&self.url).await.ok();
            }
            let Some(open) = conn.as_mut() else {
                return false;
            };
            let answered = diesel::sql_query("SELECT 1").execute(open).await.is_ok();
            if !answered {
                *conn = None;
            }
            answered
        };
        tokio::time::timeout(self.limit, attempt)
            .await
            .unwrap_or(false)
    }
}
