//! A loopback HTTP proxy in front of the emulator that makes AWS fail the
//! way AWS fails: a share of requests gets a 500, a 503, throttling (in the
//! error format of the request's protocol) or a dropped connection, either
//! before the emulator sees the request or after it acted (the answer lost).
//! It serves only 127.0.0.1, one thread per connection, every socket with a
//! timeout, and stops when dropped.
//!
//! It also honours EC2's idempotency tokens as AWS does (a request repeated
//! with the same `ClientToken` gets the first answer and makes nothing new),
//! which moto does not: it stores the token and creates a second object.
//!
//! With request rules (every emulator the tests start has them), each request
//! is held to AWS's published service models and refused with a 400
//! `ValidationError` when AWS would refuse it; every request is logged by
//! service, operation and SDK attempt, for counting API calls and retries.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::request_rules::{HttpRequest, RequestRules, Violation};

/// One request as the proxy saw it.
#[derive(Clone, Debug)]
pub struct Logged {
    pub service: String,
    pub operation: String,
    /// Above 1: the SDK's retry of an earlier attempt.
    pub attempt: u32,
    pub violations: Vec<Violation>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// Refused before the emulator saw the request.
    InternalErrorBefore,
    UnavailableBefore,
    ThrottledBefore,
    DroppedBefore,
    /// The emulator acted; its answer was replaced or lost.
    InternalErrorAfter,
    UnavailableAfter,
    DroppedAfter,
}

const FAULTS: [Fault; 7] = [
    Fault::InternalErrorBefore,
    Fault::UnavailableBefore,
    Fault::ThrottledBefore,
    Fault::DroppedBefore,
    Fault::InternalErrorAfter,
    Fault::UnavailableAfter,
    Fault::DroppedAfter,
];

struct Shared {
    upstream: u16,
    /// Faults per million requests.
    rate_ppm: AtomicU64,
    rng: Mutex<u64>,
    requests: AtomicU64,
    injected: Mutex<std::collections::BTreeMap<Fault, u64>>,
    stop: AtomicBool,
    /// Successful answers by (action, client token), replayed to a retry.
    idempotent: Mutex<std::collections::HashMap<String, Vec<u8>>>,
    rules: Option<RequestRules>,
    log: Mutex<Vec<Logged>>,
}

pub struct FaultProxy {
    pub port: u16,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// Forward to the emulator at `upstream`, failing `rate` (0.0 to 1.0) of requests.
    pub fn start(upstream_endpoint: &str, rate: f64, seed: u64) -> FaultProxy {
        FaultProxy::launch(upstream_endpoint, rate, seed, None)
    }

    /// Forward every request, refusing those that break AWS's published rules.
    pub fn checking(upstream_endpoint: &str, rules: RequestRules) -> FaultProxy {
        FaultProxy::launch(upstream_endpoint, 0.0, 1, Some(rules))
    }

    fn launch(upstream_endpoint: &str, rate: f64, seed: u64, rules: Option<RequestRules>) -> FaultProxy {
        let upstream =
            upstream_endpoint.rsplit(':').next().and_then(|p| p.parse().ok()).expect("an http://host:port endpoint");
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("address").port();
        let shared = Arc::new(Shared {
            upstream,
            rate_ppm: AtomicU64::new((rate * 1e6) as u64),
            rng: Mutex::new(seed.max(1)),
            requests: AtomicU64::new(0),
            injected: Mutex::new(Default::default()),
            stop: AtomicBool::new(false),
            idempotent: Mutex::new(Default::default()),
            rules,
            log: Mutex::new(Vec::new()),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    let s = s.clone();
                    std::thread::spawn(move || serve(conn, &s));
                }
            }
        });
        FaultProxy { port, shared }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn set_rate(&self, rate: f64) {
        self.shared.rate_ppm.store((rate * 1e6) as u64, Ordering::SeqCst);
    }

    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    pub fn injected(&self) -> std::collections::BTreeMap<Fault, u64> {
        self.shared.injected.lock().map(|m| m.clone()).unwrap_or_default()
    }

    pub fn injected_total(&self) -> u64 {
        self.injected().values().sum()
    }

    /// Every request seen so far (with request rules only).
    pub fn log(&self) -> Vec<Logged> {
        self.shared.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

impl Shared {
    /// A fault for this request, or none (xorshift: repeatable for a seed).
    fn draw(&self) -> Option<Fault> {
        let mut x = self.rng.lock().map(|g| *g).unwrap_or(1);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if let Ok(mut g) = self.rng.lock() {
            *g = x;
        }
        let rate = self.rate_ppm.load(Ordering::SeqCst);
        if x % 1_000_000 >= rate {
            return None;
        }
        let f = FAULTS[((x >> 32) % FAULTS.len() as u64) as usize];
        if let Ok(mut m) = self.injected.lock() {
            *m.entry(f).or_default() += 1;
        }
        Some(f)
    }
}

struct Request {
    head: Vec<String>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.iter().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn http(&self) -> HttpRequest {
        let mut first = self.head.first().map(|l| l.split(' ')).into_iter().flatten();
        HttpRequest {
            method: first.next().unwrap_or("").to_string(),
            target: first.next().unwrap_or("/").to_string(),
            headers: self
                .head
                .iter()
                .skip(1)
                .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string())))
                .collect(),
            body: self.body.clone(),
        }
    }

    /// The request again, asking the emulator to close the connection after answering.
    fn bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        for l in &self.head {
            if !l.to_ascii_lowercase().starts_with("connection:") {
                out.push_str(l);
                out.push_str("\r\n");
            }
        }
        out.push_str("Connection: close\r\n\r\n");
        let mut b = out.into_bytes();
        b.extend_from_slice(&self.body);
        b
    }
}

