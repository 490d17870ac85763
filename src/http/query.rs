//! What a health request asks for: format, details, exclusions.

use axum::http::{header, HeaderMap};

use crate::snapshot::Format;

/// Parsed health-request options.
#[derive(Debug, Default, PartialEq)]
pub(super) struct HealthQuery {
    /// `?verbose` (Kubernetes style).
    pub verbose: bool,
    /// `?format=text|json`.
    pub format: Option<Format>,
    /// `?exclude=NAME`, repeatable.
    pub exclude: Vec<String>,
}

impl HealthQuery {
    /// Parses the raw query string. Unknown parameters are ignored so probes with
    /// cache-busting parameters keep working.
    pub(super) fn parse(raw: Option<&str>) -> HealthQuery {
        let mut q = HealthQuery::default();
        let Some(raw) = raw else { return q };
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            match k.as_ref() {
                "verbose" => q.verbose = !matches!(v.as_ref(), "false" | "0"),
                "format" => {
                    q.format = match v.as_ref() {
                        "text" | "txt" => Some(Format::Text),
                        "json" => Some(Format::Json),
                        _ => q.format,
                    }
                }
                "exclude" => q
                    .exclude
                    .extend(v.split(',').filter(|s| !s.is_empty()).map(str::to_string)),
                _ => {}
            }
        }
        q
    }

    /// The body format: `?verbose` wins, then `?format=`, then `Accept: text/plain`.
    pub(super) fn format(&self, headers: &HeaderMap) -> Format {
        if self.verbose {
            return Format::Verbose;
        }
        if let Some(f) = self.format {
            return f;
        }
        let wants_text = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.starts_with("text/plain"));
        if wants_text {
            Format::Text
        } else {
            Format::Json
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_options() {
        assert_eq!(HealthQuery::parse(None), HealthQuery::default());
        let q = HealthQuery::parse(Some("verbose&exclude=a&exclude=b,c&x=1"));
        assert!(q.verbose);
        assert_eq!(q.exclude, ["a", "b", "c"]);
        assert_eq!(HealthQuery::parse(Some("format=text")).format, Some(Format::Text));
        assert!(!HealthQuery::parse(Some("verbose=false")).verbose);
    }

    #[test]
    fn accept_text_plain_selects_text() {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, "text/plain".parse().unwrap());
        assert_eq!(HealthQuery::default().format(&h), Format::Text);
        h.insert(header::ACCEPT, "*/*".parse().unwrap());
        assert_eq!(HealthQuery::default().format(&h), Format::Json);
    }
}
