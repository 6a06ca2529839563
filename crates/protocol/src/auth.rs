//! Signed HTTP requests: how a customer (or the operator) proves who is asking.
//!
//! Every request that writes, or reads an account's own data, carries four headers:
//! the account's public key ([`ACCOUNT_HEADER`]), the time it was signed
//! ([`TIME_HEADER`], Unix ms), a random nonce ([`NONCE_HEADER`]) and an ed25519
//! signature ([`SIGNATURE_HEADER`]) over [`RequestToSign::signing_bytes`]: the method, the
//! path with its query, the time, the nonce and the BLAKE3 hash of the body
//! ([`BODY_HASH_HEADER`], so a streamed body can be checked as it arrives).
//!
//! The coordinator accepts a signature only within [`MAX_SKEW_MS`] of its own clock and
//! only once (it remembers nonces for twice that window), so a captured request cannot be
//! replayed, and a request signed on a clock that is badly off is refused with a sentence
//! saying by how much. There are no sessions or tokens to steal: each request stands alone.
//! This module is pure; the caller supplies the time and the nonce.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier};

use crate::content::ContentId;
use crate::ids::NodeId;

/// The signer's public key (base32, as node ids are written).
pub const ACCOUNT_HEADER: &str = "x-idleshare-account";
/// When the request was signed, Unix milliseconds.
pub const TIME_HEADER: &str = "x-idleshare-time";
/// A random 64-bit nonce, 16 hex digits.
pub const NONCE_HEADER: &str = "x-idleshare-nonce";
/// The BLAKE3 hash of the body (a content id), empty body included.
pub const BODY_HASH_HEADER: &str = "x-idleshare-body";
/// The signature, 128 hex digits.
pub const SIGNATURE_HEADER: &str = "x-idleshare-signature";
/// How far a request's time may be from the coordinator's clock.
pub const MAX_SKEW_MS: u64 = 5 * 60 * 1000;

/// An account is an ed25519 key; its id is the public key, written like a node id.
pub type AccountId = NodeId;

/// What a request signature covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestToSign<'a> {
    /// `GET`, `PUT`, `POST`, ...
    pub method: &'a str,
    /// The path and query exactly as sent (`/v1/jobs?x=1`).
    pub path_and_query: &'a str,
    /// When it was signed (Unix ms).
    pub time_ms: u64,
    /// A random number used once.
    pub nonce: u64,
    /// BLAKE3 of the body.
    pub body: ContentId,
}

/// The four headers of a signed request, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// [`ACCOUNT_HEADER`].
    pub account: String,
    /// [`TIME_HEADER`].
    pub time: String,
    /// [`NONCE_HEADER`].
    pub nonce: String,
    /// [`BODY_HASH_HEADER`].
    pub body: String,
    /// [`SIGNATURE_HEADER`].
    pub signature: String,
}

impl SignedHeaders {
    /// The headers as (name, value) pairs.
    pub fn pairs(&self) -> [(&'static str, &str); 5] {
        [
            (ACCOUNT_HEADER, &self.account),
            (TIME_HEADER, &self.time),
            (NONCE_HEADER, &self.nonce),
            (BODY_HASH_HEADER, &self.body),
            (SIGNATURE_HEADER, &self.signature),
        ]
    }
}

/// Why a signed request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No account headers at all.
    #[error(
        "this request needs a customer account: sign it with your account key (run `idleshare account` to create one and see its id; an operator deposits tokens to it)"
    )]
    Missing,
    /// A header is present but unreadable.
    #[error("bad {header} header: {detail}")]
    BadHeader {
        /// The header.
        header: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The signature does not match.
    #[error("the request signature does not match account {0}")]
    BadSignature(AccountId),
    /// Signed too long ago or in the future.
    #[error(
        "the request was signed {skew_s} s away from the coordinator's clock (at most {max_s} s allowed); check this computer's clock"
    )]
    Skew {
        /// Seconds off (absolute).
        skew_s: u64,
        /// The limit in seconds.
        max_s: u64,
    },
    /// This exact request was already accepted.
    #[error("this request was already received once (replayed); sign a new one")]
    Replayed,
    /// Signed before the coordinator last started (it cannot know whether it saw it).
    #[error("the request was signed before the coordinator last started; sign it again")]
    BeforeStart,
    /// The body does not hash to what was signed.
    #[error("the body does not match its signed hash")]
    BodyMismatch,
}

