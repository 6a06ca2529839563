//! Dial-back: whether a node's own cache endpoint can be reached at the address the
//! coordinator sees it from. Clients are given the address only when it can; other nodes are
//! served through the relay.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use idleshare_cache::connect;
use idleshare_protocol::NodeId;

use crate::server::Shared;

/// How long a dial-back may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(2);

/// Dials `node`'s endpoint at `remote`'s IP and `port` with a throwaway client key, and
/// records the result.
pub(crate) async fn check_reachable(
    shared: Arc<Shared>,
    node: NodeId,
    remote: SocketAddr,
    port: Option<u16>,
) {
    let Some(port) = port else {
        shared.content.set_reachable(node, None);
        return;
    };
    let addr = SocketAddr::new(remote.ip(), port);
    let key = ed25519_dalek::SigningKey::from_bytes(&rand::random());
    let content = &shared.content;
    match connect(&content.client, &key, node, addr, DIAL_TIMEOUT).await {
        Ok(connection) => {
            connection.close(0u32.into(), b"reachable");
            tracing::info!("{}: cache endpoint reachable at {addr}", node.short());
            content.set_reachable(node, Some(addr));
        }
        Err(e) => {
            tracing::info!(
                "{}: cache endpoint not reachable ({e}); relaying",
                node.short()
            );
            content.set_reachable(node, None);
        }
    }
    content.replan_soon();
}
