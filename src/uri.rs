//! The one reading of a URL's authority (`host[:port]`, `[v6][:port]`) shared by the gate's
//! settings (`JWTGATE_JWKS_URL`, `UPSTREAM_URL`, …) and DPoP's `htu` normalisation; each caller
//! then applies its own rule to the host's characters.

/// Splits an authority (no userinfo) into its host, lower-cased (an IPv6 literal kept in its
/// brackets), and its port text (`None` without a `:`). `None` for an IPv6 literal that is
/// empty, unclosed, holds anything but hex digits, `:` and `.`, or is followed by anything but
/// `:port`. A host's own characters are the caller's to check.
pub(crate) fn split_authority(authority: &str) -> Option<(String, Option<&str>)> {
    if let Some(v6) = authority.strip_prefix('[') {
        let (inner, after) = v6.split_once(']')?;
        if inner.is_empty()
            || !inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return None;
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        return Some((format!("[{}]", inner.to_ascii_lowercase()), port));
    }
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    Some((host.to_ascii_lowercase(), port))
}

/// Whether a split host is an IPv6 literal (kept in brackets).
pub(crate) fn is_bracketed(host: &str) -> bool {
    host.starts_with('[')
}
