//! Tags: the user's `tags`, the provider's `default_tags` (together `tags_all`),
//! and ecspoc's marker tags, which find an object again after a crash.

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use ecspoc_core::provider::Marker;
use ecspoc_core::value::Value;
use std::collections::BTreeMap;

pub const MARKER_ADDRESS: &str = "ecspoc:address";
pub const MARKER_LINEAGE: &str = "ecspoc:lineage";

pub type Tags = BTreeMap<String, String>;

/// The provider's `default_tags`, and its `ignore_tags`: tags (set by other
/// tools or people) that ecspoc neither shows nor changes. Reads as the
/// default tags themselves.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Defaults {
    pub tags: Tags,
    pub ignore_keys: Vec<String>,
    pub ignore_key_prefixes: Vec<String>,
}

impl std::ops::Deref for Defaults {
    type Target = Tags;
    fn deref(&self) -> &Tags {
        &self.tags
    }
}

impl Defaults {
    pub fn ignores(&self, key: &str) -> bool {
        self.ignore_keys.iter().any(|k| k == key)
            || self.ignore_key_prefixes.iter().any(|p| key.starts_with(p.as_str()))
    }

    /// `tags` without the ignored keys.
    pub fn visible(&self, tags: Tags) -> Tags {
        tags.into_iter().filter(|(k, _)| !self.ignores(k)).collect()
    }
}

pub fn from_value(v: Option<&Value>) -> Tags {
    v.and_then(Value::as_map)
        .map(|m| m.iter().filter_map(|(k, v)| v.to_template_string().map(|s| (k.clone(), s))).collect())
        .unwrap_or_default()
}

pub fn to_value(t: &Tags) -> Value {
    Value::Map(t.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

/// default_tags overlaid with the resource's own tags.
pub fn all(defaults: &Tags, own: &Tags) -> Tags {
    let mut t = defaults.clone();
    t.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
    t
}

/// What goes to AWS on create: tags_all plus the marker.
pub fn with_marker(all: &Tags, marker: &Marker) -> Tags {
    let mut t = all.clone();
    t.insert(MARKER_ADDRESS.into(), marker_address(&marker.address));
    t.insert(MARKER_LINEAGE.into(), marker.lineage.clone());
    t
}

/// The longest tag value every service takes.
const TAG_VALUE_MAX: usize = 256;

/// An instance address as a tag value every service accepts (CloudWatch
/// Logs, ELBv2, IAM, ECS and CodeBuild take only letters, digits, spaces
/// and `_.:/=+-@`, at most 256 characters), still naming exactly one
/// address: any other byte, and `@` itself, is written `@XX` (hex), so
/// `aws_route_table.private[0]` is `aws_route_table.private@5B0@5D`. An
/// address longer than a tag value keeps its first characters and ends in
/// `@@` and the SHA-1 of the whole address.
pub fn marker_address(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    for b in address.bytes() {
        if b.is_ascii_alphanumeric() || b"_.:/=+-".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("@{b:02X}"));
        }
    }
    if out.len() <= TAG_VALUE_MAX {
        return out;
    }
    let digest = sha1_smol::Sha1::from(address).digest().to_string();
    let mut keep = TAG_VALUE_MAX - 2 - digest.len();
    // Never cut an escape in half.
    while out[..keep].rfind('@').is_some_and(|at| at + 3 > keep) {
        keep -= 1;
    }
    format!("{}@@{digest}", &out[..keep])
}

pub fn specification(resource: ResourceType, tags: &Tags) -> TagSpecification {
    TagSpecification::builder().resource_type(resource).set_tags(Some(ec2_tags(tags))).build()
}

pub fn ec2_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

/// Remote tags as (tags, tags_all): the marker is ecspoc's own and never
/// shown; tags leaves out defaults whose values match.
pub fn read(remote: &[Tag], defaults: &Defaults) -> (Tags, Tags) {
    let all: Tags = defaults
        .visible(from_ec2(remote))
        .into_iter()
        .filter(|(k, _)| k != MARKER_ADDRESS && k != MARKER_LINEAGE)
        .collect();
    let own = all.iter().filter(|(k, v)| defaults.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    (own, all)
}

/// EC2's tag list as a key/value map, marker included.
pub fn from_ec2(remote: &[Tag]) -> Tags {
    remote.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))).collect()
}

