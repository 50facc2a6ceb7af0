//! One entry of `ALLOWED_ORIGINS`: parsed (and so validated) with the configuration, matched
//! against a browser's `Origin` header by the server's admission check.

/// One entry of `ALLOWED_ORIGINS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginPattern {
    /// `*`: any origin (development only; logged loudly at startup).
    Any,
    /// `scheme://host[:port]`, compared case-insensitively.
    Exact(String),
    /// `scheme://*.domain[:port]`: any subdomain (at least one label) of `domain`.
    Subdomains {
        scheme: String,
        suffix: String,
        port: Option<String>,
    },
}

impl OriginPattern {
    /// Parses an entry; fails with a reason when it is not `scheme://host[:port]`, `*` or a
    /// `scheme://*.domain` wildcard.
    pub fn parse(raw: &str) -> Result<OriginPattern, &'static str> {
        let raw = raw.trim().trim_end_matches('/').to_ascii_lowercase();
        if raw == "*" {
            return Ok(OriginPattern::Any);
        }
        let (scheme, rest) = raw
            .split_once("://")
            .ok_or("must look like https://host[:port]")?;
        if scheme.is_empty()
            || !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return Err("has no valid scheme (https://…)");
        }
        if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
            return Err("must be an origin only: scheme://host[:port], no path");
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || rest.starts_with('[') => {
                if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) {
                    return Err("has an invalid port");
                }
                (h.to_string(), Some(p.to_string()))
            }
            _ => (rest.to_string(), None),
        };
        if let Some(suffix) = host.strip_prefix("*.") {
            if suffix.is_empty() || suffix.contains('*') {
                return Err("a wildcard must be followed by a domain (https://*.example.com)");
            }
            return Ok(OriginPattern::Subdomains {
                scheme: scheme.to_string(),
                suffix: suffix.to_string(),
                port,
            });
        }
        if host.contains('*') {
            return Err("a wildcard is only allowed as the first label (https://*.example.com)");
        }
        Ok(OriginPattern::Exact(raw))
    }

    /// Whether a browser's `Origin` header value matches.
    pub fn matches(&self, origin: &str) -> bool {
        let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
        match self {
            OriginPattern::Any => true,
            OriginPattern::Exact(o) => *o == origin,
            OriginPattern::Subdomains {
                scheme,
                suffix,
                port,
            } => {
                let Some((s, rest)) = origin.split_once("://") else {
                    return false;
                };
                let (host, p) = match rest.rsplit_once(':') {
                    Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => (h, Some(p)),
                    _ => (rest, None),
                };
                let label_ok = host
                    .strip_suffix(suffix.as_str())
                    .and_then(|head| head.strip_suffix('.'))
                    .is_some_and(|head| !head.is_empty());
                s == scheme && label_ok && p == port.as_deref()
            }
        }
    }
}