fn read_request(r: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let mut req = Request { head, body: Vec::new() };
    let len: usize = req.header("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    req.body = vec![0; len];
    r.read_exact(&mut req.body).ok()?;
    Some(req)
}

fn serve(conn: TcpStream, s: &Shared) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(60)));
    let _ = conn.set_write_timeout(Some(Duration::from_secs(60)));
    let Ok(mut out) = conn.try_clone() else { return };
    let mut reader = BufReader::new(conn);
    // One request per connection: every answer says Connection: close.
    let Some(req) = read_request(&mut reader) else { return };
    s.requests.fetch_add(1, Ordering::SeqCst);
    if let Some(rules) = &s.rules {
        let checked = rules.check(&req.http());
        let refused = checked.violations.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("; ");
        if let (Some(service), Some(operation), Ok(mut log)) = (checked.service, checked.operation, s.log.lock()) {
            log.push(Logged { service, operation, attempt: checked.attempt, violations: checked.violations });
        }
        if !refused.is_empty() {
            let message = format!("AWS would refuse this request (its published service model): {refused}");
            return answer(&mut out, &coded(&req, 400, "Bad Request", "ValidationError", &message));
        }
    }
    let fault = s.draw();
    match fault {
        Some(Fault::DroppedBefore) => return,
        Some(Fault::InternalErrorBefore) => return answer(&mut out, &error_response(&req, 500)),
        Some(Fault::UnavailableBefore) => return answer(&mut out, &error_response(&req, 503)),
        Some(Fault::ThrottledBefore) => return answer(&mut out, &throttle_response(&req)),
        _ => {}
    }
    let token = client_token(&req);
    let replay = token.as_ref().and_then(|t| s.idempotent.lock().ok().and_then(|m| m.get(t).cloned()));
    let upstream = match replay {
        Some(first_answer) => first_answer,
        None => {
            let Some(upstream) = forward(&req, s.upstream) else {
                return answer(&mut out, &error_response(&req, 502));
            };
            if let Some(t) = token
                && upstream.starts_with(b"HTTP/1.1 200")
                && let Ok(mut m) = s.idempotent.lock()
            {
                m.insert(t, upstream.clone());
            }
            upstream
        }
    };
    let upstream = as_aws_answers(&req, upstream);
    match fault {
        Some(Fault::DroppedAfter) => {}
        Some(Fault::InternalErrorAfter) => answer(&mut out, &error_response(&req, 500)),
        Some(Fault::UnavailableAfter) => answer(&mut out, &error_response(&req, 503)),
        _ => answer(&mut out, &upstream),
    }
}

/// Where the emulator's answer differs from AWS's in a way a client may rely
/// on, the answer made AWS's. ECS: moto returns `"networkConfiguration": {}`
/// for a service without awsvpc networking, where AWS returns none; the
/// Terraform AWS provider dereferences the missing awsvpcConfiguration of
/// an object that is there and crashes (service.go flattenNetworkConfiguration).
fn as_aws_answers(req: &Request, response: Vec<u8>) -> Vec<u8> {
    let ecs = req.header("x-amz-target").is_some_and(|t| t.starts_with("AmazonEC2ContainerServiceV20141113."));
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else { return response };
    if !ecs || !response[end..].windows(20).any(|w| w == b"networkConfiguration") {
        return response;
    }
    let Ok(mut body) = serde_json::from_slice::<serde_json::Value>(&response[end + 4..]) else { return response };
    fn drop_empty_network_configuration(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                if m.get("networkConfiguration").is_some_and(|n| n.as_object().is_some_and(|o| o.is_empty())) {
                    m.remove("networkConfiguration");
                }
                m.values_mut().for_each(drop_empty_network_configuration);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(drop_empty_network_configuration),
            _ => {}
        }
    }
    drop_empty_network_configuration(&mut body);
    let text = body.to_string();
    let fixed = [&response[..end], b"\r\n\r\n", text.as_bytes()].concat();
    with_header(&fixed, "Content-Length", &text.len().to_string())
}

