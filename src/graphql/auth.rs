//! Who is calling: the bearer token a request carries, checked only where a
//! field needs it (every write; reads stay public).

use std::collections::HashSet;
use std::sync::Mutex;

use async_graphql::Context;

use super::context::ContextExt;
use super::error::{ApiError, ApiResult};
use crate::auth::{self, Role};
use crate::db;
use crate::db::writes::Author;

/// The `Authorization` header of the request, as sent (request data).
#[derive(Debug, Clone, Default)]
pub struct Credentials(pub Option<String>);

impl Credentials {
    /// The secret of an `Authorization: Bearer <secret>` header (the scheme is
    /// case-insensitive, RFC 9110); `None` for no header or another scheme.
    pub fn bearer_secret(&self) -> Option<&str> {
        let (scheme, secret) = self.0.as_deref()?.trim().split_once(' ')?;
        let secret = secret.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !secret.is_empty()).then_some(secret)
    }
}

/// Hashes of the bearer tokens this process has seen to be valid. The rate
/// limiter gives those a budget of their own and charges any other bearer
/// string to the caller's address: inventing tokens buys no extra budget.
#[derive(Debug, Default)]
pub struct VerifiedTokens(Mutex<HashSet<Vec<u8>>>);

impl VerifiedTokens {
    /// Far more than the tokens anyone issues; past it the set starts over
    /// rather than grow (each token is then looked up once more).
    const MAX: usize = 10_000;

    pub fn contains(&self, secret: &str) -> bool {
        let hash = auth::hash(secret);
        self.0.lock().is_ok_and(|set| set.contains(&hash))
    }

    pub fn insert(&self, secret: &str) {
        if let Ok(mut set) = self.0.lock() {
            if set.len() >= Self::MAX {
                set.clear();
            }
            set.insert(auth::hash(secret));
        }
    }

    /// Looks a token the set does not know up in the database, once, and
    /// remembers it if it is valid. A database error leaves it unknown.
    pub async fn recognise(&self, credentials: &Credentials, pool: &crate::db::DbPool) {
        let Some(secret) = credentials.bearer_secret() else {
            return;
        };
        if self.contains(secret) {
            return;
        }
        let Ok(mut conn) = pool.get().await else {
            return;
        };
        if let Ok(Some(_)) = db::tokens::active_by_hash(&mut conn, &auth::hash(secret)).await {
            self.insert(secret);
        }
    }
}

/// A caller whose token is valid and allows what was asked.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: i64,
    pub role: Role,
}

impl Caller {
    pub fn author(&self) -> Author {
        Author::token(self.token_id)
    }
}

/// The caller, if their token is valid and its role allows `needed`:
/// `UNAUTHENTICATED` without a valid token, `FORBIDDEN` with too small a role.
pub async fn require(ctx: &Context<'_>, needed: Role) -> ApiResult<Caller> {
    let secret = ctx
        .data_opt::<Credentials>()
        .and_then(Credentials::bearer_secret)
        .ok_or(ApiError::Unauthenticated)?;
    let mut conn = ctx.pool()?.get().await?;
    let token = db::tokens::active_by_hash(&mut conn, &auth::hash(secret))
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let role = Role::from_db(&token.role).ok_or_else(|| {
        ApiError::internal(format!("token {} has role {:?}", token.id, token.role))
    })?;
    if !role.allows(needed) {
        return Err(ApiError::Forbidden(format!(
            "this needs an {} token; yours is {}",
            needed.as_db(),
            role.as_db()
        )));
    }
    Ok(Caller {
        token_id: token.id,
        role,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_secrets() {
        let secret = |h: &str| {
            Credentials(Some(h.to_owned()))
                .bearer_secret()
                .map(str::to_owned)
        };
        assert_eq!(secret("Bearer tg_abc"), Some("tg_abc".into()));
        assert_eq!(secret("bearer   tg_abc "), Some("tg_abc".into()));
        assert_eq!(secret("Basic dXNlcjpwYXNz"), None);
        assert_eq!(secret("Bearer "), None);
        assert_eq!(Credentials(None).bearer_secret(), None);
    }
}
