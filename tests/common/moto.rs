//! The local AWS emulator (moto's server) for tests: started once per test
//! program on a free loopback port, stopped when the program exits.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::fault_proxy::{FaultProxy, Logged};
use super::request_rules::RequestRules;

pub struct Moto {
    /// Where ecspoc and the tests send requests: a proxy that holds each one
    /// to AWS's published rules before the emulator sees it.
    pub endpoint: String,
    /// The emulator itself.
    pub emulator: String,
    proxy: FaultProxy,
    _child: Child,
}

pub fn moto_server() -> PathBuf {
    if let Some(p) = std::env::var_os("ECSPOC_MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let path = home.join(".cache/ecspoc/moto-5.2.1/bin/moto_server");
    assert!(path.exists(), "the AWS emulator is not installed: run scripts/install-moto (scripts/test does)");
    path
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    body.starts_with("HTTP/1.1 200").then_some(body)
}

impl Moto {
    pub fn shared() -> &'static Moto {
        static MOTO: OnceLock<Moto> = OnceLock::new();
        MOTO.get_or_init(Moto::start)
    }

    /// An emulator of one's own, for a test that must see the whole account.
    pub fn dedicated() -> Moto {
        Moto::start()
    }

    fn start() -> Moto {
        let port =
            TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port");
        // A shell watches this test program and stops moto when it exits.
        let script = format!(
            "\"$0\" -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; while kill -0 {parent} 2>/dev/null; do sleep 1; done; kill $m",
            parent = std::process::id()
        );
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(moto_server())
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdin(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let start = Instant::now();
        while get(port, "/moto-api/data.json").is_none() {
            assert!(start.elapsed() < Duration::from_secs(60), "moto_server did not answer on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let emulator = format!("http://127.0.0.1:{port}");
        let rules = RequestRules::from_emulator()
            .expect("botocore's service models beside the emulator (set ECSPOC_BOTOCORE_DATA to its data folder)");
        let proxy = FaultProxy::checking(&emulator, rules);
        Moto { endpoint: proxy.endpoint(), emulator, proxy, _child: child }
    }

    /// Every request sent to this emulator so far.
    pub fn requests(&self) -> Vec<Logged> {
        self.proxy.log()
    }

    /// Environment for ecspoc and the SDK to talk to this emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    /// An EC2 client on the emulator, to look behind ecspoc's back.
    pub fn ec2(&self) -> aws_sdk_ec2::Client {
        let conf = aws_sdk_ec2::Config::builder()
            .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
            .region(aws_sdk_ec2::config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_ec2::config::Credentials::new("test", "test", None, None, "test"))
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }
}

impl Moto {
    /// A JSON-protocol call made by hand, for answers the SDK cannot read
    /// (moto writes some timestamps as floats).
    pub fn call_json(&self, target: &str, body: &serde_json::Value) -> serde_json::Value {
        let addr = self.endpoint.trim_start_matches("http://");
        let mut s = TcpStream::connect(addr).expect("connect to moto");
        let body = body.to_string();
        write!(
            s,
            "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: {target}\r\nContent-Type: application/x-amz-json-1.1\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=test/20261128/us-east-1/logs/aws4_request, SignedHeaders=host, Signature=0\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
        let mut answer = String::new();
        s.read_to_string(&mut answer).expect("read");
        let json = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{target}: {e}: {answer}"))
    }

    /// SDK configuration for any service's client on the emulator:
    /// `aws_sdk_iam::Client::new(&moto.sdk())`.
    pub fn sdk(&self) -> aws_types::SdkConfig {
        aws_types::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_types::region::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_types::sdk_config::SharedCredentialsProvider::new(
                aws_sdk_ec2::config::Credentials::new("test", "test", None, None, "test"),
            ))
            .build()
    }
}

/// Run a future to completion from a synchronous test.
pub fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(f)
}