/// `Action=RunInstances&...&ClientToken=abc` as one key, for EC2 query requests.
fn client_token(req: &Request) -> Option<String> {
    let body = String::from_utf8_lossy(&req.body);
    let param = |name: &str| body.split('&').find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=').map(String::from));
    Some(format!("{}/{}", param("Action")?, param("ClientToken")?))
}

fn forward(req: &Request, port: u16) -> Option<Vec<u8>> {
    let mut up = TcpStream::connect(("127.0.0.1", port)).ok()?;
    up.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    up.write_all(&req.bytes()).ok()?;
    let mut response = Vec::new();
    up.read_to_end(&mut response).ok()?;
    Some(with_connection_close(&response))
}

fn with_connection_close(response: &[u8]) -> Vec<u8> {
    with_header(response, "Connection", "close")
}

/// The HTTP response with header `name` set to `value` (any it had removed).
fn with_header(response: &[u8], name: &str, value: &str) -> Vec<u8> {
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return response.to_vec();
    };
    let head = String::from_utf8_lossy(&response[..end]);
    let prefix = format!("{}:", name.to_ascii_lowercase());
    let mut out = String::new();
    for l in head.split("\r\n").filter(|l| !l.to_ascii_lowercase().starts_with(&prefix)) {
        out.push_str(l);
        out.push_str("\r\n");
    }
    out.push_str(&format!("{name}: {value}\r\n\r\n"));
    let mut b = out.into_bytes();
    b.extend_from_slice(&response[end + 4..]);
    b
}

fn answer(out: &mut TcpStream, response: &[u8]) {
    let _ = out.write_all(response);
    let _ = out.flush();
}

enum Protocol {
    Json,
    Ec2,
    Query,
    RestXml,
}

fn protocol(req: &Request) -> Protocol {
    if req.header("x-amz-target").is_some() {
        Protocol::Json
    } else if req.body.starts_with(b"Action=") && req.body.windows(18).any(|w| w == b"Version=2016-11-15") {
        Protocol::Ec2
    } else if req.body.starts_with(b"Action=") {
        Protocol::Query
    } else {
        Protocol::RestXml
    }
}

fn http(status: u16, reason: &str, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut s = format!("HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (k, v) in headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("\r\n");
    s.push_str(body);
    s.into_bytes()
}

/// An error in the request's protocol, with AWS's code for that status.
fn error_response(req: &Request, status: u16) -> Vec<u8> {
    let (reason, code) = match status {
        503 => ("Service Unavailable", "ServiceUnavailable"),
        502 => ("Bad Gateway", "InternalFailure"),
        _ => ("Internal Server Error", "InternalError"),
    };
    coded(req, status, reason, code, "injected by the test's fault proxy")
}

fn throttle_response(req: &Request) -> Vec<u8> {
    match protocol(req) {
        Protocol::Ec2 => coded(req, 503, "Service Unavailable", "RequestLimitExceeded", "Request limit exceeded."),
        Protocol::RestXml => coded(req, 503, "Slow Down", "SlowDown", "Please reduce your request rate."),
        Protocol::Json => coded(req, 400, "Bad Request", "ThrottlingException", "Rate exceeded"),
        Protocol::Query => coded(req, 400, "Bad Request", "Throttling", "Rate exceeded"),
    }
}

fn coded(req: &Request, status: u16, reason: &str, code: &str, message: &str) -> Vec<u8> {
    let json_message = serde_json::Value::String(message.to_string()).to_string();
    let message = message.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    match protocol(req) {
        Protocol::Json => http(
            status,
            reason,
            &[("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)],
            &format!("{{\"__type\":\"{code}\",\"message\":{json_message}}}"),
        ),
        Protocol::Ec2 => http(
            status,
            reason,
            &[("Content-Type", "text/xml")],
            &format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>"
            ),
        ),
        Protocol::Query => http(
            status,
            reason,
            &[("Content-Type", "text/xml")],
            &format!(
                "<ErrorResponse><Error><Type>Receiver</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
            ),
        ),
        Protocol::RestXml => http(
            status,
            reason,
            &[("Content-Type", "application/xml")],
            &format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault-proxy</RequestId></Error>"
            ),
        ),
    }
}
