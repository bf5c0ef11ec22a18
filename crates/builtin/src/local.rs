use async_trait::async_trait;
use base64::Engine;
use ecspoc_core::config::types::TypeConstraint as T;
use ecspoc_core::provider::{
    AttrSchema as A, Marker, PlanRequest, PlanResponse, Provider, ProviderError, ProviderSchema, ResourceSchema,
};
use ecspoc_core::value::Value;
use std::path::Path;

/// hashicorp/local: `local_file`.
pub struct LocalProvider {
    schema: ProviderSchema,
}

impl LocalProvider {
    pub fn new() -> Self {
        let mut schema = ProviderSchema::default();
        schema.resources.insert(
            "local_file",
            ResourceSchema::new(
                "A file on the machine that runs ecspoc.",
                [
                    ("id", A::computed(T::String, "SHA-1 of the content, in hex.")),
                    ("filename", A::required(T::String, "Path of the file, relative to the root module.").force_new()),
                    ("content", A::optional(T::String, "Content as UTF-8 text.").force_new()),
                    (
                        "sensitive_content",
                        A::optional(T::String, "Content that is never shown in plans.").force_new().sensitive(),
                    ),
                    ("content_base64", A::optional(T::String, "Content as base64.").force_new()),
                    (
                        "file_permission",
                        A::optional_computed(T::String, "Octal permission of the file (default 0777).").force_new(),
                    ),
                    (
                        "directory_permission",
                        A::optional_computed(T::String, "Octal permission of created folders (default 0777).")
                            .force_new(),
                    ),
                    ("content_sha1", A::computed(T::String, "SHA-1 hex of the content.")),
                ],
            ),
        );
        schema.data_sources.insert(
            "local_file",
            ResourceSchema::new(
                "Reads a file on the machine that runs ecspoc.",
                [
                    ("id", A::computed(T::String, "SHA-1 of the content, in hex.")),
                    ("filename", A::required(T::String, "Path of the file, relative to the root module.")),
                    ("content", A::computed(T::String, "Content as UTF-8 text.")),
                    ("content_base64", A::computed(T::String, "Content as base64.")),
                    ("content_sha1", A::computed(T::String, "SHA-1 hex of the content.")),
                ],
            ),
        );
        LocalProvider { schema }
    }
}

impl Default for LocalProvider {
    fn default() -> Self {
        Self::new()
    }
}

fn content_bytes(v: &Value) -> Result<Vec<u8>, ProviderError> {
    if let Some(s) = v.get("content").and_then(Value::as_str) {
        return Ok(s.as_bytes().to_vec());
    }
    if let Some(s) = v.get("sensitive_content").and_then(Value::as_str) {
        return Ok(s.as_bytes().to_vec());
    }
    if let Some(s) = v.get("content_base64").and_then(Value::as_str) {
        return base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|e| ProviderError::new(format!("content_base64 is not base64: {e}")));
    }
    Ok(Vec::new())
}

fn sha1_hex(bytes: &[u8]) -> String {
    sha1_smol::Sha1::from(bytes).digest().to_string()
}

fn filename(v: &Value) -> Result<&str, ProviderError> {
    v.get("filename").and_then(Value::as_str).ok_or_else(|| ProviderError::new("filename is required"))
}

fn mode(v: &Value, key: &str) -> u32 {
    v.get(key).and_then(Value::as_str).and_then(|s| u32::from_str_radix(s, 8).ok()).unwrap_or(0o777)
}

