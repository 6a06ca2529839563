//! Just enough DER to find the subject public key of an X.509 certificate.
//!
//! We never search the bytes for a key pattern (a hostile certificate could plant one in a
//! name field); we walk the structure: Certificate → tbsCertificate → its seventh field
//! (sixth when the optional version is absent), the SubjectPublicKeyInfo.

use idleshare_protocol::NodeId;

/// DER of the Ed25519 SubjectPublicKeyInfo header (RFC 8410), followed by 32 key bytes.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

const SEQUENCE: u8 = 0x30;
const CONTEXT_0: u8 = 0xa0;

/// Why a certificate's key could not be read as an ed25519 node id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertKeyError {
    /// The DER structure is broken.
    #[error("certificate is not valid DER: {0}")]
    Malformed(&'static str),
    /// The certificate's key is not ed25519 (or not a valid point).
    #[error("certificate key is not an ed25519 public key")]
    NotEd25519,
}

/// One DER element: tag, the element's full bytes and its content.
struct Element<'a> {
    tag: u8,
    whole: &'a [u8],
    content: &'a [u8],
}

fn read_element(input: &[u8]) -> Result<(Element<'_>, &[u8]), CertKeyError> {
    let (&tag, rest) = input
        .split_first()
        .ok_or(CertKeyError::Malformed("truncated tag"))?;
    let (&first, rest) = rest
        .split_first()
        .ok_or(CertKeyError::Malformed("truncated length"))?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let count = (first & 0x7f) as usize;
        if count == 0 || count > 4 || rest.len() < count {
            return Err(CertKeyError::Malformed("bad length"));
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | b as usize);
        (len, &rest[count..])
    };
    if rest.len() < len {
        return Err(CertKeyError::Malformed("element longer than input"));
    }
    let header_len = input.len() - rest.len();
    let element = Element {
        tag,
        whole: &input[..header_len + len],
        content: &rest[..len],
    };
    Ok((element, &rest[len..]))
}

/// Reads the ed25519 public key of a DER certificate as a [`NodeId`].
pub fn ed25519_key_of_certificate(cert_der: &[u8]) -> Result<NodeId, CertKeyError> {
    let (certificate, _) = read_element(cert_der)?;
    if certificate.tag != SEQUENCE {
        return Err(CertKeyError::Malformed("certificate is not a sequence"));
    }
    let (tbs, _) = read_element(certificate.content)?;
    if tbs.tag != SEQUENCE {
        return Err(CertKeyError::Malformed("tbsCertificate is not a sequence"));
    }
    let mut fields = tbs.content;
    let (first, _) = read_element(fields)?;
    // serial, signature algorithm, issuer, validity, subject come before the key.
    let skip = if first.tag == CONTEXT_0 { 6 } else { 5 };
    for _ in 0..skip {
        fields = read_element(fields)?.1;
    }
    let (spki, _) = read_element(fields)?;
    let key = spki
        .whole
        .strip_prefix(&ED25519_SPKI_PREFIX[..])
        .filter(|key| key.len() == 32)
        .ok_or(CertKeyError::NotEd25519)?;
    NodeId::from_slice(key).map_err(|_| CertKeyError::NotEd25519)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_and_garbage_inputs_are_errors_not_panics() {
        for input in [
            &[][..],
            &[0x30],
            &[0x30, 0x85, 1, 2, 3, 4, 5],
            &[0x30, 0x10, 1],
        ] {
            assert!(ed25519_key_of_certificate(input).is_err());
        }
        for seed in 0..=255u8 {
            let garbage: Vec<u8> = (0..64)
                .map(|i| seed.wrapping_mul(31).wrapping_add(i))
                .collect();
            let _ = ed25519_key_of_certificate(&garbage);
        }
    }
}
