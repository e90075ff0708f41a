//! `Accept` negotiation as GraphQL-over-HTTP asks: the client's most
//! preferred media type among the two the service speaks, or 406.

/// The media type of GraphQL-over-HTTP; errors before execution are 4xx with it.
pub const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
/// The legacy media type; every well-formed request answers 200 with it.
pub const JSON: &str = "application/json";

/// The media type to answer in, or `None` when the client accepts neither
/// (406). No `Accept`, or only wildcards, means plain JSON: the
/// specification asks that of servers while older clients are around.
pub fn response_media_type(accept: Option<&str>) -> Option<&'static str> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(JSON);
    };
    let mut best: Option<(f32, u8, &'static str)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut quality = 1.0_f32;
        for parameter in parts {
            if let Some((name, value)) = parameter.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                quality = value.trim().parse().unwrap_or(0.0);
            }
        }
        // Specific ranges beat wildcards at equal quality.
        let (specificity, media_type) = match media.as_str() {
            GRAPHQL_RESPONSE => (2, GRAPHQL_RESPONSE),
            JSON => (2, JSON),
            "application/*" | "*/*" => (1, JSON),
            _ => continue,
        };
        if quality <= 0.0 {
            continue;
        }
        let better = best.is_none_or(|(q, s, _)| quality > q || (quality == q && specificity > s));
        if better {
            best = Some((quality, specificity, media_type));
        }
    }
    best.map(|(_, _, media_type)| media_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preferred_supported_type_wins() {
        assert_eq!(response_media_type(None), Some(JSON));
        assert_eq!(response_media_type(Some("application/json")), Some(JSON));
        assert_eq!(
            response_media_type(Some("application/json; charset=utf-8")),
            Some(JSON)
        );
        assert_eq!(
            response_media_type(Some(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Some(GRAPHQL_RESPONSE)
        );
        assert_eq!(
            response_media_type(Some(
                "application/graphql-response+json;q=0.5, application/json"
            )),
            Some(JSON)
        );
        assert_eq!(
            response_media_type(Some("*/*, application/graphql-response+json")),
            Some(GRAPHQL_RESPONSE)
        );
        assert_eq!(response_media_type(Some("*/*")), Some(JSON));
    }

    #[test]
    fn nothing_supported_is_none() {
        assert_eq!(response_media_type(Some("application/xml")), None);
        assert_eq!(response_media_type(Some("text/html, image/*")), None);
        assert_eq!(response_media_type(Some("application/json;q=0")), None);
    }
}
