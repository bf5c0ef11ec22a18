//! `container_definitions`: the JSON a Terraform user writes (ECS's own
//! RegisterTaskDefinition field names), turned into SDK types and back,
//! and brought to one canonical form so that defaults AWS fills in, empty
//! lists and key order are no change.

use aws_sdk_ecs::types::{
    ContainerCondition, ContainerDefinition, ContainerDependency, HealthCheck, KeyValuePair, LogConfiguration,
    LogDriver, MountPoint, PortMapping, Secret, TransportProtocol, Ulimit, UlimitName, VolumeFrom,
};
use serde_json::{Map, Value as Json, json};

type Obj = Map<String, Json>;

const FIELDS: &[&str] = &[
    "name",
    "image",
    "cpu",
    "memory",
    "memoryReservation",
    "essential",
    "command",
    "entryPoint",
    "workingDirectory",
    "user",
    "hostname",
    "links",
    "portMappings",
    "environment",
    "secrets",
    "logConfiguration",
    "healthCheck",
    "mountPoints",
    "volumesFrom",
    "dependsOn",
    "startTimeout",
    "stopTimeout",
    "readonlyRootFilesystem",
    "privileged",
    "disableNetworking",
    "interactive",
    "pseudoTerminal",
    "dockerLabels",
    "ulimits",
];

/// Parse and check the document: a list of objects with known fields.
pub fn parse(text: &str) -> Result<Vec<Obj>, String> {
    let doc: Json = serde_json::from_str(text).map_err(|e| format!("container_definitions is not valid JSON: {e}"))?;
    let Json::Array(items) = doc else { return Err("container_definitions must be a JSON list of containers".into()) };
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let Json::Object(c) = item else { return Err(format!("container_definitions[{i}] must be an object")) };
        if let Some(k) = c.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(format!(
                "container_definitions[{i}].{k} is not a container setting ecspoc knows; it knows: {}",
                FIELDS.join(", ")
            ));
        }
        if !c.get("name").is_some_and(Json::is_string) || !c.get("image").is_some_and(Json::is_string) {
            return Err(format!("container_definitions[{i}] needs a name and an image"));
        }
        out.push(c);
    }
    Ok(out)
}

