//! The one error for a value outside what the protocol allows: a text too long, a count or
//! size outside its range. Every `validate()` of a wire type returns it, naming the field
//! and the numbers so the message says what to change.

/// A field outside the protocol's bounds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoundsError {
    /// A text longer than its limit.
    #[error("{field} is {len} bytes, longer than {max}")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The most allowed.
        max: usize,
    },
    /// A number outside its range.
    #[error("{field} = {value} is outside {min}..={max}")]
    OutOfRange {
        /// Which field.
        field: &'static str,
        /// The value given.
        value: u64,
        /// The least allowed.
        min: u64,
        /// The most allowed.
        max: u64,
    },
}

impl BoundsError {
    /// The field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            Self::TooLong { field, .. } | Self::OutOfRange { field, .. } => field,
        }
    }
}

/// `Ok` when `text` is at most `max` bytes.
pub fn check_len(field: &'static str, text: &str, max: usize) -> Result<(), BoundsError> {
    if text.len() > max {
        return Err(BoundsError::TooLong {
            field,
            len: text.len(),
            max,
        });
    }
    Ok(())
}

/// `Ok` when `value` lies in `min..=max`.
pub fn check_range(field: &'static str, value: u64, min: u64, max: u64) -> Result<(), BoundsError> {
    if value < min || value > max {
        return Err(BoundsError::OutOfRange {
            field,
            value,
            min,
            max,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_field_and_the_numbers() {
        let long = check_len("os", "abcdef", 4).unwrap_err();
        assert_eq!(long.field(), "os");
        assert_eq!(long.to_string(), "os is 6 bytes, longer than 4");
        let range = check_range("replication", 0, 1, 5).unwrap_err();
        assert_eq!(range.to_string(), "replication = 0 is outside 1..=5");
        assert!(check_range("replication", 5, 1, 5).is_ok());
        assert!(check_len("os", "abcd", 4).is_ok());
    }
}
