//! GitHub's REST API for issue comments (a pull request is an issue), as
//! `ecspoc comment` needs it: list a pull request's comments page by page,
//! then update the one that carries our marker or create it. Rate-limit
//! answers (403/429 with Retry-After or X-RateLimit-Reset) are waited out;
//! 5xx answers are retried; anything else is an error that says what GitHub
//! answered. The token is sent only as a header and never printed.

use std::time::Duration;

/// What GitHub Actions sets: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL.
pub struct Github {
    api: String,
    repo: String,
    token: String,
    dry_run: bool,
    agent: ureq::Agent,
    /// The longest single wait for a rate limit before giving up.
    max_wait: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error("{0} is not set (GitHub Actions sets it; elsewhere set it by hand)")]
    Missing(&'static str),
    #[error("GITHUB_REPOSITORY must be OWNER/NAME, not {0:?}")]
    Repository(String),
    #[error("GitHub: {method} {path}: {status} {message}")]
    Answer { method: &'static str, path: String, status: u16, message: String },
    #[error("GitHub: {method} {path}: rate limited, and the limit resets in {wait} s (more than {max} s)")]
    RateLimited { method: &'static str, path: String, wait: u64, max: u64 },
    #[error("GitHub: {method} {path}: {reason}")]
    Transport { method: &'static str, path: String, reason: String },
}

/// What `upsert_comment` did.
pub enum Upserted {
    Created {
        url: String,
    },
    Updated {
        url: String,
    },
    /// `--dry-run`: the request it would have sent.
    WouldSend(String),
}

impl std::fmt::Display for Upserted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Upserted::Created { url } => write!(f, "Created the plan comment: {url}"),
            Upserted::Updated { url } => write!(f, "Updated the plan comment: {url}"),
            Upserted::WouldSend(what) => write!(f, "{what}"),
        }
    }
}

struct Answer {
    status: u16,
    body: String,
    next: Option<String>,
}

