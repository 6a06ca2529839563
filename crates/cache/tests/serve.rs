//! Serving and fetching ranges over real QUIC on loopback: what arrives is checked, a lying
//! or rotting server is caught at its first bad group, and bad requests get clear answers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use idleshare_cache::{
    ContentStore, FetchError, FetchOptions, Pacer, Piece, Route, ServeError, Tamper,
    client_endpoint, connect, fetch_range, send_range, send_tampered_range, server_endpoint,
};
use idleshare_protocol::cache::{CacheRequest, CacheResponse, MAX_CACHE_FRAME_LEN};
use idleshare_protocol::tree::{ByteRange, GROUP_BYTES, TreeError};
use idleshare_protocol::{ContentId, NodeId};
use idleshare_transport::{recv_frame, send_frame};
use tokio::sync::mpsc;

fn content(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2654435761) as u8)
        .collect()
}

/// A server answering range requests from `store` the way a node does (without a policy),
/// reporting each transfer's outcome.
struct Server {
    addr: SocketAddr,
    id: NodeId,
    outcomes: mpsc::UnboundedReceiver<Result<u64, ServeError>>,
    _endpoint: quinn::Endpoint,
}

async fn serve(store: Arc<ContentStore>, tamper: Tamper) -> Server {
    let key = SigningKey::from_bytes(&[7; 32]);
    let endpoint = server_endpoint(&key, "127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = endpoint.local_addr().unwrap();
    let (report, outcomes) = mpsc::unbounded_channel();
    let accepting = endpoint.clone();
    tokio::spawn(async move {
        while let Some(incoming) = accepting.accept().await {
            let (store, report) = (store.clone(), report.clone());
            tokio::spawn(async move {
                let connection = incoming.await.unwrap();
                while let Ok((mut send, mut recv)) = connection.accept_bi().await {
                    let (store, report) = (store.clone(), report.clone());
                    tokio::spawn(async move {
                        let request =
                            recv_frame::<CacheRequest>(&mut recv, MAX_CACHE_FRAME_LEN).await;
                        let Ok(Some(CacheRequest::Range(request))) = request else {
                            let message = "only ranges here".to_owned();
                            let _ =
                                send_frame(&mut send, &CacheResponse::Refused { message }).await;
                            return;
                        };
                        let Some(reader) = store.reader(&request.content, 1).unwrap() else {
                            let _ = send_frame(&mut send, &CacheResponse::NotFound).await;
                            let _ = send.finish();
                            return;
                        };
                        let pacer = Pacer::new(None);
                        // The honest server is the product's path; only a bad one tampers.
                        let sent = match tamper {
                            Tamper::None => send_range(reader, request, &mut send, &pacer).await,
                            tamper => {
                                send_tampered_range(reader, request, &mut send, &pacer, tamper)
                                    .await
                            }
                        };
                        let _ = report.send(sent);
                    });
                }
            });
        }
    });
    Server {
        addr,
        id: NodeId::from(key.verifying_key()),
        outcomes,
        _endpoint: endpoint,
    }
}

async fn route_to(server: &Server) -> Route {
    let key = SigningKey::from_bytes(&[9; 32]);
    let endpoint = client_endpoint(server.addr).unwrap();
    let connection = connect(
        &endpoint,
        &key,
        server.id,
        server.addr,
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    Route::node(connection, server.id)
}

fn stored(bytes: &[u8]) -> (tempfile::TempDir, Arc<ContentStore>, ContentId) {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(&dir.path().join("cache"), 1 << 30).unwrap();
    let upload = dir.path().join("cache").join("upload.part");
    std::fs::write(&upload, bytes).unwrap();
    let id = store.import(&upload, 0).unwrap();
    (dir, store, id)
}

const OPTIONS: FetchOptions<'static> = FetchOptions {
    stall: Duration::from_secs(5),
    pacer: None,
};

async fn fetch_bytes(
    route: &Route,
    id: ContentId,
    size: u64,
    range: ByteRange,
) -> Result<Vec<u8>, FetchError> {
    let mut bytes = Vec::new();
    fetch_range(route, id, size, range, OPTIONS, |piece| {
        if let Piece::Content { bytes: piece, .. } = piece {
            bytes.extend_from_slice(piece);
        }
        Ok(())
    })
    .await?;
    Ok(bytes)
}

#[tokio::test]
async fn ranges_arrive_checked_and_identical() {
    let bytes = content(3_000_000);
    let (_dir, store, id) = stored(&bytes);
    let mut server = serve(store, Tamper::None).await;
    let route = route_to(&server).await;
    let size = bytes.len() as u64;
    for (start, end) in [(0, size), (1, 2), (123_456, 2_345_678), (size - 1, size)] {
        let range = ByteRange { start, end };
        let got = fetch_bytes(&route, id, size, range).await.unwrap();
        assert!(got == bytes[start as usize..end as usize], "{start}..{end}");
        assert_eq!(server.outcomes.recv().await.unwrap().unwrap(), end - start);
    }
}

#[tokio::test]
async fn a_lying_server_is_caught_at_the_first_group_of_the_range() {
    let bytes = content(1_000_000);
    let (_dir, store, id) = stored(&bytes);
    let server = serve(store, Tamper::FlipGroups).await;
    let route = route_to(&server).await;
    let range = ByteRange {
        start: 5 * GROUP_BYTES + 7,
        end: 9 * GROUP_BYTES,
    };
    let mut delivered = 0;
    let error = fetch_range(&route, id, bytes.len() as u64, range, OPTIONS, |piece| {
        if let Piece::Content { bytes, .. } = piece {
            delivered += bytes.len();
        }
        Ok(())
    })
    .await
    .unwrap_err();
    assert!(error.is_corrupt());
    assert!(
        matches!(
            &error,
            FetchError::Corrupt {
                error: TreeError::BadGroup { index: 5, .. },
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(delivered, 0, "no byte of a bad group reaches the caller");
}

#[tokio::test]
async fn a_copy_rotting_on_disk_is_never_sent() {
    let bytes = content(600_000);
    let (dir, store, id) = stored(&bytes);
    let data = dir.path().join("cache").join(format!("{id}.data"));
    let mut on_disk = std::fs::read(&data).unwrap();
    on_disk[400_000] ^= 0x80;
    std::fs::write(&data, on_disk).unwrap();
    let mut server = serve(store, Tamper::None).await;
    let route = route_to(&server).await;
    let result = fetch_bytes(&route, id, bytes.len() as u64, ByteRange::whole(600_000)).await;
    assert!(
        result.is_err(),
        "the transfer fails rather than deliver rotten bytes"
    );
    let outcome = server.outcomes.recv().await.unwrap();
    assert!(
        matches!(outcome, Err(ServeError::Corrupt(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn bad_requests_get_clear_answers() {
    let bytes = content(100_000);
    let (_dir, store, id) = stored(&bytes);
    let server = serve(store, Tamper::None).await;
    let route = route_to(&server).await;
    // Outside the content (the client believed a wrong size): the server names the range.
    let outside = ByteRange {
        start: 0,
        end: 200_000,
    };
    let error = fetch_bytes(&route, id, 200_000, outside).await.unwrap_err();
    assert!(matches!(error, FetchError::Refused { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("outside content of 100000 bytes"),
        "{error}"
    );
    // Inside, but the client's size is wrong: the answer's size gives it away.
    let inside = ByteRange { start: 0, end: 10 };
    let error = fetch_bytes(&route, id, 200_000, inside).await.unwrap_err();
    assert!(
        matches!(
            error,
            FetchError::WrongSize {
                claimed: 100_000,
                ..
            }
        ),
        "{error}"
    );
    // Unknown content.
    let unknown = ContentId::of(b"nothing");
    let error = fetch_bytes(&route, unknown, 10, ByteRange::whole(10))
        .await
        .unwrap_err();
    assert!(matches!(error, FetchError::NotFound(_)), "{error}");
    // A backwards range is refused by the client before anything is sent.
    let backwards = ByteRange { start: 50, end: 10 };
    let error = fetch_bytes(&route, id, 100_000, backwards)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("50..10"), "{error}");
}

#[tokio::test]
async fn a_silent_server_counts_as_stalled() {
    let key = SigningKey::from_bytes(&[3; 32]);
    let endpoint = server_endpoint(&key, "127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = endpoint.local_addr().unwrap();
    let silent = endpoint.clone();
    tokio::spawn(async move {
        let connection = silent.accept().await.unwrap().await.unwrap();
        let _held = connection.accept_bi().await;
        std::future::pending::<()>().await;
    });
    let client = SigningKey::from_bytes(&[4; 32]);
    let node = NodeId::from(key.verifying_key());
    let client_side = client_endpoint(addr).unwrap();
    let connection = connect(&client_side, &client, node, addr, Duration::from_secs(5))
        .await
        .unwrap();
    let route = Route::node(connection, node);
    let options = FetchOptions {
        stall: Duration::from_millis(300),
        pacer: None,
    };
    let started = std::time::Instant::now();
    let error = fetch_range(
        &route,
        ContentId::of(b"x"),
        1,
        ByteRange::whole(1),
        options,
        |_| Ok(()),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, FetchError::Stalled { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn the_wrong_server_key_is_refused_at_the_handshake() {
    let bytes = content(1000);
    let (_dir, store, _) = stored(&bytes);
    let server = serve(store, Tamper::None).await;
    let impostor = NodeId::from(SigningKey::from_bytes(&[8; 32]).verifying_key());
    let key = SigningKey::from_bytes(&[9; 32]);
    let endpoint = client_endpoint(server.addr).unwrap();
    let error = connect(
        &endpoint,
        &key,
        impostor,
        server.addr,
        Duration::from_secs(5),
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("connecting to"), "{error}");
}
