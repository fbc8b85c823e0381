//! Every answer the tests' in-process servers give and every log line, searched as they
//! pass for what must never leave the server: tokens Procore (a test simulator) issued, the
//! apps' client secrets, the encryption key, the administrator's password, password hashes
//! and API tokens (outside the one answer that shows a new one). A find turns that answer
//! into a 500 naming it, so the test running fails there, and [`super::run`] fails at the
//! end; `secrets.rs` follows one data source's life more closely.

use std::io::Write;
use std::sync::Mutex;

use app::server::config::SIMULATOR_PATH;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ADMIN_PASSWORD, SECRET_KEY};

/// What was found so far in this process, each with where.
static FOUND: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Secrets every test server knows, by what they are.
const FIXED: [(&str, &str); 5] = [
    ("the production client secret", "production-secret"),
    ("the sandbox client secret", "sandbox-secret"),
    ("the encryption key", SECRET_KEY),
    ("the administrator's password", ADMIN_PASSWORD),
    ("a password hash", "$argon2id$"),
];

/// The length of a token the simulator issues: 32 random bytes in URL-safe base64.
pub const TOKEN_LEN: usize = 43;

/// Where API tokens start (the rest is a token's length).
pub const API_TOKEN: &str = "trestle_pat_";

fn url_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// What `text` gives away, if anything.
pub fn secrets_in(text: &str, may_show_api_token: bool) -> Vec<&'static str> {
    let mut found: Vec<&'static str> = FIXED
        .iter()
        .filter(|(_, secret)| text.contains(secret))
        .map(|(what, _)| *what)
        .collect();
    let issued = text
        .split(|c: char| !url_safe(c))
        .filter(|run| run.len() == TOKEN_LEN)
        .any(procore_sim::testing::issued_by_any);
    if issued {
        found.push("a token Procore issued");
    }
    let api_token = text.match_indices(API_TOKEN).any(|(at, _)| {
        let rest = &text[at + API_TOKEN.len()..];
        rest.chars().take_while(|c| url_safe(*c)).count() >= TOKEN_LEN
    });
    if api_token && !may_show_api_token {
        found.push("an API token");
    }
    found
}

fn note(place: &str, text: &str, may_show_api_token: bool) {
    let found = secrets_in(text, may_show_api_token);
    if !found.is_empty() {
        FOUND
            .lock()
            .unwrap()
            .push(format!("{} in {place}", found.join(", ")));
    }
}

/// Everything found so far, one line each.
fn found() -> Option<String> {
    let found = FOUND.lock().unwrap();
    (!found.is_empty()).then(|| found.join("\n"))
}

/// Fails if anything was found in this process so far.
pub fn assert_none_found() {
    if let Some(found) = found() {
        panic!("secrets left the server:\n{found}");
    }
}

/// Middleware for the tests' servers: reads each answer whole and searches it.
pub async fn watch(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    // The built-in simulator is Procore: it hands out its own tokens.
    if path.starts_with(SIMULATOR_PATH) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the answer could not be read",
        )
            .into_response();
    };
    let headers = format!("{:?}", parts.headers);
    let body = String::from_utf8_lossy(&bytes);
    let place = format!("the answer to {path}");
    note(&place, &headers, false);
    note(&place, &body, path == "/api/create_api_token");
    match found() {
        Some(found) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("secrets left the server:\n{found}"),
        )
            .into_response(),
        None => Response::from_parts(parts, Body::from(bytes)),
    }
}

/// A log writer for the tests: prints as the test harness captures, and searches each line.
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let line = String::from_utf8_lossy(bytes);
        // The simulator stands in for Procore, which knows its own tokens.
        if !line.contains("procore_sim") {
            note("a log line", &line, false);
        }
        print!("{line}");
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
