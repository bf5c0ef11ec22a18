//! A bucket and a DynamoDB lock table of a test's own on the shared
//! emulator, for the S3 backend's tests, and looks behind the backend's back.

use super::moto::{Moto, block};

pub const KEY: &str = "envs/test/terraform.tfstate";

#[derive(Clone, Copy, PartialEq)]
pub enum Locks {
    Lockfile,
    DynamoDb,
    Both,
}

/// A bucket and a lock table of this test's own on the shared emulator.
pub struct Store {
    pub bucket: String,
    pub table: String,
    pub s3: aws_sdk_s3::Client,
    pub db: aws_sdk_dynamodb::Client,
}

pub fn store(name: &str) -> Store {
    store_on(Moto::shared(), name)
}

pub fn store_on(moto: &Moto, name: &str) -> Store {
    let sdk = moto.sdk();
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    let db = aws_sdk_dynamodb::Client::new(&sdk);
    let st = Store { bucket: format!("ecspoc-state-{name}"), table: format!("ecspoc-locks-{name}"), s3, db };
    block(async {
        st.s3.create_bucket().bucket(&st.bucket).send().await.expect("create bucket");
        use aws_sdk_dynamodb::types::*;
        st.db
            .create_table()
            .table_name(&st.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("LockID")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(KeySchemaElement::builder().attribute_name("LockID").key_type(KeyType::Hash).build().unwrap())
            .send()
            .await
            .expect("create table");
    });
    st
}

impl Store {
    pub fn backend_block(&self, locks: Locks, endpoint: &str) -> String {
        let mut b = format!(
            "[terraform.backend.s3]\nbucket = \"{}\"\nkey = \"{KEY}\"\nregion = \"us-east-1\"\nencrypt = true\n\
             endpoints = {{ s3 = \"{endpoint}\", dynamodb = \"{endpoint}\" }}\nmax_retries = 1\n",
            self.bucket
        );
        if locks != Locks::DynamoDb {
            b.push_str("use_lockfile = true\n");
        }
        if locks != Locks::Lockfile {
            b.push_str(&format!("dynamodb_table = \"{}\"\n", self.table));
        }
        b
    }

    pub fn object(&self, key: &str) -> Option<Vec<u8>> {
        block(async {
            match self.s3.get_object().bucket(&self.bucket).key(key).send().await {
                Ok(o) => Some(o.body.collect().await.expect("body").into_bytes().to_vec()),
                Err(_) => None,
            }
        })
    }

    pub fn state(&self) -> serde_json::Value {
        serde_json::from_slice(&self.object(KEY).expect("the state object")).expect("state JSON")
    }

    pub fn keys(&self, prefix: &str) -> Vec<String> {
        block(async {
            let out = self.s3.list_objects_v2().bucket(&self.bucket).prefix(prefix).send().await.expect("list");
            out.contents().iter().filter_map(|o| o.key().map(String::from)).collect()
        })
    }

    pub fn item(&self, lock_id: &str, attr: &str) -> Option<String> {
        block(async {
            let out = self
                .db
                .get_item()
                .table_name(&self.table)
                .key("LockID", aws_sdk_dynamodb::types::AttributeValue::S(lock_id.into()))
                .send()
                .await
                .expect("get item");
            out.item().and_then(|i| i.get(attr)).and_then(|v| v.as_s().ok()).cloned()
        })
    }

    /// Completed operations in the journal objects beside the state.
    pub fn journal_puts(&self) -> usize {
        self.keys(&format!("{KEY}.journal/"))
            .iter()
            .filter_map(|k| self.object(k))
            .map(|b| String::from_utf8_lossy(&b).lines().filter(|l| l.contains("\"op\":\"put\"")).count())
            .sum()
    }

    pub fn lock_held(&self) -> bool {
        self.object(&format!("{KEY}.tflock")).is_some()
            || self.item(&format!("{}/{KEY}", self.bucket), "Info").is_some()
    }
}

/// The lock ID a "state is locked" report names.
pub fn lock_id(report: &str) -> String {
    report
        .lines()
        .find_map(|l| l.trim().strip_prefix("ID:").map(|id| id.trim().to_string()))
        .unwrap_or_else(|| panic!("no lock ID in:\n{report}"))
}
