//! Who is asking: signed HTTP requests (see [`idleshare_protocol::auth`]) checked at the
//! edge of each route that writes or reads an account's own data.
//!
//! [`Signed`] is an axum extractor: it checks the signature over method, path and headers
//! and the time against the coordinator's clock, then the [`ReplayGuard`] refuses a nonce
//! seen before from the same account. A handler that reads a body checks it against the
//! signed hash with [`Signed::check_body`]. Failures are 401 with a sentence saying what
//! to do.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Json, Response};
use idleshare_base::clock::unix_ms;
use idleshare_base::sync::Mutex;
use idleshare_protocol::ContentId;
use idleshare_protocol::api::ApiError;
use idleshare_protocol::auth::{AccountId, AuthError, MAX_SKEW_MS, verify_request};

use crate::server::Shared;

/// Nonces remembered at most; past this, signed requests wait (503) until old ones age out.
const MAX_REMEMBERED: usize = 1 << 20;

/// Nonces seen within the acceptance window, so each signed request is accepted once. The
/// nonces live in memory, so a request signed before this process started is refused too:
/// a restart must not reopen the window for requests captured before it.
#[derive(Default)]
pub struct ReplayGuard {
    seen: Mutex<Seen>,
    started_ms: u64,
}

#[derive(Default)]
struct Seen {
    set: HashSet<(AccountId, u64)>,
    by_time: VecDeque<(u64, AccountId, u64)>,
}

/// Why the guard refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// Seen before.
    Replayed,
    /// Too many remembered right now.
    Full,
}

impl ReplayGuard {
    /// A guard for a process started at `started_ms`.
    pub fn starting_at(started_ms: u64) -> Self {
        Self {
            seen: Mutex::default(),
            started_ms,
        }
    }

    /// Records `(account, nonce)` seen at `now_ms`; refuses one already seen. Entries
    /// older than twice the skew window are forgotten: a request that old fails the
    /// time check anyway.
    pub fn admit(&self, account: AccountId, nonce: u64, now_ms: u64) -> Result<(), Replay> {
        let mut seen = self.seen.lock();
        let horizon = now_ms.saturating_sub(2 * MAX_SKEW_MS);
        while let Some(&(at, old_account, old_nonce)) = seen.by_time.front() {
            if at >= horizon {
                break;
            }
            seen.by_time.pop_front();
            seen.set.remove(&(old_account, old_nonce));
        }
        if seen.set.contains(&(account, nonce)) {
            return Err(Replay::Replayed);
        }
        if seen.set.len() >= MAX_REMEMBERED {
            return Err(Replay::Full);
        }
        seen.set.insert((account, nonce));
        seen.by_time.push_back((now_ms, account, nonce));
        Ok(())
    }
}

/// A request signed by `account`.
#[derive(Debug, Clone, Copy)]
pub struct Signed {
    /// Who signed.
    pub account: AccountId,
    /// The body hash it signed.
    pub body: ContentId,
}

impl Signed {
    /// Checks that `bytes` are the body that was signed.
    pub fn check_body(&self, bytes: &[u8]) -> Result<(), AuthFailure> {
        if ContentId::of(bytes) == self.body {
            Ok(())
        } else {
            Err(AuthFailure(AuthError::BodyMismatch))
        }
    }
}

/// A refused signed request.
#[derive(Debug)]
pub struct AuthFailure(pub AuthError);

impl IntoResponse for AuthFailure {
    fn into_response(self) -> Response {
        let status = match self.0 {
            AuthError::BodyMismatch | AuthError::BadHeader { .. } => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNAUTHORIZED,
        };
        (
            status,
            Json(ApiError {
                error: self.0.to_string(),
            }),
        )
            .into_response()
    }
}

/// The replay guard is full: a flood of signed requests.
fn busy() -> Response {
    let error = "too many signed requests right now; try again in a few minutes".to_owned();
    (StatusCode::SERVICE_UNAVAILABLE, Json(ApiError { error })).into_response()
}

impl FromRequestParts<Arc<Shared>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        shared: &Arc<Shared>,
    ) -> Result<Self, Self::Rejection> {
        check_parts(parts, shared)
    }
}

/// Whether the request carries a signature at all (routes where signing is optional).
pub fn is_signed(headers: &axum::http::HeaderMap) -> bool {
    headers.contains_key(idleshare_protocol::auth::ACCOUNT_HEADER)
}

/// Checks a request's signature, time and nonce.
pub(crate) fn check_parts(parts: &Parts, shared: &Shared) -> Result<Signed, Response> {
    let path = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
    let header = |name: &'static str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let now = unix_ms();
    let verified = verify_request(parts.method.as_str(), &path, header, now)
        .map_err(|e| AuthFailure(e).into_response())?;
    if verified.time_ms < shared.replays.started_ms {
        return Err(AuthFailure(AuthError::BeforeStart).into_response());
    }
    match shared.replays.admit(verified.account, verified.nonce, now) {
        Ok(()) => Ok(Signed {
            account: verified.account,
            body: verified.body,
        }),
        Err(Replay::Replayed) => Err(AuthFailure(AuthError::Replayed).into_response()),
        Err(Replay::Full) => Err(busy()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn a_nonce_is_accepted_once_and_forgotten_after_the_window() {
        let guard = ReplayGuard::default();
        let account = AccountId::from(SigningKey::from_bytes(&[3; 32]).verifying_key());
        let t = 100 * MAX_SKEW_MS;
        assert_eq!(guard.admit(account, 1, t), Ok(()));
        assert_eq!(guard.admit(account, 1, t + 1), Err(Replay::Replayed));
        assert_eq!(guard.admit(account, 2, t + 1), Ok(()));
        let other = AccountId::from(SigningKey::from_bytes(&[4; 32]).verifying_key());
        assert_eq!(
            guard.admit(other, 1, t + 1),
            Ok(()),
            "nonces are per account"
        );
        assert_eq!(guard.admit(account, 1, t + 2 * MAX_SKEW_MS + 1), Ok(()));
    }
}
