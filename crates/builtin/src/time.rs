use async_trait::async_trait;
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{AttrSchema as A, Marker, Provider, ProviderError, ProviderSchema, ResourceSchema};
use ecspoc_core::value::Value;
use std::time::Duration;

/// hashicorp/time: `time_sleep`.
pub struct TimeProvider {
    schema: ProviderSchema,
}

impl TimeProvider {
    pub fn new() -> Self {
        let mut schema = ProviderSchema::default();
        schema.resources.insert(
            "time_sleep",
            ResourceSchema::new(
                "Waits on create and/or destroy, e.g. for eventual consistency.",
                [
                    ("id", A::computed(T::String, "The time the sleep finished (RFC 3339).")),
                    ("create_duration", A::optional(T::String, "How long to wait on create, e.g. 30s or 1m30s.")),
                    ("destroy_duration", A::optional(T::String, "How long to wait on destroy.")),
                    (
                        "triggers",
                        A::optional(T::Map(Box::new(T::String)), "Values whose change replaces the resource.")
                            .force_new(),
                    ),
                ],
            ),
        );
        TimeProvider { schema }
    }
}

impl Default for TimeProvider {
    fn default() -> Self {
        Self::new()
    }
}

/// Go's duration syntax as Terraform's time provider takes it: `1h2m3.5s`, `250ms`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return Err("an empty duration".into());
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("{s:?} needs a unit (ns, us, ms, s, m, h)"))?;
        let n: f64 = rest[..num_end].parse().map_err(|_| format!("{s:?} is not a duration"))?;
        rest = &rest[num_end..];
        let unit_end = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let factor = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            u => return Err(format!("unknown unit {u:?} in duration {s:?}")),
        };
        total += n * factor;
        rest = &rest[unit_end..];
    }
    // Go's durations (Terraform's) stop at 2^63 ns, about 292 years.
    Duration::try_from_secs_f64(total)
        .ok()
        .filter(|d| d.as_nanos() <= i64::MAX as u128)
        .ok_or_else(|| format!("{s:?} is longer than the longest duration, about 292 years (2562047h)"))
}

fn duration(v: &Value, key: &str) -> Result<Duration, ProviderError> {
    match v.get(key).and_then(Value::as_str) {
        Some(s) => parse_duration(s).map_err(ProviderError::new),
        None => Ok(Duration::ZERO),
    }
}

#[async_trait]
impl Provider for TimeProvider {
    fn local_name(&self) -> &'static str {
        "time"
    }
    fn source(&self) -> &'static str {
        "registry.terraform.io/hashicorp/time"
    }
    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }
    fn concurrency(&self) -> usize {
        // Sleeping costs nothing; let -parallelism be the only bound.
        1024
    }
    fn validate(&self, _: &str, config: &Value) -> Vec<String> {
        if !config.is_wholly_known() {
            return Vec::new();
        }
        ["create_duration", "destroy_duration"]
            .iter()
            .filter_map(|k| {
                config.get(k).and_then(Value::as_str).and_then(|s| parse_duration(s).err().map(|e| format!("{k}: {e}")))
            })
            .collect()
    }
    async fn read(&self, _: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(Some(state.clone()))
    }
    async fn read_many(&self, _: &str, states: &[Value]) -> Vec<Result<Option<Value>, ProviderError>> {
        states.iter().map(|s| Ok(Some(s.clone()))).collect()
    }
    async fn create(&self, _: &str, planned: &Value, _: &Marker) -> Result<Value, ProviderError> {
        tokio::time::sleep(duration(planned, "create_duration")?).await;
        let mut v = planned.clone();
        crate::set(&mut v, "id", Value::String(ecspoc_core::events::now_rfc3339()));
        Ok(v)
    }
    async fn update(&self, _: &str, prior: &Value, planned: &Value) -> Result<Value, ProviderError> {
        let mut v = planned.clone();
        crate::set(&mut v, "id", prior.get("id").cloned().unwrap_or_default());
        Ok(v)
    }
    async fn delete(&self, _: &str, prior: &Value) -> Result<(), ProviderError> {
        tokio::time::sleep(duration(prior, "destroy_duration")?).await;
        Ok(())
    }
    async fn import(&self, _: &str, id: &str) -> Result<Option<Value>, ProviderError> {
        // Import ids are CREATE_DURATION,DESTROY_DURATION as in the time provider.
        let (c, d) = id.split_once(',').unwrap_or((id, ""));
        let opt = |s: &str| {
            if s.is_empty() { Value::Null } else { Value::str(s) }
        };
        Ok(Some(Value::object([
            ("id".into(), Value::String(ecspoc_core::events::now_rfc3339())),
            ("create_duration".into(), opt(c)),
            ("destroy_duration".into(), opt(d)),
            ("triggers".into(), Value::Null),
        ])))
    }
    async fn read_data(&self, t: &str, _: &Value) -> Result<Value, ProviderError> {
        Err(ProviderError::new(format!("{t} is not a data source")))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("5 days").is_err());
    }

    #[test]
    fn durations_past_gos_limit_are_errors() {
        assert!(parse_duration("2562047h").is_ok());
        let inf = format!("{}s", "9".repeat(400));
        for huge in ["2562048h", "99999999999999999999h", inf.as_str()] {
            let e = parse_duration(huge).expect_err(huge);
            assert!(e.contains("longest duration"), "{huge}: {e}");
        }
    }
}