impl Github {
    pub fn from_env(dry_run: bool) -> Result<Github, GithubError> {
        let var = |k: &'static str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let repo = var("GITHUB_REPOSITORY").ok_or(GithubError::Missing("GITHUB_REPOSITORY"))?;
        if repo.split('/').count() != 2 || repo.split('/').any(str::is_empty) {
            return Err(GithubError::Repository(repo));
        }
        let token = match var("GITHUB_TOKEN") {
            Some(t) => t,
            None if dry_run => String::new(),
            None => return Err(GithubError::Missing("GITHUB_TOKEN")),
        };
        let api = var("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into());
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .user_agent("ecspoc")
            .build()
            .into();
        Ok(Github {
            api: api.trim_end_matches('/').to_string(),
            repo,
            token,
            dry_run,
            agent,
            max_wait: Duration::from_secs(var("ECSPOC_GITHUB_MAX_WAIT").and_then(|s| s.parse().ok()).unwrap_or(300)),
        })
    }

    /// Update the comment of `pr` that holds `marker`, or create one.
    /// Comments without the marker (everyone else's) are never touched.
    pub fn upsert_comment(&self, pr: u64, marker: &str, body: &str) -> Result<Upserted, GithubError> {
        let list = format!("/repos/{}/issues/{pr}/comments?per_page=100", self.repo);
        let mut existing = None;
        let mut next = Some(format!("{}{list}", self.api));
        while let Some(url) = next.take() {
            if self.dry_run && self.token.is_empty() {
                break;
            }
            let answer = self.send("GET", &url, None)?;
            let comments: serde_json::Value = serde_json::from_str(&answer.body).map_err(|e| GithubError::Answer {
                method: "GET",
                path: self.path(&url),
                status: answer.status,
                message: format!("not a list of comments: {e}"),
            })?;
            existing = comments.as_array().into_iter().flatten().find_map(|c| {
                let ours = c["body"].as_str().is_some_and(|b| b.contains(marker));
                ours.then(|| c["id"].as_u64()).flatten()
            });
            if existing.is_some() {
                break;
            }
            next = answer.next;
        }
        let payload = serde_json::json!({ "body": body }).to_string();
        let (method, url) = match existing {
            Some(id) => ("PATCH", format!("{}/repos/{}/issues/comments/{id}", self.api, self.repo)),
            None => ("POST", format!("{}/repos/{}/issues/{pr}/comments", self.api, self.repo)),
        };
        if self.dry_run {
            return Ok(Upserted::WouldSend(format!("{method} {url}\n\n{body}")));
        }
        let answer = self.send(method, &url, Some(&payload))?;
        let made: serde_json::Value = serde_json::from_str(&answer.body).unwrap_or_default();
        let link = made["html_url"].as_str().unwrap_or(&url).to_string();
        Ok(if existing.is_some() { Upserted::Updated { url: link } } else { Upserted::Created { url: link } })
    }

    fn path(&self, url: &str) -> String {
        url.strip_prefix(&self.api).unwrap_or(url).to_string()
    }

    /// One request, retried through rate limits and 5xx answers.
    fn send(&self, method: &'static str, url: &str, body: Option<&str>) -> Result<Answer, GithubError> {
        let path = self.path(url);
        let mut server_errors = 0;
        loop {
            let request = ureq::http::Request::builder()
                .method(method)
                .uri(url)
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28")
                .header("Authorization", format!("Bearer {}", self.token))
                .header("Content-Type", "application/json")
                .body(body.unwrap_or("").to_string())
                .map_err(|e| GithubError::Transport { method, path: path.clone(), reason: e.to_string() })?;
            let mut response = self.agent.run(request).map_err(|e| GithubError::Transport {
                method,
                path: path.clone(),
                reason: e.to_string(),
            })?;
            let status = response.status().as_u16();
            let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(String::from);
            let (retry_after, remaining, reset, link) =
                (header("retry-after"), header("x-ratelimit-remaining"), header("x-ratelimit-reset"), header("link"));
            let text = response.body_mut().read_to_string().unwrap_or_default();
            if (200..300).contains(&status) {
                return Ok(Answer { status, body: text, next: link.as_deref().and_then(next_link) });
            }
            // GitHub's rate limits: Retry-After (secondary limits), else the reset time.
            let wait = match (status, retry_after, remaining.as_deref(), reset) {
                (403 | 429, Some(s), _, _) => s.trim().parse::<u64>().ok(),
                (403 | 429, None, Some("0"), Some(r)) => r.trim().parse::<u64>().ok().map(|reset| {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0);
                    reset.saturating_sub(now) + 1
                }),
                (429, None, _, _) => Some(60),
                _ => None,
            };
            if let Some(wait) = wait {
                if wait > self.max_wait.as_secs() {
                    return Err(GithubError::RateLimited { method, path, wait, max: self.max_wait.as_secs() });
                }
                std::thread::sleep(Duration::from_secs(wait));
                continue;
            }
            if status >= 500 && server_errors < 3 {
                server_errors += 1;
                std::thread::sleep(Duration::from_millis(500 << server_errors));
                continue;
            }
            return Err(GithubError::Answer { method, path, status, message: github_message(&text) });
        }
    }
}

/// GitHub's error text: `message`, and for 422 the `errors` it lists.
fn github_message(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else {
        return body.chars().take(200).collect();
    };
    let mut m = v["message"].as_str().unwrap_or("").to_string();
    for e in v["errors"].as_array().into_iter().flatten() {
        let detail = e["message"].as_str().or(e["code"].as_str()).unwrap_or("");
        m.push_str(&format!("; {} {}", e["field"].as_str().unwrap_or(""), detail));
    }
    m
}

/// The `rel="next"` URL of a Link header.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, rel) = part.split_once(';')?;
        rel.contains("rel=\"next\"").then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_is_read_from_the_link_header() {
        let link = r#"<https://api.github.com/repositories/1/issues/2/comments?page=3>; rel="next", <https://api.github.com/repositories/1/issues/2/comments?page=9>; rel="last""#;
        assert_eq!(next_link(link).as_deref(), Some("https://api.github.com/repositories/1/issues/2/comments?page=3"));
        assert_eq!(next_link(r#"<https://x/?page=1>; rel="prev""#), None);
    }

    #[test]
    fn validation_failures_say_which_field() {
        let body = r#"{"message":"Validation Failed","errors":[{"resource":"IssueComment","code":"custom","field":"body","message":"body is too long (maximum is 65536 characters)"}]}"#;
        assert_eq!(github_message(body), "Validation Failed; body body is too long (maximum is 65536 characters)");
    }
}
