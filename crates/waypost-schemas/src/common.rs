//! Building blocks shared by every artifact: timestamps, the clock, format
//! version markers and the map that keeps unknown fields.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Fields an artifact carries that waypost does not know.
///
/// Every artifact struct flattens one of these, so a file written by a newer
/// tool or by the system waypost descends from keeps its extra fields through a
/// read-modify-write. Sorted by key, like every map waypost writes.
pub type Extra = BTreeMap<String, serde_json::Value>;

/// An RFC 3339 date-time, kept exactly as written.
///
/// Parsing checks the text; the original spelling (offset, fraction) is kept
/// so that reading and writing an artifact does not change its bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Timestamp(String);

/// A timestamp or clock value that is not usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// The text is not an RFC 3339 date-time.
    #[error(
        "`{value}` is not an RFC 3339 date-time (expected e.g. 2026-01-31T12:00:00Z): {reason}"
    )]
    Invalid {
        /// The text that was given.
        value: String,
        /// What the parser objected to.
        reason: String,
    },
    /// Seconds since the epoch outside the representable range.
    #[error("{seconds} seconds since the Unix epoch is outside the supported date range")]
    OutOfRange {
        /// The value that was given.
        seconds: i64,
    },
    /// `SOURCE_DATE_EPOCH` (passed in by the caller) is not a whole number of seconds.
    #[error(
        "SOURCE_DATE_EPOCH must be a whole number of seconds since the Unix epoch, found `{value}`"
    )]
    SourceDateEpoch {
        /// The value that was given.
        value: String,
    },
}

impl Timestamp {
    /// Checks `value` as an RFC 3339 date-time and keeps it as written.
    pub fn parse(value: &str) -> Result<Self, TimestampError> {
        OffsetDateTime::parse(value, &Rfc3339).map_err(|e| TimestampError::Invalid {
            value: value.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Self(value.to_owned()))
    }

    /// The UTC timestamp `seconds` after the Unix epoch, written as
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn from_unix_seconds(seconds: i64) -> Result<Self, TimestampError> {
        let at = OffsetDateTime::from_unix_timestamp(seconds)
            .map_err(|_| TimestampError::OutOfRange { seconds })?;
        Ok(Self(format_utc(at)))
    }

    /// The UTC timestamp `millis` milliseconds after the Unix epoch, written
    /// with a fractional second when there is one (`2026-01-01T00:00:00.25Z`).
    pub fn from_unix_millis(millis: i64) -> Result<Self, TimestampError> {
        let seconds = millis.div_euclid(1000);
        let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
            .map_err(|_| TimestampError::OutOfRange { seconds })?;
        let text = at
            .format(&Rfc3339)
            .map_err(|_| TimestampError::OutOfRange { seconds })?;
        Ok(Self(text))
    }

    /// Milliseconds since the Unix epoch (sub-millisecond digits dropped).
    pub fn unix_millis(&self) -> i64 {
        let nanos = self.parsed().unix_timestamp_nanos();
        i64::try_from(nanos.div_euclid(1_000_000)).unwrap_or(i64::MAX)
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whole seconds since the Unix epoch (fractions are dropped).
    pub fn unix_seconds(&self) -> i64 {
        self.parsed().unix_timestamp()
    }

    /// The same instant as a compact UTC stamp, `YYYYMMDDTHHMMSSZ`, for ids
    /// and file names.
    pub fn compact_utc(&self) -> String {
        let at = self.parsed().to_offset(time::UtcOffset::UTC);
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second()
        )
    }

    fn parsed(&self) -> OffsetDateTime {
        OffsetDateTime::parse(&self.0, &Rfc3339)
            .expect("a Timestamp is only constructed from text that parses as RFC 3339")
    }
}

fn format_utc(at: OffsetDateTime) -> String {
    let at = at
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .expect("zero nanoseconds is always valid");
    at.format(&Rfc3339)
        .expect("every UTC date-time with a four-digit year formats as RFC 3339")
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<'de, str>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Timestamp {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z"
        })
    }
}

/// Where "now" comes from when an artifact is stamped.
///
/// Libraries never read the environment: the CLI reads `SOURCE_DATE_EPOCH`
/// and hands it to [`Clock::from_source_date_epoch`], so that with a fixed
/// epoch every timestamp, and so every file, is byte-identical between runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// The system clock, whole seconds, UTC.
    System,
    /// A fixed instant, in seconds since the Unix epoch.
    Fixed(i64),
}

impl Clock {
    /// `None` gives the system clock; `Some(text)` must be whole seconds since
    /// the epoch (the reproducible-builds `SOURCE_DATE_EPOCH` convention).
    pub fn from_source_date_epoch(value: Option<&str>) -> Result<Self, TimestampError> {
        let Some(text) = value else {
            return Ok(Self::System);
        };
        let seconds = text
            .trim()
            .parse::<i64>()
            .map_err(|_| TimestampError::SourceDateEpoch {
                value: text.to_owned(),
            })?;
        // Reject values that cannot be turned into a timestamp up front.
        Timestamp::from_unix_seconds(seconds)?;
        Ok(Self::Fixed(seconds))
    }

    /// The current instant under this clock with millisecond precision (for
    /// leases); a fixed clock gives whole seconds.
    pub fn now_millis(&self) -> Timestamp {
        match *self {
            Self::System => {
                let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
                let millis = i64::try_from(nanos.div_euclid(1_000_000)).unwrap_or(i64::MAX);
                Timestamp::from_unix_millis(millis).unwrap_or_else(|_| self.now())
            }
            Self::Fixed(_) => self.now(),
        }
    }

    /// The current instant under this clock.
    pub fn now(&self) -> Timestamp {
        match *self {
            Self::System => Timestamp(format_utc(OffsetDateTime::now_utc())),
            Self::Fixed(seconds) => Timestamp::from_unix_seconds(seconds)
                .expect("Clock::Fixed is only built from a value checked to be in range"),
        }
    }
}

/// Declares a zero-sized `format_version` marker that serializes as one
/// constant string and refuses every other value.
macro_rules! format_version {
    ($(#[$meta:meta])* $name:ident = $value:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $name;

        impl $name {
            /// The only value this marker accepts.
            pub const VALUE: &'static str = $value;
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str($value)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let found = Cow::<'de, str>::deserialize(deserializer)?;
                if found == $value {
                    Ok(Self)
                } else {
                    Err(serde::de::Error::custom(format_args!(
                        "unsupported format_version: expected {}, found {}",
                        $value, found
                    )))
                }
            }
        }

        impl JsonSchema for $name {
            fn inline_schema() -> bool {
                true
            }

            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "const": $value,
                    "description": "Schema version identifier"
                })
            }
        }
    };
}

format_version!(
    /// `format_version: "v1"`.
    FormatV1 = "v1"
);
format_version!(
    /// `format_version: "v2"`.
    FormatV2 = "v2"
);
