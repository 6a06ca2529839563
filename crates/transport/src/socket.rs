//! UDP sockets for QUIC endpoints with larger kernel buffers than the OS default, so a burst
//! from many peers (a node serving a crowd, the coordinator's gateway reading from nodes,
//! every node reconnecting at once) waits in the kernel instead of being dropped before quinn
//! reads it. Each drop costs a retransmission and halves a sender's window.
//!
//! The kernel clamps what is asked to its own limit (`net.core.rmem_max` and `wmem_max` on
//! Linux, often 208 KiB on desktops, larger on servers tuned for QUIC), so asking is never
//! an error: a socket that keeps the default still works.

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};

/// Receive and send buffer asked for each endpoint's socket.
const UDP_BUFFER_BYTES: usize = 4 << 20;

/// A quinn endpoint on `addr` (a server when `server` is given, else client-only), on a
/// socket with [`UDP_BUFFER_BYTES`] buffers where the OS allows. Call within a Tokio runtime.
pub fn bind_endpoint(
    addr: SocketAddr,
    server: Option<quinn::ServerConfig>,
) -> io::Result<quinn::Endpoint> {
    let socket = udp_socket(addr)?;
    let runtime = quinn::default_runtime()
        .ok_or_else(|| io::Error::other("no async runtime for the QUIC endpoint"))?;
    quinn::Endpoint::new(quinn::EndpointConfig::default(), server, socket, runtime)
}

/// A non-blocking UDP socket bound to `addr`, its buffers enlarged as far as allowed.
fn udp_socket(addr: SocketAddr) -> io::Result<std::net::UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if let Err(error) = socket.set_recv_buffer_size(UDP_BUFFER_BYTES) {
        tracing::debug!("UDP receive buffer stays at the default: {error}");
    }
    if let Err(error) = socket.set_send_buffer_size(UDP_BUFFER_BYTES) {
        tracing::debug!("UDP send buffer stays at the default: {error}");
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    /// What the kernel allows an unprivileged socket to ask for (Linux).
    #[cfg(target_os = "linux")]
    fn kernel_limit(name: &str) -> usize {
        std::fs::read_to_string(format!("/proc/sys/net/core/{name}"))
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0)
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn buffers_grow_as_far_as_the_kernel_allows() {
        let plain = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let plain = Socket::from(plain);
        let ours = Socket::from(udp_socket((Ipv4Addr::LOCALHOST, 0).into()).unwrap());
        // Linux doubles what is asked (for its bookkeeping) after clamping it to the limit.
        let want_recv = UDP_BUFFER_BYTES.min(kernel_limit("rmem_max")) * 2;
        let want_send = UDP_BUFFER_BYTES.min(kernel_limit("wmem_max")) * 2;
        assert!(ours.recv_buffer_size().unwrap() >= want_recv);
        assert!(ours.send_buffer_size().unwrap() >= want_send);
        assert!(ours.recv_buffer_size().unwrap() >= plain.recv_buffer_size().unwrap());
    }

    #[tokio::test]
    async fn an_endpoint_binds_where_asked_and_a_taken_port_is_an_error() {
        let endpoint = bind_endpoint((Ipv4Addr::LOCALHOST, 0).into(), None).unwrap();
        let addr = endpoint.local_addr().unwrap();
        assert_eq!(addr.ip(), Ipv4Addr::LOCALHOST);
        assert_ne!(addr.port(), 0);
        assert!(bind_endpoint(addr, None).is_err(), "the port is taken");
    }
}
