//! Write tokens. A token is a random secret shown once to whoever creates it;
//! only its SHA-256 is stored, so a leaked database does not leak tokens. The
//! secrets are 256 random bits, so a fast hash is enough: there is nothing to
//! brute-force that a slow password hash would protect.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, async_graphql::Enum)]
pub enum Role {
    /// Creates, updates and deletes data.
    Editor,
    /// Everything an editor does, plus managing tokens and reading the audit log.
    Admin,
}

impl Role {
    pub fn as_db(self) -> &'static str {
        match self {
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        match value {
            "editor" => Some(Role::Editor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Whether a token with this role may do what `needed` allows.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::from_db(s).ok_or_else(|| format!("{s:?} is not a role: use editor or admin"))
    }
}

/// Secrets start with this, so that scanners and people can recognise one.
const PREFIX: &str = "tg_";

/// A fresh secret: `tg_` and 32 random bytes in base64url.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_fresh_and_hashed_stably() {
        let (a, b) = (
            new_secret().expect("randomness"),
            new_secret().expect("randomness"),
        );
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX) && a.len() == PREFIX.len() + 43);
        assert_eq!(hash(&a), hash(&a));
        assert_ne!(hash(&a), hash(&b));
        assert_eq!(hash(&a).len(), 32);
    }

    #[test]
    fn admin_allows_what_editor_allows() {
        assert!(Role::Admin.allows(Role::Editor));
        assert!(Role::Editor.allows(Role::Editor));
        assert!(!Role::Editor.allows(Role::Admin));
    }
}
