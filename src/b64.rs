//! Strict base64url (RFC 4648 §5) without padding, as JWS requires (RFC 7515 §2).
//!
//! Strict means one spelling per byte string: no `=` padding, no `+`/`/`, no whitespace, no
//! length of the form `4n + 1`, and the unused low bits of the last character must be zero
//! (otherwise `…Q` and `…R` would decode to the same bytes, and a signature or token would have
//! several accepted spellings — a cache-key and replay-detection hazard).

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const INVALID: u8 = 0xff;

const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Why a string is not strict base64url. Callers map this to their own error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidBase64;

/// Encodes bytes as base64url without padding.
pub(crate) fn encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(encoded_len(input.len()));
    encode_into(input, &mut out);
    out
}

/// The length of the unpadded encoding of `n` bytes.
pub(crate) const fn encoded_len(n: usize) -> usize {
    (n / 3) * 4
        + match n % 3 {
            0 => 0,
            1 => 2,
            _ => 3,
        }
}

/// Appends the base64url encoding of `input` to `out`.
pub(crate) fn encode_into(input: &[u8], out: &mut String) {
    let mut chunks = input.chunks_exact(3);
    let push = |out: &mut String, idx: u32| out.push(ALPHABET[(idx & 63) as usize] as char);
    for c in &mut chunks {
        let n = (u32::from(c[0]) << 16) | (u32::from(c[1]) << 8) | u32::from(c[2]);
        push(out, n >> 18);
        push(out, n >> 12);
        push(out, n >> 6);
        push(out, n);
    }
    match *chunks.remainder() {
        [a] => {
            let n = u32::from(a) << 16;
            push(out, n >> 18);
            push(out, n >> 12);
        }
        [a, b] => {
            let n = (u32::from(a) << 16) | (u32::from(b) << 8);
            push(out, n >> 18);
            push(out, n >> 12);
            push(out, n >> 6);
        }
        _ => {}
    }
}

/// Decodes strict, unpadded base64url.
pub(crate) fn decode(input: &[u8]) -> Result<Vec<u8>, InvalidBase64> {
    if input.len() % 4 == 1 {
        return Err(InvalidBase64);
    }
    let mut out = Vec::with_capacity(input.len() / 4 * 3 + 2);
    let mut chunks = input.chunks_exact(4);
    for c in &mut chunks {
        let (a, b, cc, d) = (
            DECODE[c[0] as usize],
            DECODE[c[1] as usize],
            DECODE[c[2] as usize],
            DECODE[c[3] as usize],
        );
        if (a | b | cc | d) == INVALID || (a | b | cc | d) & 0xc0 != 0 {
            return Err(InvalidBase64);
        }
        let n = (u32::from(a) << 18) | (u32::from(b) << 12) | (u32::from(cc) << 6) | u32::from(d);
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    match *chunks.remainder() {
        [] => {}
        [a, b] => {
            let (a, b) = (DECODE[a as usize], DECODE[b as usize]);
            if a == INVALID || b == INVALID || b & 0x0f != 0 {
                return Err(InvalidBase64);
            }
            out.push((a << 2) | (b >> 4));
        }
        [a, b, c] => {
            let (a, b, c) = (DECODE[a as usize], DECODE[b as usize], DECODE[c as usize]);
            if a == INVALID || b == INVALID || c == INVALID || c & 0x03 != 0 {
                return Err(InvalidBase64);
            }
            let n = (u32::from(a) << 12) | (u32::from(b) << 6) | u32::from(c);
            out.extend_from_slice(&[(n >> 10) as u8, (n >> 2) as u8]);
        }
        _ => return Err(InvalidBase64),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_length() {
        let data: Vec<u8> = (0..=255u8).collect();
        for n in 0..data.len() {
            let enc = encode(&data[..n]);
            assert_eq!(enc.len(), encoded_len(n));
            assert_eq!(decode(enc.as_bytes()).unwrap(), &data[..n], "length {n}");
        }
    }

    #[test]
    fn known_answers() {
        assert_eq!(encode(b""), "");
        assert_eq!(encode(b"f"), "Zg");
        assert_eq!(encode(b"fo"), "Zm8");
        assert_eq!(encode(b"foo"), "Zm9v");
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(decode(b"-_8").unwrap(), vec![0xfb, 0xff]);
    }

    #[test]
    fn rejects_non_canonical_and_foreign_alphabets() {
        // Padding, standard alphabet, whitespace, impossible length.
        for bad in [
            "Zg==", "Zg=", "+/8", "Zm9 v", "Z", "Zm9vY", "Zm9v\n", "Zm9v.",
        ] {
            assert_eq!(decode(bad.as_bytes()), Err(InvalidBase64), "{bad:?}");
        }
        // Non-zero trailing bits: "Zg" is the one spelling of "f", "Zm8" the one of "fo".
        assert_eq!(decode(b"Zg"), Ok(b"f".to_vec()));
        assert_eq!(decode(b"Zh"), Err(InvalidBase64));
        assert_eq!(decode(b"Zm8"), Ok(b"fo".to_vec()));
        assert_eq!(decode(b"Zm9"), Err(InvalidBase64));
        assert_eq!(decode(b"Zm-"), Err(InvalidBase64));
        assert_eq!(decode(b"Zm_"), Err(InvalidBase64));
        // Non-ASCII bytes.
        assert_eq!(decode("Zm9é".as_bytes()), Err(InvalidBase64));
    }
}