/// `tags` and `tags_all` attribute values from an object's remote tags.
pub fn attributes(remote: &[Tag], defaults: &Defaults) -> (Value, Value) {
    let (own, all) = read(remote, defaults);
    (if own.is_empty() { Value::Null } else { to_value(&own) }, to_value(&all))
}

/// The tags a create sends: tags_all from the plan, plus the marker.
pub fn for_create(resource: ResourceType, planned: &Value, defaults: &Tags, marker: &Marker) -> TagSpecification {
    specification(resource, &with_marker(&all(defaults, &from_value(planned.get("tags"))), marker))
}

/// The tags a create sends to APIs that take a plain key/value map.
pub fn create_map(planned: &Value, defaults: &Tags, marker: &Marker) -> Tags {
    with_marker(&all(defaults, &from_value(planned.get("tags"))), marker)
}

/// `tags` and `tags_all` from a plain key/value map of remote tags.
pub fn attributes_from_map(remote: &Tags, defaults: &Defaults) -> (Value, Value) {
    let all: Tags = remote
        .iter()
        .filter(|(k, _)| *k != MARKER_ADDRESS && *k != MARKER_LINEAGE && !defaults.ignores(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let own: Tags =
        all.iter().filter(|(k, v)| defaults.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    (if own.is_empty() { Value::Null } else { to_value(&own) }, to_value(&all))
}

/// Does this object carry ecspoc's marker for `marker`? (Objects made
/// before addresses were encoded carry the address as it is written.)
pub fn has_marker(remote: &Tags, marker: &Marker) -> bool {
    let address = remote.get(MARKER_ADDRESS);
    remote.get(MARKER_LINEAGE) == Some(&marker.lineage)
        && (address == Some(&marker_address(&marker.address)) || address == Some(&marker.address))
}

/// What an update must do to go from `prior`'s tags_all to `planned`'s:
/// keys to remove and tags to set (marker tags are never touched).
pub struct TagChange {
    pub removed: Vec<String>,
    pub set: Tags,
}

pub fn change(prior: &Value, planned: &Value, defaults: &Defaults) -> TagChange {
    let old = defaults.visible(from_value(prior.get("tags_all")));
    let new = defaults.visible(all(defaults, &from_value(planned.get("tags"))));
    TagChange {
        removed: old.keys().filter(|k| !new.contains_key(*k)).cloned().collect(),
        set: new.iter().filter(|(k, v)| old.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(v: &str) -> bool {
        v.len() <= TAG_VALUE_MAX && v.chars().all(|c| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c))
    }

    #[test]
    fn marker_addresses_are_tag_values_every_service_takes_and_stay_distinct() {
        let addresses = [
            "aws_vpc.this".to_string(),
            "aws_route_table.private[0]".to_string(),
            "module.cluster.aws_cloudwatch_log_group.host[\"/var/log/dmesg\"]".to_string(),
            "aws_x.y[\"@5B\"]".to_string(),
            "aws_x.y[\"[\"]".to_string(),
            "aws_x.y[\"ü 'quoted'\"]".to_string(),
            format!("module.a.aws_x.y[\"{}\"]", "k".repeat(400)),
            format!("module.a.aws_x.y[\"{}\"]", "k".repeat(401)),
            format!("module.a.aws_x.y[\"{}\"]", "[".repeat(300)),
        ];
        let encoded: Vec<String> = addresses.iter().map(|a| marker_address(a)).collect();
        for (a, e) in addresses.iter().zip(&encoded) {
            assert!(allowed(e), "{a} -> {e}");
        }
        let distinct: std::collections::BTreeSet<&String> = encoded.iter().collect();
        assert_eq!(distinct.len(), addresses.len(), "{encoded:#?}");
        assert_eq!(encoded[0], "aws_vpc.this");
        assert_eq!(encoded[1], "aws_route_table.private@5B0@5D");
        assert_eq!(encoded[3], "aws_x.y@5B@22@405B@22@5D");
    }

    #[test]
    fn markers_written_before_encoding_are_still_recognised() {
        let marker = Marker {
            address: "aws_route_table.private[0]".into(),
            lineage: "l".into(),
            name: None,
            create_id: String::new(),
        };
        let old: Tags =
            [(MARKER_ADDRESS.to_string(), marker.address.clone()), (MARKER_LINEAGE.into(), "l".into())].into();
        assert!(has_marker(&old, &marker));
        assert!(has_marker(&with_marker(&Tags::new(), &marker), &marker));
        let other = Marker { address: "aws_route_table.private[1]".into(), ..marker.clone() };
        assert!(!has_marker(&old, &other));
    }
}
