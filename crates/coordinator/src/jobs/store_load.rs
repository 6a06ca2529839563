//! Reading the whole work store back into a [`Snapshot`] at start-up.

use idleshare_protocol::api::Reputation;
use idleshare_protocol::{JobId, JobSpec, LeaseId, NodeId, SignedReceipt, UnitId, UnitReport};
use rusqlite::Connection;

use super::ops::Settlement;
use idleshare_protocol::order::SignedOrderLimit;

use idleshare_protocol::{CreditRate, ServingRate};

use super::accounts::Movement;
use super::book::JobPrice;
use super::orders::OrderPrice;
use super::restore::{JobRow, Snapshot, StoredLease, StoredResult, UnitRow};
use super::storage::StorageTerm;
use super::store::{content_id, corrupt as corrupt_row, node_id as decode_node, parse_state};
use crate::store::StoreError;

/// Runs `sql` and decodes every row with `decode`.
fn rows<T>(
    connection: &Connection,
    sql: &str,
    decode: impl Fn(&rusqlite::Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut statement = connection.prepare(sql)?;
    let mut rows = statement.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(decode(row)?);
    }
    Ok(out)
}

/// Everything stored; results and abandons only of units still pending.
pub(super) fn load(connection: &Connection) -> Result<Snapshot, StoreError> {
    let jobs = rows(
        connection,
        "SELECT id, spec, submitted_at_ms, first_unit, owner, rate, fee_bps, network FROM jobs
         ORDER BY id",
        |row| {
            let spec: JobSpec = serde_json::from_str(&row.get::<_, String>(1)?)
                .map_err(|e| corrupt_row("jobs", e))?;
            let owner: Option<Vec<u8>> = row.get(4)?;
            let rate: Option<i64> = row.get(5)?;
            let fee_bps: Option<u32> = row.get(6)?;
            let price = rate.zip(fee_bps).map(|(rate, fee_bps)| JobPrice {
                rate: CreditRate {
                    micro_tokens_per_megafuel: rate as u64,
                },
                fee_bps,
            });
            let network: Option<String> = row.get(7)?;
            Ok(JobRow {
                // A network that does not parse is treated as unknown: it only weakens
                // one streak rule for one job.
                network: network.and_then(|text| text.parse().ok()),
                price,
                id: JobId(row.get::<_, i64>(0)? as u64),
                owner: owner.map(|bytes| decode_node(&bytes)).transpose()?,
                spec,
                submitted_at_ms: row.get::<_, i64>(2)? as u64,
                first_unit: UnitId(row.get::<_, i64>(3)? as u64),
            })
        },
    )?;
    let units = rows(
        connection,
        "SELECT id, job, input, input_len, quorum, state, settlement FROM units ORDER BY id",
        decode_unit,
    )?;
    let leases = rows(
        connection,
        "SELECT id, unit, node, network FROM leases ORDER BY id",
        decode_lease,
    )?;
    let results = rows(
        connection,
        "SELECT r.unit, r.node, r.report, r.valid FROM results r JOIN units u ON u.id = r.unit
         WHERE u.state = 'pending' ORDER BY r.lease",
        |row| {
            let report: UnitReport = postcard::from_bytes(&row.get::<_, Vec<u8>>(2)?)
                .map_err(|e| corrupt_row("results", e))?;
            let node: NodeId = decode_node(&row.get::<_, Vec<u8>>(1)?)?;
            let valid: Option<bool> = row.get(3)?;
            Ok(StoredResult {
                unit: UnitId(row.get::<_, i64>(0)? as u64),
                node,
                report,
                invalid: valid == Some(false),
            })
        },
    )?;
    let abandons = rows(
        connection,
        "SELECT a.unit, a.node FROM abandons a JOIN units u ON u.id = a.unit WHERE u.state = 'pending'",
        |row| {
            Ok((
                UnitId(row.get::<_, i64>(0)? as u64),
                decode_node(&row.get::<_, Vec<u8>>(1)?)?,
            ))
        },
    )?;
    let reputations = rows(
        connection,
        "SELECT node, consecutive_valid, valid, invalid FROM reputation",
        decode_reputation,
    )?;
    let receipts = rows(
        connection,
        "SELECT signed FROM receipts ORDER BY node, seq",
        |row| {
            postcard::from_bytes::<SignedReceipt>(&row.get::<_, Vec<u8>>(0)?)
                .map_err(|e| corrupt_row("receipts", e))
        },
    )?;
    let movements = rows(
        connection,
        "SELECT movement FROM movements ORDER BY seq",
        |row| {
            serde_json::from_str::<Movement>(&row.get::<_, String>(0)?)
                .map_err(|e| corrupt_row("movements", e))
        },
    )?;
    let orders = rows(
        connection,
        "SELECT signed, closed, rate, fee_bps FROM orders ORDER BY serial",
        |row| {
            let signed: SignedOrderLimit = postcard::from_bytes(&row.get::<_, Vec<u8>>(0)?)
                .map_err(|e| corrupt_row("orders", e))?;
            let price = OrderPrice {
                rate: ServingRate {
                    micro_tokens_per_gib: row.get::<_, i64>(2)? as u64,
                },
                fee_bps: row.get(3)?,
            };
            Ok((signed.limit, price, row.get::<_, i64>(1)? != 0))
        },
    )?;
    let storage = rows(
        connection,
        "SELECT term FROM storage WHERE ended = 0",
        |row| {
            serde_json::from_str::<StorageTerm>(&row.get::<_, String>(0)?)
                .map_err(|e| corrupt_row("storage", e))
        },
    )?;
    Ok(Snapshot {
        storage,
        movements,
        orders,
        jobs,
        units,
        leases,
        results,
        abandons,
        reputations,
        receipts,
    })
}

fn decode_unit(row: &rusqlite::Row<'_>) -> Result<UnitRow, StoreError> {
    let settlement: Option<String> = row.get(6)?;
    let settlement: Option<Settlement> = settlement
        .map(|json| serde_json::from_str(&json).map_err(|e| corrupt_row("units", e)))
        .transpose()?;
    Ok(UnitRow {
        id: UnitId(row.get::<_, i64>(0)? as u64),
        job: JobId(row.get::<_, i64>(1)? as u64),
        input: content_id(&row.get::<_, Vec<u8>>(2)?)?,
        input_len: row.get(3)?,
        quorum: row.get(4)?,
        state: parse_state(&row.get::<_, String>(5)?)?,
        settlement,
    })
}

fn decode_lease(row: &rusqlite::Row<'_>) -> Result<StoredLease, StoreError> {
    let network: Option<String> = row.get(3)?;
    Ok(StoredLease {
        id: LeaseId(row.get::<_, i64>(0)? as u64),
        unit: UnitId(row.get::<_, i64>(1)? as u64),
        node: decode_node(&row.get::<_, Vec<u8>>(2)?)?,
        // Unknown (a lease from before networks were kept, or unreadable): blocks nothing.
        network: network.and_then(|text| text.parse().ok()),
    })
}

fn decode_reputation(row: &rusqlite::Row<'_>) -> Result<(NodeId, Reputation), StoreError> {
    Ok((
        decode_node(&row.get::<_, Vec<u8>>(0)?)?,
        Reputation {
            consecutive_valid: row.get::<_, i64>(1)? as u64,
            valid: row.get::<_, i64>(2)? as u64,
            invalid: row.get::<_, i64>(3)? as u64,
        },
    ))
}