impl RequestToSign<'_> {
    /// The exact bytes signed.
    pub fn signing_bytes(&self) -> Vec<u8> {
        format!(
            "idleshare-request/1\n{}\n{}\n{}\n{:016x}\n{}",
            self.method.to_ascii_uppercase(),
            self.path_and_query,
            self.time_ms,
            self.nonce,
            self.body
        )
        .into_bytes()
    }

    /// Signs it with `key`.
    pub fn sign(&self, key: &SigningKey) -> SignedHeaders {
        let signature = key.sign(&self.signing_bytes());
        SignedHeaders {
            account: NodeId::from(key.verifying_key()).to_string(),
            time: self.time_ms.to_string(),
            nonce: format!("{:016x}", self.nonce),
            body: self.body.to_string(),
            signature: data_encoding::HEXLOWER.encode(&signature.to_bytes()),
        }
    }
}

/// A request whose signature checked out (its time and nonce still to be judged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedRequest {
    /// Who signed.
    pub account: AccountId,
    /// When.
    pub time_ms: u64,
    /// Its nonce.
    pub nonce: u64,
    /// The body hash it promises.
    pub body: ContentId,
}

/// Reads the headers (`None` values are absent headers) and checks the signature over
/// `method` and `path_and_query`; then checks the time against `now_ms`.
pub fn verify_request(
    method: &str,
    path_and_query: &str,
    header: impl Fn(&'static str) -> Option<String>,
    now_ms: u64,
) -> Result<VerifiedRequest, AuthError> {
    let Some(account) = header(ACCOUNT_HEADER) else {
        return Err(AuthError::Missing);
    };
    let bad = |header: &'static str, detail: String| AuthError::BadHeader { header, detail };
    let required = |name: &'static str| header(name).ok_or_else(|| bad(name, "missing".into()));
    let account: AccountId = account
        .trim()
        .parse()
        .map_err(|e| bad(ACCOUNT_HEADER, format!("{e}")))?;
    let time_ms: u64 = required(TIME_HEADER)?
        .trim()
        .parse()
        .map_err(|_| bad(TIME_HEADER, "not Unix milliseconds".into()))?;
    let nonce = u64::from_str_radix(required(NONCE_HEADER)?.trim(), 16)
        .map_err(|_| bad(NONCE_HEADER, "not 16 hex digits".into()))?;
    let body: ContentId = required(BODY_HASH_HEADER)?
        .trim()
        .parse()
        .map_err(|e| bad(BODY_HASH_HEADER, format!("{e}")))?;
    let signature_hex = required(SIGNATURE_HEADER)?;
    let bytes: [u8; 64] = data_encoding::HEXLOWER_PERMISSIVE
        .decode(signature_hex.trim().as_bytes())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad(SIGNATURE_HEADER, "not 128 hex digits".into()))?;
    let signed = RequestToSign {
        method,
        path_and_query,
        time_ms,
        nonce,
        body,
    };
    let key = account
        .verifying_key()
        .map_err(|_| AuthError::BadSignature(account))?;
    key.verify(&signed.signing_bytes(), &Signature::from_bytes(&bytes))
        .map_err(|_| AuthError::BadSignature(account))?;
    let skew = now_ms.abs_diff(time_ms);
    if skew > MAX_SKEW_MS {
        return Err(AuthError::Skew {
            skew_s: skew / 1000,
            max_s: MAX_SKEW_MS / 1000,
        });
    }
    Ok(VerifiedRequest {
        account,
        time_ms,
        nonce,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn headers(signed: &SignedHeaders) -> HashMap<&'static str, String> {
        signed
            .pairs()
            .into_iter()
            .map(|(k, v)| (k, v.to_owned()))
            .collect()
    }

    fn request(time_ms: u64) -> RequestToSign<'static> {
        RequestToSign {
            method: "POST",
            path_and_query: "/v1/jobs",
            time_ms,
            nonce: 7,
            body: ContentId::of(b"{}"),
        }
    }

    #[test]
    fn a_signed_request_verifies_and_names_its_account() {
        let key = SigningKey::from_bytes(&[4; 32]);
        let h = headers(&request(1_000_000).sign(&key));
        let ok = verify_request("POST", "/v1/jobs", |n| h.get(n).cloned(), 1_000_500).unwrap();
        assert_eq!(ok.account, NodeId::from(key.verifying_key()));
        assert_eq!((ok.nonce, ok.body), (7, ContentId::of(b"{}")));
    }

    #[test]
    fn anything_changed_breaks_the_signature() {
        let key = SigningKey::from_bytes(&[4; 32]);
        let h = headers(&request(1_000_000).sign(&key));
        let get = |n: &'static str| h.get(n).cloned();
        for (method, path) in [("PUT", "/v1/jobs"), ("POST", "/v1/jobs?x=1")] {
            assert!(matches!(
                verify_request(method, path, get, 1_000_000),
                Err(AuthError::BadSignature(_))
            ));
        }
        let mut other_body = h.clone();
        other_body.insert(BODY_HASH_HEADER, ContentId::of(b"[]").to_string());
        assert!(matches!(
            verify_request(
                "POST",
                "/v1/jobs",
                |n| other_body.get(n).cloned(),
                1_000_000
            ),
            Err(AuthError::BadSignature(_))
        ));
        let mut other_key = h.clone();
        let stranger = NodeId::from(SigningKey::from_bytes(&[5; 32]).verifying_key());
        other_key.insert(ACCOUNT_HEADER, stranger.to_string());
        assert_eq!(
            verify_request("POST", "/v1/jobs", |n| other_key.get(n).cloned(), 1_000_000),
            Err(AuthError::BadSignature(stranger))
        );
    }

    #[test]
    fn clock_skew_beyond_the_window_is_refused_in_both_directions() {
        let key = SigningKey::from_bytes(&[4; 32]);
        let t = 10 * MAX_SKEW_MS;
        let h = headers(&request(t).sign(&key));
        let get = |n: &'static str| h.get(n).cloned();
        for now in [t - MAX_SKEW_MS, t + MAX_SKEW_MS] {
            assert!(verify_request("POST", "/v1/jobs", get, now).is_ok());
        }
        for now in [t - MAX_SKEW_MS - 1000, t + MAX_SKEW_MS + 1000] {
            assert_eq!(
                verify_request("POST", "/v1/jobs", get, now),
                Err(AuthError::Skew {
                    skew_s: MAX_SKEW_MS / 1000 + 1,
                    max_s: 300
                })
            );
        }
    }

    #[test]
    fn no_headers_is_missing_and_garbage_is_named() {
        assert_eq!(
            verify_request("GET", "/", |_| None, 0),
            Err(AuthError::Missing)
        );
        let key = SigningKey::from_bytes(&[4; 32]);
        let mut h = headers(&request(0).sign(&key));
        h.insert(SIGNATURE_HEADER, "zz".into());
        assert!(matches!(
            verify_request("POST", "/v1/jobs", |n| h.get(n).cloned(), 0),
            Err(AuthError::BadHeader {
                header: SIGNATURE_HEADER,
                ..
            })
        ));
        assert!(AuthError::Missing.to_string().contains("idleshare account"));
    }
}
