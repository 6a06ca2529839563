//! The storage clock: every second, the nodes holding a verified copy of paid content are
//! paid for each storage period that completes, and content whose paid time is over is
//! dropped everywhere (see `jobs::storage` for the money).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use idleshare_base::clock::unix_ms;
use idleshare_protocol::{ContentId, NodeId};

use crate::server::Shared;

/// How often the storage clock looks.
const TICK: Duration = Duration::from_secs(1);

pub(crate) async fn storage_loop(shared: Arc<Shared>) {
    let mut ticker = tokio::time::interval(TICK);
    loop {
        ticker.tick().await;
        settle_storage(&shared);
    }
}

/// Pays the holders of each paid content for its last completed period, then drops what
/// ran out.
pub(crate) fn settle_storage(shared: &Shared) {
    let now = unix_ms();
    let nodes = shared.content.node_views(shared);
    let stored = shared.content.read(|book| book.stored_pins(&nodes));
    let mut holders: BTreeMap<ContentId, Vec<NodeId>> = BTreeMap::new();
    for (content, node) in stored {
        holders.entry(content).or_default().push(node);
    }
    let (expired, _) = shared.work.apply(|book, _, ch| {
        for (content, nodes) in &holders {
            book.pay_storage(*content, nodes, now, ch);
        }
        book.end_storage(now, ch)
    });
    for id in expired {
        shared.content.expire(shared, id);
    }
}
