//! The HTTP front door: our own accept loop over hyper's HTTP/1 connections, so that no
//! client holds more than its share. Each bound, when hit, answers in words or cuts only the
//! connection at fault:
//!
//! - connections: at most [`HttpLimits::max_connections`] in all and
//!   [`HttpLimits::max_connections_per_ip`] per address ([`peers`]); one more is answered 503
//!   with `Retry-After` and closed;
//! - time ([`clock`], judged by a watchdog per connection): headers whole within
//!   `header_timeout` of their first byte (else 408 and close), keep-alive connections closed
//!   after `idle_timeout`, a response the client stops reading cut after `write_stall`;
//!   request bodies paced ([`bodies`]: `body_stall`, `min_body_rate`; else 408);
//! - requests ([`request`]): at most `max_in_flight` answered at once (else 503 with
//!   `Retry-After`), and every route's body limit ([`limits::body_limit`], else 413).
//!
//! Shutdown stops accepting, lets each connection finish the request it is answering (up
//! to `shutdown_grace`) and closes the rest.

pub mod bodies;
pub mod clock;
mod io;
pub mod limits;
pub mod peers;
mod request;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use hyper_util::rt::TokioIo;
use idleshare_base::sync::Mutex;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use self::clock::{ConnectionClock, Cut, Timeouts};
pub use self::limits::HttpLimits;
use self::peers::{Peer, PeerCounts, Refusal};
use self::request::{Gate, RETRY_AFTER_SECS};

/// Largest request head (request line and headers) read; more is answered 431.
const MAX_HEAD_BYTES: usize = 64 << 10;
/// Most connections being refused at once (each lingers up to a second so its client can
/// read the 503); past this, excess connections are closed without a word.
const MAX_REFUSING: usize = 256;
/// How long a refused connection is given to read its 503.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` within `limits` until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    publish_limit: u64,
    mut shutdown: watch::Receiver<bool>,
) {
    let gate = Arc::new(Gate {
        router,
        in_flight: Arc::new(Semaphore::new(limits.max_in_flight)),
        limits,
        publish_limit,
    });
    let counts = Arc::new(Mutex::new(PeerCounts::default()));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    while !*shutdown.borrow() {
        tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let (stream, addr) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors, most likely: let some close first.
                        tracing::warn!("HTTP accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let peer = Peer::of(addr.ip());
                let limits = &gate.limits;
                let admitted = counts.lock().admit(
                    peer,
                    limits.max_connections,
                    limits.max_connections_per_ip,
                );
                match admitted {
                    Ok(()) => {
                        let held = Held { counts: counts.clone(), peer };
                        let task = connection(stream, addr, gate.clone(), held, stopping.clone());
                        connections.spawn(task);
                    }
                    Err(refusal) => {
                        tracing::debug!("HTTP connection from {addr} refused: {refusal}");
                        if let Ok(permit) = refusing.clone().try_acquire_owned() {
                            connections.spawn(async move {
                                refuse(stream, refusal).await;
                                drop(permit);
                            });
                        }
                    }
                }
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let finished = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(gate.limits.shutdown_grace, finished)
        .await
        .is_err()
    {
        tracing::warn!(
            "HTTP: {} connection(s) still busy after {:?}; closing them",
            connections.len(),
            gate.limits.shutdown_grace
        );
    }
}

/// A connection's place in the counts, given back when it closes.
struct Held {
    counts: Arc<Mutex<PeerCounts>>,
    peer: Peer,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.counts.lock().release(self.peer);
    }
}

/// What a slowloris gets before its connection closes.
const REQUEST_TIMEOUT: &[u8] = b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\n\
connection: close\r\ncontent-length: 57\r\n\r\nthe request headers took too long; send them all at once\n";

/// Serves one connection, cutting it when its clock says so.
async fn connection(
    stream: TcpStream,
    addr: SocketAddr,
    gate: Arc<Gate>,
    held: Held,
    mut stopping: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let stream = Arc::new(stream);
    let clock = Arc::new(Mutex::new(ConnectionClock::new(Instant::now())));
    let limits = &gate.limits;
    let timeouts = Timeouts {
        header: limits.header_timeout,
        idle: limits.idle_timeout,
        write_stall: limits.write_stall,
    };
    let mut tick = tokio::time::interval(watch_interval(limits.shortest_timeout()));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let io = TokioIo::new(io::WatchedStream::new(stream.clone(), clock.clone()));
    let (service_gate, service_clock) = (gate.clone(), clock.clone());
    let service = hyper::service::service_fn(move |request| {
        request::answer(service_gate.clone(), service_clock.clone(), addr, request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .header_read_timeout(None)
        .max_buf_size(MAX_HEAD_BYTES);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut finishing = *stopping.borrow();
    if finishing {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!("HTTP connection from {addr} ended: {e}");
                }
                break;
            }
            _ = tick.tick() => {
                let verdict = clock.lock().verdict(Instant::now(), &timeouts);
                if let Some(cut) = verdict {
                    tracing::debug!("HTTP connection from {addr} cut: {}", cut.describe());
                    match cut {
                        Cut::HeaderTimeout => {
                            let _ = stream.try_write(REQUEST_TIMEOUT);
                        }
                        // Reset: the kernel drops the unsent response instead of holding
                        // it for a client that does not read.
                        Cut::WriteStall => {
                            let _ = stream.set_zero_linger();
                        }
                        Cut::Idle => {}
                    }
                    break;
                }
            }
            _ = stopping.changed(), if !finishing => {
                finishing = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
    drop(held);
}

/// How often a connection's watchdog looks: four times within the shortest timeout, between
/// 20 ms and a second.
fn watch_interval(shortest: Duration) -> Duration {
    (shortest / 4).clamp(Duration::from_millis(20), Duration::from_secs(1))
}

/// Answers 503 on a connection over a cap, gives its client a moment to read it, closes.
async fn refuse(stream: TcpStream, refusal: Refusal) {
    let body = serde_json::json!({ "error": refusal.to_string() }).to_string();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: {RETRY_AFTER_SECS}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.try_write(response.as_bytes());
    // Read (and drop) what the client sends meanwhile, so closing does not reset the
    // connection before it reads the answer.
    let drain = async {
        let mut sink = [0u8; 4096];
        let mut left = 64usize << 10;
        while left > 0 {
            if stream.readable().await.is_err() {
                return;
            }
            match stream.try_read(&mut sink) {
                Ok(0) => return,
                Ok(n) => left = left.saturating_sub(n),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(_) => return,
            }
        }
    };
    let _ = tokio::time::timeout(REFUSAL_LINGER, drain).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watchdog_looks_often_but_not_too_often() {
        let ms = Duration::from_millis;
        assert_eq!(watch_interval(ms(2000)), ms(500));
        assert_eq!(watch_interval(ms(10)), ms(20));
        assert_eq!(
            watch_interval(Duration::from_secs(60)),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn the_408_says_its_length_right() {
        let text = std::str::from_utf8(REQUEST_TIMEOUT).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{text}"
        );
    }
}
