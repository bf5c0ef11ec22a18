//! botocore's service models: the newest API version of each service,
//! read (gzip-compressed JSON) the first time a request for it is seen.

use serde_json::Value;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub struct Model {
    json: Value,
}

impl Model {
    pub fn from_json(json: Value) -> Model {
        Model { json }
    }

    pub fn protocol(&self) -> &str {
        self.json.pointer("/metadata/protocol").and_then(Value::as_str).unwrap_or("")
    }

    pub fn shape(&self, name: &str) -> Option<&Value> {
        self.json.get("shapes")?.get(name)
    }

    pub fn operations(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.json.get("operations").and_then(Value::as_object).into_iter().flatten()
    }

    pub fn operation_input(&self, operation: &str) -> Option<&str> {
        self.json.get("operations")?.get(operation)?.pointer("/input/shape")?.as_str()
    }
}

pub struct Models {
    data: PathBuf,
    loaded: Mutex<HashMap<String, Option<Arc<Model>>>>,
}

impl Models {
    /// botocore's `data` folder.
    pub fn at(data: PathBuf) -> Models {
        Models { data, loaded: Mutex::new(HashMap::new()) }
    }

    /// The botocore installed with the emulator (`ECSPOC_BOTOCORE_DATA` overrides).
    pub fn beside_emulator() -> Option<Models> {
        if let Some(p) = std::env::var_os("ECSPOC_BOTOCORE_DATA") {
            return Some(Models::at(PathBuf::from(p)));
        }
        let server = super::super::moto::moto_server();
        let venv = server.parent()?.parent()?;
        let lib = std::fs::read_dir(venv.join("lib")).ok()?;
        lib.flatten()
            .map(|python| python.path().join("site-packages/botocore/data"))
            .find(|d| d.is_dir())
            .map(Models::at)
    }

    /// A service's model by botocore's folder name (`iam`, `elbv2`).
    pub fn get(&self, service: &str) -> Option<Arc<Model>> {
        let mut loaded = self.loaded.lock().ok()?;
        loaded.entry(service.to_string()).or_insert_with(|| load(&self.data.join(service)).map(Arc::new)).clone()
    }
}

fn load(service_dir: &Path) -> Option<Model> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir(service_dir).ok()?.flatten().map(|e| e.path()).collect();
    versions.sort();
    let newest = versions
        .into_iter()
        .rev()
        .find(|v| v.join("service-2.json.gz").exists() || v.join("service-2.json").exists())?;
    let plain = newest.join("service-2.json");
    let text = if plain.exists() {
        std::fs::read_to_string(plain).ok()?
    } else {
        let file = std::fs::File::open(newest.join("service-2.json.gz")).ok()?;
        let mut text = String::new();
        flate2::read::GzDecoder::new(file).read_to_string(&mut text).ok()?;
        text
    };
    serde_json::from_str(&text).ok().map(Model::from_json)
}
