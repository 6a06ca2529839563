//! A connection's socket as hyper sees it, telling the connection's clock when bytes
//! arrive and when writes block or go out. The socket is shared with the watchdog, which
//! may still write a last `408` into it after hyper is dropped.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use idleshare_base::sync::Mutex;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::clock::ConnectionClock;

/// The socket, watched.
pub struct WatchedStream {
    stream: Arc<TcpStream>,
    clock: Arc<Mutex<ConnectionClock>>,
}

impl WatchedStream {
    /// `stream`, reporting to `clock`.
    pub fn new(stream: Arc<TcpStream>, clock: Arc<Mutex<ConnectionClock>>) -> Self {
        Self { stream, clock }
    }
}

impl AsyncRead for WatchedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.stream.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            match self.stream.try_read(unfilled) {
                Ok(n) => {
                    if n > 0 {
                        self.clock.lock().on_read(Instant::now());
                    }
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for WatchedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            if self.stream.poll_write_ready(cx).is_pending() {
                self.clock.lock().on_write_blocked(Instant::now());
                return Poll::Pending;
            }
            match self.stream.try_write(bytes) {
                Ok(n) => {
                    self.clock.lock().on_write_progress();
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Writes go straight to the socket.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The socket closes when its last holder (this or the watchdog) drops it.
        Poll::Ready(Ok(()))
    }
}
