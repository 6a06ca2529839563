//! `idleshare job status ID`: a job's progress, and with `--units` each unit's state.

use idleshare_protocol::api::UnitState;

use crate::api_client::parse_job_id;
use crate::cli::JobAction;

pub fn run(action: JobAction) -> anyhow::Result<()> {
    let JobAction::Status(args) = action;
    let client = super::account::signed_client(&args.api)?;
    let job = parse_job_id(&args.job)?;
    let status = client.job_status(job)?;
    let results = if args.units {
        Some(client.job_results(job)?)
    } else {
        None
    };
    if args.json {
        let value = serde_json::json!({ "status": status, "results": results });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!("{}", super::submit::summary(&status));
    println!(
        "escrowed {} tokens, spent {} (paid to nodes {} + the operator's fee), refunded {}",
        status.escrowed, status.spent, status.paid, status.refunded
    );
    println!(
        "module {} entry {:?}, replication {}, {}",
        status.module.short(),
        status.entry,
        status.replication,
        if status.finished {
            "finished"
        } else {
            "running"
        }
    );
    for unit in results.iter().flat_map(|r| &r.units) {
        let detail = match unit.state {
            UnitState::Done => unit
                .output
                .map(|id| format!("output {}", id.short()))
                .unwrap_or_default(),
            UnitState::Failed => unit
                .failure
                .as_ref()
                .map(|f| format!("{}: {}", f.kind.label(), f.message))
                .unwrap_or_default(),
            UnitState::GaveUp => unit.gave_up.clone().unwrap_or_default(),
            UnitState::Pending => String::new(),
        };
        println!(
            "  #{:<5} {:<8} fuel {:>12}  {detail}",
            unit.index,
            format!("{:?}", unit.state).to_lowercase(),
            unit.fuel
        );
    }
    Ok(())
}
