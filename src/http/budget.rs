//! A client's budget, visible: `extensions.cost` (`requested`, `remaining`,
//! `resetAt`) in every GraphQL answer, and the `RateLimit-Limit`,
//! `RateLimit-Remaining` and `RateLimit-Reset` headers of the IETF draft
//! (`draft-ietf-httpapi-ratelimit-headers`: the reset in seconds from now).
//! The figures come from the charge itself, so they are the same whether
//! the buckets are in this process or in Redis.

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use super::rate_limit::Charge;

pub const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
pub const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
pub const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// `{requested, remaining, resetAt}`; without a limit, only `requested`
/// is known and the other two are null.
pub fn cost_extension(charge: &Charge) -> Value {
    match charge.budget() {
        Some(budget) => {
            let reset_at = chrono::Duration::from_std(budget.full_in)
                .ok()
                .and_then(|wait| Utc::now().checked_add_signed(wait))
                .map(|at| at.to_rfc3339_opts(SecondsFormat::Millis, true));
            json!({
                "requested": budget.requested,
                "remaining": budget.remaining,
                "resetAt": reset_at,
            })
        }
        None => json!({
            "requested": charge.requested(),
            "remaining": null,
            "resetAt": null,
        }),
    }
}

/// The `RateLimit-*` headers (none when limiting is off).
pub fn insert_headers(headers: &mut HeaderMap, charge: &Charge) {
    let Some(budget) = charge.budget() else {
        return;
    };
    // Whole seconds, rounded up: the bucket is full by then.
    let reset = budget.full_in.as_secs() + u64::from(budget.full_in.subsec_nanos() > 0);
    for (name, value) in [
        (LIMIT, budget.limit),
        (REMAINING, budget.remaining),
        (RESET, reset),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
}