#[async_trait]
impl Provider for LocalProvider {
    fn local_name(&self) -> &'static str {
        "local"
    }
    fn source(&self) -> &'static str {
        "registry.terraform.io/hashicorp/local"
    }
    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }
    fn validate(&self, _: &str, config: &Value) -> Vec<String> {
        if !config.is_wholly_known() {
            return Vec::new();
        }
        let given = ["content", "sensitive_content", "content_base64"]
            .iter()
            .filter(|k| config.get(k).is_some_and(|v| !v.is_null()))
            .count();
        let mut out = Vec::new();
        if given > 1 {
            out.push("only one of content, sensitive_content and content_base64 may be set".to_string());
        }
        for k in ["file_permission", "directory_permission"] {
            if let Some(s) = config.get(k).and_then(Value::as_str)
                && u32::from_str_radix(s, 8).is_err()
            {
                out.push(format!("{k} must be an octal string such as \"0644\", got {s:?}"));
            }
        }
        out
    }
    fn plan(&self, req: PlanRequest<'_>) -> Result<PlanResponse, ProviderError> {
        let mut planned = req.proposed;
        for k in ["file_permission", "directory_permission"] {
            if planned.get(k).is_none_or(Value::is_unknown) {
                crate::set(&mut planned, k, Value::str("0777"));
            }
        }
        Ok(PlanResponse { planned, requires_replace: Vec::new() })
    }
    async fn read(&self, _: &str, state: &Value) -> Result<Option<Value>, ProviderError> {
        let path = filename(state)?;
        match std::fs::read(path) {
            // A file whose content changed is gone as far as this resource is concerned.
            Ok(bytes) if Some(sha1_hex(&bytes).as_str()) == state.get("id").and_then(Value::as_str) => {
                Ok(Some(state.clone()))
            }
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ProviderError::new(format!("reading {path}: {e}"))),
        }
    }
    async fn create(&self, _: &str, planned: &Value, _: &Marker) -> Result<Value, ProviderError> {
        let path = filename(planned)?;
        let bytes = content_bytes(planned)?;
        let p = Path::new(path);
        if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| ProviderError::new(format!("creating the folder {}: {e}", dir.display())))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(
                    dir,
                    std::fs::Permissions::from_mode(mode(planned, "directory_permission")),
                );
            }
        }
        std::fs::write(p, &bytes).map_err(|e| ProviderError::new(format!("writing {path}: {e}")))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode(planned, "file_permission")))
                .map_err(|e| ProviderError::new(format!("setting the permission of {path}: {e}")))?;
        }
        let mut v = planned.clone();
        let sum = sha1_hex(&bytes);
        crate::set(&mut v, "id", Value::String(sum.clone()));
        crate::set(&mut v, "content_sha1", Value::String(sum));
        Ok(v)
    }
    async fn update(&self, _: &str, _: &Value, planned: &Value) -> Result<Value, ProviderError> {
        Ok(planned.clone())
    }
    async fn delete(&self, _: &str, prior: &Value) -> Result<(), ProviderError> {
        let path = filename(prior)?;
        match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ProviderError::new(format!("removing {path}: {e}"))),
        }
    }
    async fn import(&self, _: &str, id: &str) -> Result<Option<Value>, ProviderError> {
        // The import id is the file's path.
        let bytes = match std::fs::read(id) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ProviderError::new(format!("reading {id}: {e}"))),
        };
        let sum = sha1_hex(&bytes);
        let content = String::from_utf8(bytes)
            .map(Value::String)
            .map_err(|_| ProviderError::new(format!("{id} is not UTF-8 text")))?;
        Ok(Some(Value::object([
            ("id".into(), Value::String(sum.clone())),
            ("filename".into(), Value::str(id)),
            ("content".into(), content),
            ("sensitive_content".into(), Value::Null),
            ("content_base64".into(), Value::Null),
            ("file_permission".into(), Value::str("0777")),
            ("directory_permission".into(), Value::str("0777")),
            ("content_sha1".into(), Value::String(sum)),
        ])))
    }
    async fn read_data(&self, _: &str, config: &Value) -> Result<Value, ProviderError> {
        let path = filename(config)?;
        let bytes = std::fs::read(path).map_err(|e| ProviderError::new(format!("reading {path}: {e}")))?;
        let sum = sha1_hex(&bytes);
        Ok(Value::object([
            ("id".into(), Value::String(sum.clone())),
            ("filename".into(), Value::str(path)),
            ("content".into(), Value::String(String::from_utf8_lossy(&bytes).into_owned())),
            ("content_base64".into(), Value::String(base64::engine::general_purpose::STANDARD.encode(&bytes))),
            ("content_sha1".into(), Value::String(sum)),
        ]))
    }
}
