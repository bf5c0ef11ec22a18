//! Terraform's state file, format version 4, field for field.

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
    #[serde(default)]
    pub check_results: Option<Json>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OutputFile {
    pub value: Json,
    #[serde(rename = "type")]
    pub type_: Json,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
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
    #[serde(default)]
    pub sensitive_attributes: Vec<Json>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub create_before_destroy: bool,
}
