//! A loopback server that answers as GitHub's REST API does for issue
//! comments (docs.github.com/rest/issues/comments): list with `per_page`
//! and `page` and a `Link` header, create (201), update (200), 404 for an
//! unknown comment, 422 for an empty or over-long body, 401 without a token;
//! and, when asked, a rate-limit answer before the next request (403 with
//! `x-ratelimit-remaining: 0` and `x-ratelimit-reset`, or 429 with
//! `retry-after`). It records every request it served.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug)]
pub struct Comment {
    pub id: u64,
    pub issue: u64,
    pub user: String,
    pub body: String,
}

#[derive(Clone, Copy, Debug)]
pub enum Limit {
    /// 429 with Retry-After: 1.
    RetryAfter,
    /// 403, remaining 0, resetting in a second.
    Exhausted,
}

#[derive(Default)]
struct Data {
    comments: Vec<Comment>,
    next_id: u64,
    requests: Vec<String>,
    limit_next: Option<Limit>,
}

pub struct FakeGithub {
    pub url: String,
    data: Arc<Mutex<Data>>,
}

pub const TOKEN: &str = "ghs_test-token-never-printed";

impl FakeGithub {
    pub fn start() -> FakeGithub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
        let data = Arc::new(Mutex::new(Data { next_id: 1000, ..Data::default() }));
        let d = data.clone();
        let base = url.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let d = d.clone();
                let base = base.clone();
                std::thread::spawn(move || serve(conn, &d, &base));
            }
        });
        FakeGithub { url, data }
    }

    /// A comment by someone else (or by us, with `user` "github-actions[bot]").
    pub fn add(&self, issue: u64, user: &str, body: &str) -> u64 {
        let mut d = self.data.lock().expect("lock");
        d.next_id += 1;
        let id = d.next_id;
        d.comments.push(Comment { id, issue, user: user.into(), body: body.into() });
        id
    }

    pub fn comments(&self, issue: u64) -> Vec<Comment> {
        self.data.lock().expect("lock").comments.iter().filter(|c| c.issue == issue).cloned().collect()
    }

    pub fn requests(&self) -> Vec<String> {
        self.data.lock().expect("lock").requests.clone()
    }

    pub fn limit_next(&self, l: Limit) {
        self.data.lock().expect("lock").limit_next = Some(l);
    }
}

fn serve(conn: TcpStream, data: &Mutex<Data>, base: &str) {
    let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let Ok(mut out) = conn.try_clone() else { return };
    let mut r = BufReader::new(conn);
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end().to_string();
            if line.is_empty() {
                break;
            }
            head.push(line);
        }
        let header = |name: &str| {
            head.iter().skip(1).find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
        };
        let len: usize = header("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
        let mut body = vec![0; len];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let mut first = head.first().map(|l| l.split(' ')).into_iter().flatten();
        let (method, target) = (first.next().unwrap_or("").to_string(), first.next().unwrap_or("/").to_string());
        let authorized = header("authorization").as_deref() == Some(&format!("Bearer {TOKEN}"));
        let (status, extra, text) = answer(data, base, &method, &target, authorized, &body);
        let mut resp =
            format!("HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n", text.len());
        for (k, v) in extra {
            resp.push_str(&format!("{k}: {v}\r\n"));
        }
        resp.push_str("\r\n");
        resp.push_str(&text);
        if out.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

fn json(c: &Comment, base: &str) -> serde_json::Value {
    serde_json::json!({
        "id": c.id,
        "body": c.body,
        "user": { "login": c.user },
        "html_url": format!("{base}/pull/{}#issuecomment-{}", c.issue, c.id),
    })
}

fn answer(
    data: &Mutex<Data>,
    base: &str,
    method: &str,
    target: &str,
    authorized: bool,
    body: &[u8],
) -> (u16, Vec<(String, String)>, String) {
    let mut d = data.lock().expect("lock");
    d.requests.push(format!("{method} {target}"));
    if !authorized {
        return (401, vec![], r#"{"message":"Bad credentials"}"#.into());
    }
    if let Some(l) = d.limit_next.take() {
        return match l {
            Limit::RetryAfter => (
                429,
                vec![("retry-after".into(), "1".into())],
                r#"{"message":"You have exceeded a secondary rate limit."}"#.into(),
            ),
            Limit::Exhausted => {
                let reset = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|t| t.as_secs() + 1)
                    .unwrap_or(0);
                (
                    403,
                    vec![("x-ratelimit-remaining".into(), "0".into()), ("x-ratelimit-reset".into(), reset.to_string())],
                    r#"{"message":"API rate limit exceeded"}"#.into(),
                )
            }
        };
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let q =
        |k: &str| query.split('&').find_map(|p| p.strip_prefix(&format!("{k}="))).and_then(|v| v.parse::<usize>().ok());
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let posted =
        || serde_json::from_slice::<serde_json::Value>(body).ok().and_then(|v| v["body"].as_str().map(String::from));
    match (method, parts.as_slice()) {
        ("GET", ["repos", _, _, "issues", n, "comments"]) => {
            let issue: u64 = n.parse().unwrap_or(0);
            let per_page = q("per_page").unwrap_or(30).clamp(1, 100);
            let page = q("page").unwrap_or(1).max(1);
            let all: Vec<&Comment> = d.comments.iter().filter(|c| c.issue == issue).collect();
            let slice: Vec<serde_json::Value> =
                all.iter().skip((page - 1) * per_page).take(per_page).map(|c| json(c, base)).collect();
            let mut headers = vec![];
            if page * per_page < all.len() {
                let next = format!("{base}{path}?per_page={per_page}&page={}", page + 1);
                let last = all.len().div_ceil(per_page);
                headers.push((
                    "link".into(),
                    format!("<{next}>; rel=\"next\", <{base}{path}?per_page={per_page}&page={last}>; rel=\"last\""),
                ));
            }
            (200, headers, serde_json::Value::Array(slice).to_string())
        }
        ("POST", ["repos", _, _, "issues", n, "comments"]) => match posted() {
            Some(b) if !b.is_empty() && b.chars().count() <= 65_536 => {
                d.next_id += 1;
                let c = Comment { id: d.next_id, issue: n.parse().unwrap_or(0), user: "github-actions[bot]".into(), body: b };
                let j = json(&c, base).to_string();
                d.comments.push(c);
                (201, vec![], j)
            }
            _ => (422, vec![], r#"{"message":"Validation Failed","errors":[{"resource":"IssueComment","code":"custom","field":"body","message":"body is too long (maximum is 65536 characters)"}]}"#.into()),
        },
        ("PATCH", ["repos", _, _, "issues", "comments", id]) => {
            let id: u64 = id.parse().unwrap_or(0);
            let Some(b) = posted().filter(|b| !b.is_empty() && b.chars().count() <= 65_536) else {
                return (422, vec![], r#"{"message":"Validation Failed"}"#.into());
            };
            match d.comments.iter_mut().find(|c| c.id == id) {
                Some(c) => {
                    c.body = b;
                    (200, vec![], json(c, base).to_string())
                }
                None => (404, vec![], r#"{"message":"Not Found"}"#.into()),
            }
        }
        _ => (404, vec![], r#"{"message":"Not Found"}"#.into()),
    }
}
