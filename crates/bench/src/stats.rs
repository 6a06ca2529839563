//! Summaries of timing samples, and the JSON line every benchmark ends with.

use std::time::Duration;

/// Percentiles and extremes of a set of timings.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub count: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub min: Duration,
    pub max: Duration,
}

impl Summary {
    /// `None` for no samples: a percentile of nothing would be a made-up figure.
    pub fn of(samples: &[Duration]) -> Option<Self> {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let (&min, &max) = (sorted.first()?, sorted.last()?);
        Some(Self {
            count: sorted.len(),
            p50: percentile(&sorted, 0.50),
            p99: percentile(&sorted, 0.99),
            min,
            max,
        })
    }

    /// One readable line: `p50 … ms  p99 … ms  min … ms  max … ms  (n=…)`.
    pub fn line(&self) -> String {
        format!(
            "p50 {:.2} ms  p99 {:.2} ms  min {:.2} ms  max {:.2} ms  (n={})",
            ms(self.p50),
            ms(self.p99),
            ms(self.min),
            ms(self.max),
            self.count
        )
    }
}

/// Nearest-rank percentile of sorted samples (the caller guarantees at least one).
fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted.get(index).copied().unwrap_or_default()
}

/// Milliseconds, rounded to the microsecond so the JSON stays readable.
pub fn ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}

/// `value / baseline`, rounded to 0.01; `None` when the baseline is zero.
pub fn ratio(value: Duration, baseline: Duration) -> Option<f64> {
    if baseline.is_zero() {
        return None;
    }
    Some((value.as_secs_f64() / baseline.as_secs_f64() * 100.0).round() / 100.0)
}

/// Prints the results object; by house rule this is the last line on stdout.
pub fn print_json_line(results: &serde_json::Value) {
    println!("{results}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let summary = Summary::of(&samples).expect("samples");
        assert_eq!(summary.p50, Duration::from_millis(50));
        assert_eq!(summary.p99, Duration::from_millis(99));
        assert_eq!(summary.min, Duration::from_millis(1));
        assert_eq!(summary.max, Duration::from_millis(100));
        let one = Summary::of(&[Duration::from_millis(7)]).expect("one sample");
        assert_eq!((one.p50, one.p99), (one.min, one.max));
        assert!(Summary::of(&[]).is_none());
    }
}
