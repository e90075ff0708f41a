//! Opaque global ids: `base64url("Person:42")`. Unique across types, so that
//! `Query.node(id:)` can find anything, and meaningless to clients on purpose.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Person,
    Organization,
    Employment,
    Publication,
    Source,
    Authorship,
}

impl NodeKind {
    const ALL: [NodeKind; 6] = [
        NodeKind::Person,
        NodeKind::Organization,
        NodeKind::Employment,
        NodeKind::Publication,
        NodeKind::Source,
        NodeKind::Authorship,
    ];

    pub fn name(self) -> &'static str {
        match self {
            NodeKind::Person => "Person",
            NodeKind::Organization => "Organization",
            NodeKind::Employment => "Employment",
            NodeKind::Publication => "Publication",
            NodeKind::Source => "Source",
            NodeKind::Authorship => "Authorship",
        }
    }

    /// The name with its indefinite article, for messages: "an Organization".
    pub fn with_article(self) -> &'static str {
        match self {
            NodeKind::Person => "a Person",
            NodeKind::Organization => "an Organization",
            NodeKind::Employment => "an Employment",
            NodeKind::Publication => "a Publication",
            NodeKind::Source => "a Source",
            NodeKind::Authorship => "an Authorship",
        }
    }
}

pub fn encode(kind: NodeKind, id: i64) -> ID {
    // Every object of every page has one: spelled on the stack rather than
    // through `format!`, so that the id is the only allocation.
    let mut text = [0u8; 12 + 1 + 20];
    let name = kind.name().as_bytes();
    let mut len = name.len();
    text[..len].copy_from_slice(name);
    text[len] = b':';
    len += 1;
    if id < 0 {
        text[len] = b'-';
        len += 1;
    }
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = id.unsigned_abs();
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let digits = &digits[start..];
    text[len..len + digits.len()].copy_from_slice(digits);
    ID(URL_SAFE_NO_PAD.encode(&text[..len + digits.len()]))
}

pub fn decode(id: &ID) -> Result<(NodeKind, i64), ApiError> {
    let invalid =
        || ApiError::BadUserInput(format!("{:?} is not an id this API gave out", id.as_str()));
    let bytes = URL_SAFE_NO_PAD.decode(id.as_str()).map_err(|_| invalid())?;
    let text = std::str::from_utf8(&bytes).map_err(|_| invalid())?;
    let (name, number) = text.split_once(':').ok_or_else(invalid)?;
    let kind = NodeKind::ALL
        .into_iter()
        .find(|k| k.name() == name)
        .ok_or_else(invalid)?;
    let number: i64 = number.parse().map_err(|_| invalid())?;
    Ok((kind, number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_differ_across_types() {
        let person = encode(NodeKind::Person, 7);
        assert_eq!(decode(&person).ok(), Some((NodeKind::Person, 7)));
        assert_ne!(person, encode(NodeKind::Organization, 7));
    }

    #[test]
    fn ids_spell_kind_colon_number_for_every_kind_and_extreme_numbers() {
        for kind in NodeKind::ALL {
            for id in [0, 1, 9, 10, 42, 1_000_000, -7, i64::MAX, i64::MIN] {
                let encoded = encode(kind, id);
                let text = URL_SAFE_NO_PAD.decode(encoded.as_str()).expect("base64");
                assert_eq!(text, format!("{}:{id}", kind.name()).into_bytes());
                assert_eq!(decode(&encoded).ok(), Some((kind, id)));
            }
        }
    }

    #[test]
    fn foreign_ids_are_bad_input() {
        for bad in [
            "",
            "42",
            "UGVyc29uOg",
            "!!",
            &URL_SAFE_NO_PAD.encode("Robot:1"),
        ] {
            assert!(
                matches!(decode(&ID(bad.to_owned())), Err(ApiError::BadUserInput(_))),
                "{bad}"
            );
        }
    }
}