fn st<'a>(o: &'a Obj, k: &str) -> Option<&'a str> {
    o.get(k).and_then(Json::as_str)
}
fn int(o: &Obj, k: &str) -> Option<i32> {
    o.get(k).and_then(Json::as_i64).map(|n| n as i32)
}
fn flag(o: &Obj, k: &str) -> Option<bool> {
    o.get(k).and_then(Json::as_bool)
}
fn strs(o: &Obj, k: &str) -> Option<Vec<String>> {
    o.get(k).and_then(Json::as_array).map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect())
}
fn objs<'a>(o: &'a Obj, k: &str) -> Vec<&'a Obj> {
    o.get(k).and_then(Json::as_array).map(|a| a.iter().filter_map(Json::as_object).collect()).unwrap_or_default()
}
fn pairs(o: &Obj, k: &str) -> Option<Vec<KeyValuePair>> {
    o.get(k)?;
    Some(
        objs(o, k)
            .iter()
            .map(|p| {
                KeyValuePair::builder()
                    .set_name(st(p, "name").map(String::from))
                    .set_value(st(p, "value").map(String::from))
                    .build()
            })
            .collect(),
    )
}
fn secrets(o: &Obj, k: &str) -> Result<Option<Vec<Secret>>, String> {
    if o.get(k).is_none() {
        return Ok(None);
    }
    objs(o, k)
        .iter()
        .map(|s| {
            Secret::builder()
                .set_name(st(s, "name").map(String::from))
                .set_value_from(st(s, "valueFrom").map(String::from))
                .build()
                .map_err(|e| format!("{k}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}
fn string_map(o: &Obj, k: &str) -> Option<std::collections::HashMap<String, String>> {
    o.get(k)
        .and_then(Json::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
}

/// One container as the SDK's type.
fn to_sdk(c: &Obj) -> Result<ContainerDefinition, String> {
    let name = st(c, "name").unwrap_or_default();
    let at = |e: String| format!("container {name:?}: {e}");
    let ports = c.get("portMappings").map(|_| {
        objs(c, "portMappings")
            .iter()
            .map(|p| {
                PortMapping::builder()
                    .set_container_port(int(p, "containerPort"))
                    .set_host_port(int(p, "hostPort"))
                    .set_protocol(st(p, "protocol").map(TransportProtocol::from))
                    .set_name(st(p, "name").map(String::from))
                    .build()
            })
            .collect()
    });
    let log = match c.get("logConfiguration").and_then(Json::as_object) {
        Some(l) => Some(
            LogConfiguration::builder()
                .set_log_driver(st(l, "logDriver").map(LogDriver::from))
                .set_options(string_map(l, "options"))
                .set_secret_options(secrets(l, "secretOptions").map_err(at)?)
                .build()
                .map_err(|e| at(format!("logConfiguration: {e}")))?,
        ),
        None => None,
    };
    let health = match c.get("healthCheck").and_then(Json::as_object) {
        Some(h) => Some(
            HealthCheck::builder()
                .set_command(strs(h, "command"))
                .set_interval(int(h, "interval"))
                .set_timeout(int(h, "timeout"))
                .set_retries(int(h, "retries"))
                .set_start_period(int(h, "startPeriod"))
                .build()
                .map_err(|e| at(format!("healthCheck: {e}")))?,
        ),
        None => None,
    };
    let depends = c
        .get("dependsOn")
        .map(|_| {
            objs(c, "dependsOn")
                .iter()
                .map(|d| {
                    ContainerDependency::builder()
                        .set_container_name(st(d, "containerName").map(String::from))
                        .set_condition(st(d, "condition").map(ContainerCondition::from))
                        .build()
                        .map_err(|e| at(format!("dependsOn: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let ulimits = c
        .get("ulimits")
        .map(|_| {
            objs(c, "ulimits")
                .iter()
                .map(|u| {
                    Ulimit::builder()
                        .set_name(st(u, "name").map(UlimitName::from))
                        .set_soft_limit(int(u, "softLimit"))
                        .set_hard_limit(int(u, "hardLimit"))
                        .build()
                        .map_err(|e| at(format!("ulimits: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    Ok(ContainerDefinition::builder()
        .name(name)
        .set_image(st(c, "image").map(String::from))
        .set_cpu(int(c, "cpu"))
        .set_memory(int(c, "memory"))
        .set_memory_reservation(int(c, "memoryReservation"))
        .set_essential(flag(c, "essential"))
        .set_command(strs(c, "command"))
        .set_entry_point(strs(c, "entryPoint"))
        .set_working_directory(st(c, "workingDirectory").map(String::from))
        .set_user(st(c, "user").map(String::from))
        .set_hostname(st(c, "hostname").map(String::from))
        .set_links(strs(c, "links"))
        .set_port_mappings(ports)
        .set_environment(pairs(c, "environment"))
        .set_secrets(secrets(c, "secrets").map_err(at)?)
        .set_log_configuration(log)
        .set_health_check(health)
        .set_mount_points(c.get("mountPoints").map(|_| {
            objs(c, "mountPoints")
                .iter()
                .map(|m| {
                    MountPoint::builder()
                        .set_source_volume(st(m, "sourceVolume").map(String::from))
                        .set_container_path(st(m, "containerPath").map(String::from))
                        .set_read_only(flag(m, "readOnly"))
                        .build()
                })
                .collect()
        }))
        .set_volumes_from(c.get("volumesFrom").map(|_| {
            objs(c, "volumesFrom")
                .iter()
                .map(|v| {
                    VolumeFrom::builder()
                        .set_source_container(st(v, "sourceContainer").map(String::from))
                        .set_read_only(flag(v, "readOnly"))
                        .build()
                })
                .collect()
        }))
        .set_depends_on(depends)
        .set_start_timeout(int(c, "startTimeout"))
        .set_stop_timeout(int(c, "stopTimeout"))
        .set_readonly_root_filesystem(flag(c, "readonlyRootFilesystem"))
        .set_privileged(flag(c, "privileged"))
        .set_disable_networking(flag(c, "disableNetworking"))
        .set_interactive(flag(c, "interactive"))
        .set_pseudo_terminal(flag(c, "pseudoTerminal"))
        .set_docker_labels(string_map(c, "dockerLabels"))
        .set_ulimits(ulimits)
        .build())
}

pub fn to_sdk_all(text: &str) -> Result<Vec<ContainerDefinition>, String> {
    parse(text)?.iter().map(to_sdk).collect()
}

/// What AWS reports, in the JSON a user writes.
pub fn from_sdk(defs: &[ContainerDefinition]) -> String {
    let items: Vec<Json> = defs
        .iter()
        .map(|c| {
            let kv = |p: &[KeyValuePair]| -> Json {
                p.iter().map(|p| json!({"name": p.name(), "value": p.value()})).collect()
            };
            let secrets = |s: &[Secret]| -> Json { s.iter().map(|s| json!({"name": s.name(), "valueFrom": s.value_from()})).collect() };
            json!({
                "name": c.name(),
                "image": c.image(),
                "cpu": c.cpu(),
                "memory": c.memory(),
                "memoryReservation": c.memory_reservation(),
                "essential": c.essential(),
                "command": c.command(),
                "entryPoint": c.entry_point(),
                "workingDirectory": c.working_directory(),
                "user": c.user(),
                "hostname": c.hostname(),
                "links": c.links(),
                "portMappings": c.port_mappings().iter().map(|p| json!({
                    "containerPort": p.container_port(), "hostPort": p.host_port(),
                    "protocol": p.protocol().map(|x| x.as_str()), "name": p.name(),
                })).collect::<Vec<_>>(),
                "environment": kv(c.environment()),
                "secrets": secrets(c.secrets()),
                "logConfiguration": c.log_configuration().map(|l| json!({
                    "logDriver": l.log_driver().as_str(), "options": l.options(), "secretOptions": secrets(l.secret_options()),
                })),
                "healthCheck": c.health_check().map(|h| json!({
                    "command": h.command(), "interval": h.interval(), "timeout": h.timeout(),
                    "retries": h.retries(), "startPeriod": h.start_period(),
                })),
                "mountPoints": c.mount_points().iter().map(|m| json!({
                    "sourceVolume": m.source_volume(), "containerPath": m.container_path(), "readOnly": m.read_only(),
                })).collect::<Vec<_>>(),
                "volumesFrom": c.volumes_from().iter().map(|v| json!({
                    "sourceContainer": v.source_container(), "readOnly": v.read_only(),
                })).collect::<Vec<_>>(),
                "dependsOn": c.depends_on().iter().map(|d| json!({
                    "containerName": d.container_name(), "condition": d.condition().as_str(),
                })).collect::<Vec<_>>(),
                "startTimeout": c.start_timeout(),
                "stopTimeout": c.stop_timeout(),
                "readonlyRootFilesystem": c.readonly_root_filesystem(),
                "privileged": c.privileged(),
                "disableNetworking": c.disable_networking(),
                "interactive": c.interactive(),
                "pseudoTerminal": c.pseudo_terminal(),
                "dockerLabels": c.docker_labels(),
                "ulimits": c.ulimits().iter().map(|u| json!({
                    "name": u.name().as_str(), "softLimit": u.soft_limit(), "hardLimit": u.hard_limit(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Json::Array(items).to_string()
}

/// Nulls, empty lists and empty objects say nothing.
fn prune(v: Json) -> Option<Json> {
    match v {
        Json::Null => None,
        Json::Array(a) => {
            let items: Vec<Json> = a.into_iter().filter_map(prune).collect();
            (!items.is_empty()).then_some(Json::Array(items))
        }
        Json::Object(m) => {
            let o: Obj = m.into_iter().filter_map(|(k, v)| prune(v).map(|v| (k, v))).collect();
            (!o.is_empty()).then_some(Json::Object(o))
        }
        other => Some(other),
    }
}

/// The canonical text of a document, with what AWS fills in made explicit
/// and what it leaves out removed. `awsvpc`: host ports equal container ports.
pub fn canonical(text: &str, awsvpc: bool) -> Option<String> {
    let items = parse(text).ok()?;
    let mut out = Vec::new();
    for c in items {
        let Some(Json::Object(mut c)) = prune(Json::Object(c)) else { continue };
        c.entry("essential").or_insert(Json::Bool(true));
        if c.get("cpu").and_then(Json::as_i64) == Some(0) {
            c.remove("cpu");
        }
        if let Some(Json::Array(ports)) = c.get_mut("portMappings") {
            for p in ports.iter_mut().filter_map(Json::as_object_mut) {
                p.entry("protocol").or_insert(Json::String("tcp".into()));
                let host = p.get("hostPort").and_then(Json::as_i64);
                if host == Some(0) || (awsvpc && host == p.get("containerPort").and_then(Json::as_i64)) {
                    p.remove("hostPort");
                }
            }
        }
        if let Some(Json::Array(env)) = c.get_mut("environment") {
            env.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        }
        out.push(Json::Object(c));
    }
    crate::json_doc::canonical(&Json::Array(out).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_order_are_no_change() {
        let written = r#"[{"name":"web","image":"php:8","portMappings":[{"containerPort":80}],"environment":[{"name":"B","value":"2"},{"name":"A","value":"1"}]}]"#;
        let reported = r#"[{"environment":[{"value":"1","name":"A"},{"name":"B","value":"2"}],"essential":true,"cpu":0,"mountPoints":[],"volumesFrom":[],"image":"php:8","name":"web","portMappings":[{"containerPort":80,"hostPort":0,"protocol":"tcp"}]}]"#;
        assert_eq!(canonical(written, false), canonical(reported, false));
        let changed = written.replace("php:8", "php:8.3");
        assert_ne!(canonical(&changed, false), canonical(reported, false));
    }

    #[test]
    fn a_round_trip_through_the_sdk_types_keeps_the_meaning() {
        let text = r#"[{"name":"web","image":"php:8","memory":256,"essential":true,"portMappings":[{"containerPort":80,"protocol":"tcp"}],
            "logConfiguration":{"logDriver":"awslogs","options":{"awslogs-group":"/ecs/web","awslogs-region":"us-east-1"}},
            "secrets":[{"name":"DB","valueFrom":"arn:aws:ssm:us-east-1:1:parameter/db"}]}]"#;
        let back = from_sdk(&to_sdk_all(text).expect("to sdk"));
        assert_eq!(canonical(text, false), canonical(&back, false));
    }

    #[test]
    fn unknown_settings_are_named() {
        let err = to_sdk_all(r#"[{"name":"web","image":"x","memroy":256}]"#).expect_err("typo");
        assert!(err.contains("container_definitions[0].memroy"), "{err}");
    }
}
