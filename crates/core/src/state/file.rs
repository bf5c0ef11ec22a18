//! Terraform's state file, format version 4, field for field. Fields ecspoc
//! does not use itself (`identity`, 0.12's `depends_on`, whatever a later
//! Terraform adds) are kept in `extra` and written back as they were read.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StateFile {
    pub version: u64,
    pub terraform_version: String,
    pub serial: u64,
    pub lineage: String,
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputFile>,
    #[serde(default)]
    pub resources: Vec<ResourceFile>,
    /// `check_results` (null or Terraform's check outcomes) among the rest:
    /// kept as read, and absent where it was absent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Json>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OutputFile {
    pub value: Json,
    #[serde(rename = "type")]
    pub type_: Json,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ResourceFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    pub mode: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub each: Option<String>,
    pub provider: String,
    pub instances: Vec<InstanceFile>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Json>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct InstanceFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_key: Option<Json>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deposed: Option<String>,
    #[serde(default)]
    pub schema_version: u64,
    pub attributes: Json,
    /// Absent in states written before Terraform 0.15.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitive_attributes: Option<Vec<Json>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<crate::addr::ResourceAddr>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub create_before_destroy: bool,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Json>,
}
