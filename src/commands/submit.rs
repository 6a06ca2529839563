//! `idleshare submit MODULE INPUTS_DIR [--wait --out DIR]`: upload, submit, follow, collect.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use idleshare_protocol::api::{JobStatus, UnitState};
use idleshare_protocol::{JobId, JobLimits, JobSpec, abi};
use indicatif::{ProgressBar, ProgressStyle};

use crate::api_client::ApiClient;
use crate::cli::SubmitArgs;

/// How often `--wait` asks for progress.
const POLL: Duration = Duration::from_millis(500);

pub fn run(args: SubmitArgs) -> anyhow::Result<()> {
    let module = std::fs::read(&args.module)
        .with_context(|| format!("cannot read the module {}", args.module.display()))?;
    abi::check_module(&module, &args.entry)
        .with_context(|| format!("{} cannot be a job module", args.module.display()))?;
    let inputs = input_files(&args.inputs)?;
    let client = super::account::signed_client(&args.api)?;

    let upload = bar(inputs.len() as u64 + 1, "uploading");
    let module_id = client.put_blob(&module)?;
    upload.inc(1);
    let mut input_ids = Vec::with_capacity(inputs.len());
    for path in &inputs {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        input_ids.push(client.put_blob(&bytes)?);
        upload.inc(1);
    }
    upload.finish_and_clear();

    let spec = JobSpec {
        module: module_id,
        entry: args.entry.clone(),
        inputs: input_ids,
        limits: limits(&args),
        replication: args.replication,
    };
    let submitted = client.submit(&spec)?;
    println!(
        "submitted {}: {} units, replication {}",
        submitted.job, submitted.units, args.replication
    );
    if !args.wait {
        println!("follow it with: idleshare job status {}", submitted.job.0);
        return Ok(());
    }
    let status = wait(&client, submitted.job)?;
    println!("{}", summary(&status));
    if let Some(out) = &args.out {
        write_outputs(&client, submitted.job, &inputs, out)?;
    }
    let unsettled = status.units.failed + status.units.gave_up;
    if unsettled > 0 {
        bail!(
            "{unsettled} of {} units did not produce an output (see `idleshare job status {} --units`)",
            status.units.total,
            submitted.job.0
        );
    }
    Ok(())
}

/// The regular files in `dir`, by name: one unit each.
fn input_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the inputs directory {}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    if files.is_empty() {
        bail!(
            "{} holds no input files (one file = one unit)",
            dir.display()
        );
    }
    Ok(files)
}

fn limits(args: &SubmitArgs) -> JobLimits {
    let mut limits = JobLimits::default();
    if let Some(fuel) = args.fuel {
        limits.fuel = fuel;
    }
    if let Some(mib) = args.memory_mib {
        limits.memory_bytes = mib.saturating_mul(1 << 20);
    }
    if let Some(kib) = args.output_kib {
        limits.output_bytes = kib.saturating_mul(1024);
    }
    if let Some(secs) = args.deadline_secs {
        limits.wall_ms = secs.saturating_mul(1000);
    }
    limits
}

fn bar(len: u64, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len).with_message(message);
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} {wide_msg:.dim}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

fn wait(client: &ApiClient, job: JobId) -> anyhow::Result<JobStatus> {
    let mut status = client.job_status(job)?;
    let progress = bar(status.units.total, "running");
    while !status.finished {
        progress.set_position(status.units.settled());
        std::thread::sleep(POLL);
        status = client.job_status(job)?;
    }
    progress.finish_and_clear();
    Ok(status)
}

/// One line: counts, fuel and what the job paid.
pub fn summary(status: &JobStatus) -> String {
    let units = &status.units;
    format!(
        "{}: {}/{} done, {} failed, {} given up, {} pending; fuel {}; paid {} tokens",
        status.job,
        units.done,
        units.total,
        units.failed,
        units.gave_up,
        units.pending,
        status.fuel,
        status.paid
    )
}

/// Writes each done unit's output to `out/<input file name>.out`; lists the others.
fn write_outputs(
    client: &ApiClient,
    job: JobId,
    inputs: &[PathBuf],
    out: &Path,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let results = client.job_results(job)?;
    let mut written = 0;
    for unit in &results.units {
        let name = inputs
            .get(unit.index as usize)
            .and_then(|path| path.file_name())
            .map_or_else(
                || format!("unit-{}", unit.index),
                |name| name.to_string_lossy().into_owned(),
            );
        match (unit.state, &unit.output) {
            (UnitState::Done, Some(id)) => {
                let bytes = client.get_blob(id)?;
                let path = out.join(format!("{name}.out"));
                std::fs::write(&path, bytes)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                written += 1;
            }
            (UnitState::Failed, _) => {
                let failure = unit.failure.as_ref().map_or_else(String::new, |f| {
                    format!("{}: {}", f.kind.label(), f.message)
                });
                eprintln!("{name}: failed ({failure})");
            }
            (state, _) => eprintln!(
                "{name}: {state:?} {}",
                unit.gave_up.clone().unwrap_or_default()
            ),
        }
    }
    println!("wrote {written} outputs to {}", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_the_files_in_name_order_and_an_empty_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let error = input_files(dir.path()).unwrap_err().to_string();
        assert!(error.contains("holds no input files"), "{error}");
        std::fs::write(dir.path().join("b.in"), b"2").unwrap();
        std::fs::write(dir.path().join("a.in"), b"1").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let names: Vec<_> = input_files(dir.path())
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["a.in", "b.in"]);
        let missing = input_files(&dir.path().join("nope"))
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("cannot read the inputs directory"),
            "{missing}"
        );
    }
}
