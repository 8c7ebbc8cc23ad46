//! Cookie grammar (RFC 6265 §4.1.1) shared by the gate's cookie settings and the Auth.js cookie
//! reader, which salts its key with the cookie's name.

/// Whether `name` can be a session cookie's name: non-empty visible ASCII, without the bytes
/// that end or quote a cookie pair (`=`, `;`, `,`, `"`, `\`). The one check for the gate's
/// cookie list and the Auth.js key salt.
pub(crate) fn is_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"=;,\"\\".contains(&b))
}
