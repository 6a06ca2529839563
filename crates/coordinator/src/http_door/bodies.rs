//! Bodies wrapped at the front door: a request body that fails when it stalls or crawls
//! ([`PacedBody`]), and a response body that holds its request's slot until its last byte
//! ([`HeldBody`]).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::limits::body_too_slow;

/// Why a request body was given up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyTimeout {
    /// No byte for too long.
    #[error("the request body stalled: no byte for {0:?} (the limit); send it without pauses")]
    Stalled(Duration),
    /// Too few bytes for the time taken.
    #[error(
        "the request body is too slow: under {0} bytes a second on average (the limit); \
         send it faster"
    )]
    TooSlow(u64),
}

/// A request body that must keep arriving: each frame within `stall` of the last, and on
/// average at least `min_rate` bytes a second once the first `stall` has passed. The clock
/// starts when the handler first asks for the body.
pub struct PacedBody {
    inner: Body,
    stall: Duration,
    min_rate: u64,
    started: Option<Instant>,
    received: u64,
    deadline: Pin<Box<Sleep>>,
}

impl PacedBody {
    /// `inner`, paced.
    pub fn new(inner: Body, stall: Duration, min_rate: u64) -> Self {
        Self {
            inner,
            stall,
            min_rate,
            started: None,
            received: 0,
            deadline: Box::pin(tokio::time::sleep(stall)),
        }
    }
}

impl HttpBody for PacedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        let started = match this.started {
            Some(started) => started,
            None => {
                let now = Instant::now();
                this.deadline.as_mut().reset(now + this.stall);
                *this.started.insert(now)
            }
        };
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let now = Instant::now();
                if let Some(data) = frame.data_ref() {
                    this.received = this.received.saturating_add(data.len() as u64);
                }
                let elapsed = now.duration_since(started);
                if body_too_slow(this.received, elapsed, this.stall, this.min_rate) {
                    let error = BodyTimeout::TooSlow(this.min_rate);
                    return Poll::Ready(Some(Err(axum::Error::new(error))));
                }
                this.deadline.as_mut().reset(now + this.stall);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    let error = BodyTimeout::Stalled(this.stall);
                    Poll::Ready(Some(Err(axum::Error::new(error))))
                }
                Poll::Pending => Poll::Pending,
            },
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body holding `held` (its request's slot, its connection's "busy" mark)
/// until the body ends or is dropped.
pub struct HeldBody<H> {
    inner: Body,
    held: Option<H>,
}

impl<H> HeldBody<H> {
    /// `inner`, holding `held`.
    pub fn new(inner: Body, held: H) -> Self {
        Self {
            inner,
            held: Some(held),
        }
    }
}

impl<H: Unpin> HttpBody for HeldBody<H> {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            self.held = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn a_stalled_body_fails_with_words_and_a_steady_one_passes() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        let body = PacedBody::new(Body::from_stream(stream), Duration::from_millis(200), 0);
        let mut frames = Body::new(body).into_data_stream();
        tx.send(Ok(Bytes::from_static(b"abc"))).await.unwrap();
        assert_eq!(frames.next().await.unwrap().unwrap(), &b"abc"[..]);
        // Nothing more: the stall fires after 200 ms.
        let started = Instant::now();
        let error = frames.next().await.unwrap().unwrap_err();
        assert!(error.to_string().contains("stalled"), "{error}");
        assert!(started.elapsed() >= Duration::from_millis(200));

        let whole = PacedBody::new(Body::from("steady"), Duration::from_secs(5), 1);
        let bytes = axum::body::to_bytes(Body::new(whole), 100).await.unwrap();
        assert_eq!(&bytes[..], b"steady");
        drop(tx);
    }
}
