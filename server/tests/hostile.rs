//! Hostile input against the real server (issue 10): huge strings, control characters,
//! unicode and HTML in every name a person can type; ids that are negative, overflowing,
//! not numbers, path traversals or SurrealQL; forged, replayed, expired and stolen OAuth
//! `state`; cross-origin writes; session fixation; sign-in brute force; oversized bodies.
//! Whatever comes in, the answer is a success or a 4xx that says what was wrong — never a
//! 5xx, never a dropped connection (a panic), never someone else's data — and whatever is
//! saved comes back escaped in the pages that show it.
//!
//! Property tests share one server per test: each case is a few HTTP calls on it.

mod common;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use app::server::AppState;
use common::*;
use procore_sim::data::SANDBOX_PROJECT_ID;
use procore_sim::testing::{TestSim, roomy};
use proptest::prelude::*;
use proptest::test_runner::{Config as Cases, TestCaseError, TestRunner};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---------------------------------------------------------------------------------------
// Running property tests against a server

/// A multi-threaded runtime whose workers keep serving between the cases the test thread
/// drives with `block_on` (the same settings and server log as [`common::run`]).
fn runtime() -> tokio::runtime::Runtime {
    log_to_test_output("warn");
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(10 << 20)
        .build()
        .unwrap()
}

fn cases(n: u32) -> Cases {
    Cases {
        cases: n,
        // Nothing written next to the sources; a failure prints its input.
        failure_persistence: None,
        max_shrink_iters: 32,
        // Shrinking a case that times out repeats the timeout: bound it.
        max_shrink_time: 120_000,
        ..Cases::default()
    }
}

/// Runs `n` generated cases of `strategy` through `case`, each on the runtime.
fn check_all<S, F, Fut>(runtime: &tokio::runtime::Runtime, n: u32, strategy: S, case: F)
where
    S: Strategy,
    S::Value: Clone,
    F: Fn(S::Value) -> Fut,
    Fut: Future<Output = Result<(), TestCaseError>>,
{
    TestRunner::new(cases(n))
        .run(&strategy, |value| runtime.block_on(case(value)))
        .unwrap_or_else(|e| panic!("{e}"));
}

fn fail(message: impl Into<String>) -> TestCaseError {
    TestCaseError::fail(message.into())
}

/// Counts what happened, for the summary line each test prints.
#[derive(Default)]
struct Tally(Mutex<BTreeMap<String, usize>>);

impl Tally {
    fn add(&self, what: impl Into<String>) {
        *self.0.lock().unwrap().entry(what.into()).or_default() += 1;
    }

    fn summary(&self) -> String {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(k, n)| format!("{k} ×{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// An answer read whole.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends a request and reads the answer; no answer at all (the server dropped the
/// connection, as a panicking handler does) or none within [`ANSWER_WITHIN`] fails the case.
async fn reply(what: &str, request: reqwest::RequestBuilder) -> Result<Reply, TestCaseError> {
    // What has come so far, to show where an answer that never ends stopped.
    let body = Mutex::new(Vec::new());
    let exchange = async {
        let mut response = request
            .send()
            .await
            .map_err(|e| fail(format!("{what}: no answer (did the server panic?): {e}")))?;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| fail(format!("{what}: the answer was cut off: {e}")))?
        {
            body.lock().unwrap().extend_from_slice(&chunk);
        }
        Ok((response.status(), response.headers().clone()))
    };
    let outcome = tokio::time::timeout(ANSWER_WITHIN, exchange).await;
    let body = String::from_utf8_lossy(&body.into_inner().unwrap()).into_owned();
    match outcome {
        Ok(head) => head.map(|(status, headers)| Reply {
            status,
            headers,
            body,
        }),
        Err(_) => Err(fail(format!(
            "{what}: no whole answer within {ANSWER_WITHIN:?}; {} bytes came, ending: {}",
            body.len(),
            body.chars()
                .rev()
                .take(600)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<String>()
        ))),
    }
}

/// Every answer comes within [`ANSWER_WITHIN`]: a request the server never answers fails
/// its case, naming it, instead of hanging the test run (as a page once did, when another
/// server's router was built beside it).
async fn answered<T>(
    what: &str,
    exchange: impl Future<Output = Result<T, TestCaseError>>,
) -> Result<T, TestCaseError> {
    tokio::time::timeout(ANSWER_WITHIN, exchange)
        .await
        .unwrap_or_else(|_| Err(fail(format!("{what}: no answer within {ANSWER_WITHIN:?}"))))
}

/// Far above any answer's time here (the slowest, a 1 MiB body in a debug build, takes
/// well under a second), far below CI's patience.
const ANSWER_WITHIN: Duration = Duration::from_secs(30);

fn short(text: &str) -> String {
    let cut: String = text.chars().take(300).collect();
    if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

/// A success, or a 4xx that says something; never a 5xx.
fn clean(what: &str, reply: &Reply) -> Result<(), TestCaseError> {
    prop_assert!(
        !reply.status.is_server_error(),
        "{what}: {} {}",
        reply.status,
        short(&reply.body)
    );
    if reply.status.is_client_error() {
        prop_assert!(
            !reply.body.trim().is_empty(),
            "{what}: {} without a message",
            reply.status
        );
    }
    Ok(())
}

/// Like [`clean`], and never a success: for what must be refused.
fn refused(what: &str, reply: &Reply) -> Result<(), TestCaseError> {
    clean(what, reply)?;
    prop_assert!(
        reply.status.is_client_error(),
        "{what}: should be refused, got {} {}",
        reply.status,
        short(&reply.body)
    );
    Ok(())
}

async fn call(
    server: &Server,
    client: &reqwest::Client,
    name: &str,
    body: &Value,
) -> Result<Reply, TestCaseError> {
    let request = client.post(server.url(&format!("/api/{name}"))).json(body);
    // Over the server's body limit (1 MiB), the server answers 413 and closes the
    // connection, possibly before the client has finished sending: then the client only
    // sees the connection go. Either way the body was refused unread.
    if serde_json::to_vec(body).map_or(0, |b| b.len()) > 1 << 20 {
        return answered(name, async {
            match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    prop_assert_eq!(status.as_u16(), 413, "{}: an oversized body", name);
                    Ok(Reply {
                        status,
                        headers: response.headers().clone(),
                        body: response.text().await.unwrap_or_default(),
                    })
                }
                Err(_) => Ok(Reply {
                    status: reqwest::StatusCode::PAYLOAD_TOO_LARGE,
                    headers: Default::default(),
                    body: "refused before it was read".into(),
                }),
            }
        })
        .await;
    }
    reply(name, request).await
}

async fn signed_in_admin(server: &Server) -> reqwest::Client {
    let admin = server.client();
    let r = server.sign_in(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert!(r.status().is_success() || r.status().is_redirection());
    admin
}

/// Every byte that is not a letter or digit percent-encoded, for a path segment or query.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Hostile values

const DANGEROUS: [&str; 4] = [
    "<script>alert(1)</script>",
    "</title><script>alert(2)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
];

/// Text as an attacker (or a careless paste) would type it: HTML and script, control
/// characters and NUL, right-to-left marks, emoji, SurrealQL, and now and then ~200 KB.
fn hostile_text() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        3 => "[a-zA-Z0-9 ]{0,12}",
        2 => prop::sample::select(DANGEROUS.to_vec()).prop_map(str::to_string),
        1 => Just("\"'><b>&amp;&lt;".to_string()),
        1 => "[\\x00-\\x1f\\x7f]{1,4}",
        1 => Just("\u{0}".to_string()),
        1 => Just("\u{202e}\u{200f}\u{200b}\u{feff}".to_string()),
        1 => "[\u{1F300}-\u{1F6FF}]{1,6}",
        1 => "[\u{0590}-\u{05FF}\u{0600}-\u{06FF}]{1,10}",
        1 => Just("user:admin".to_string()),
        1 => Just("1; DELETE user; --".to_string()),
        1 => Just("$session ⟨x⟩ `y` {a: 1}".to_string()),
        1 => Just("../../etc/passwd".to_string()),
        2 => "\\PC{0,20}",
    ];
    prop_oneof![
        9 => prop::collection::vec(fragment, 1..5).prop_map(|parts| parts.concat()),
        1 => (
            1usize..200_000,
            prop::sample::select(vec!["A", "é", "😀", "<", "\u{0}", "\u{202e}", "<script>"]),
        )
            .prop_map(|(bytes, unit)| unit.repeat((bytes / unit.len()).max(1))),
    ]
}

/// Ids no record has: negative, overflowing, not numbers, traversals, SurrealQL, huge.
fn hostile_id() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "-1",
        "0",
        "-0",
        "99999999999999999999",
        "18446744073709551616",
        "18446744073709551615",
        "1e3",
        "0x10",
        "../../etc/passwd",
        "..%2F..%2Fadmin",
        "user:admin",
        "data_source:abc",
        "user:⟨admin⟩",
        "1; DELETE user; --",
        "abc OR 1=1",
        "$id",
        "*",
        "",
        " ",
        "abc\u{0}",
        "<script>alert(1)</script>",
        "ÄÖÜ",
        "🙂",
    ])
    .prop_map(str::to_string);
    prop_oneof![
        6 => fixed,
        1 => (65usize..20_000).prop_map(|n| "a".repeat(n)),
        2 => "\\PC{1,30}",
        1 => any::<i64>().prop_map(|n| n.to_string()),
    ]
}

/// The page a saved value shows on must not carry its HTML as HTML.
fn shows_escaped(what: &str, page: &Reply, saved: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        page.status,
        StatusCode::OK,
        "{}: {}",
        what,
        short(&page.body)
    );
    for fragment in DANGEROUS {
        if saved.contains(fragment) {
            if let Some(at) = page.body.find(fragment) {
                let from = page.body.floor_char_boundary(at.saturating_sub(200));
                let to = page.body.ceil_char_boundary(at + fragment.len() + 100);
                return Err(fail(format!(
                    "{what}: the page carries {fragment} unescaped: …{}…",
                    &page.body[from..to]
                )));
            }
            // ...and it is on the page, as text.
            let payload = &fragment[fragment.find("alert").unwrap_or(0)..];
            let payload = &payload[..payload.find(')').map_or(payload.len(), |i| i + 1)];
            prop_assert!(
                page.body.contains(payload),
                "{what}: the saved text is not on the page at all"
            );
        }
    }
    Ok(())
}

async fn page(
    server: &Server,
    client: &reqwest::Client,
    path: &str,
) -> Result<Reply, TestCaseError> {
    reply(
        path,
        client.get(server.url(path)).header("accept", "text/html"),
    )
    .await
}

// ---------------------------------------------------------------------------------------
// A server whose store the test can reach (to plant an expired OAuth state)

async fn trestle_with_state(sim: &TestSim) -> (Server, AppState) {
    Server::start_with_state(&procore_env(sim)).await
}

/// The simulator, Trestle on it and its administrator signed in.
async fn with_procore() -> (TestSim, Server, reqwest::Client) {
    let sim = TestSim::start(roomy()).await;
    let server = trestle(&sim).await;
    let admin = signed_in_admin(&server).await;
    (sim, server, admin)
}

async fn new_token(server: &Server, client: &reqwest::Client) -> String {
    let created: Value = server
        .call(client, "create_api_token", json!({ "name": "hostile" }))
        .await
        .json()
        .await
        .unwrap();
    created["secret"].as_str().unwrap().to_string()
}

// ---------------------------------------------------------------------------------------
// Server functions: hostile text

/// Names, e-mails, descriptions, form names, field labels and options, and sign-in
/// credentials full of hostile text: refused with a 4xx that says why, or saved — and then
/// shown escaped on the page that lists it.
#[test]
fn hostile_text_in_server_functions_is_refused_or_shown_escaped() {
    let runtime = runtime();
    let server = runtime.block_on(Server::start());
    let admin = runtime.block_on(signed_in_admin(&server));
    let tally = Tally::default();
    let started = Instant::now();
    let round = std::sync::atomic::AtomicUsize::new(0);
    let (server, admin, t, round) = (&server, &admin, &tally, &round);
    check_all(&runtime, 40, hostile_text(), |text| async move {
        let escaped_on = |path: &'static str, reply: &Reply| {
            let saved = reply.status.is_success() && DANGEROUS.iter().any(|d| text.contains(d));
            saved.then_some(path)
        };
        let mut pages = Vec::new();

        let r = call(
            server,
            admin,
            "save_data_source",
            &json!({ "id": null, "draft": {
            "name": text, "company_id": "", "environment": "live",
            "cloud_connect": false, "connector": null } }),
        )
        .await?;
        clean("save_data_source name", &r)?;
        t.add(format!("save_data_source {}", r.status.as_u16()));
        if r.status.is_success() {
            let name = r.json()["data_source"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            prop_assert!(
                !name.chars().any(char::is_control),
                "saved a control character"
            );
            prop_assert!(
                name.chars().count() <= 100,
                "saved {} characters",
                name.chars().count()
            );
        }
        pages.extend(escaped_on("/data-sources", &r));

        let n = round.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        for email in [
            text.clone(),
            format!("x{}@example.com", text.trim()),
            format!("person{n}@example.com"),
        ] {
            let r = call(
                server,
                admin,
                "create_user",
                &json!({ "draft": {
                "email": email, "name": text, "roles": ["user"] } }),
            )
            .await?;
            clean("create_user", &r)?;
            t.add(format!("create_user {}", r.status.as_u16()));
            pages.extend(escaped_on("/admin/users", &r));
        }

        let r = call(
            server,
            admin,
            "save_group",
            &json!({ "id": null, "draft": {
            "name": text, "description": text, "member_ids": [] } }),
        )
        .await?;
        clean("save_group", &r)?;
        t.add(format!("save_group {}", r.status.as_u16()));
        pages.extend(escaped_on("/admin/groups", &r));

        let r = call(server, admin, "save_form", &json!({ "id": null, "draft": {
            "name": text, "rules": [], "fields": [{
                "id": "f1", "label": text, "kind": "list", "required": false,
                "format": "dropdown",
                "list": { "kind": "manual", "options": [{ "value": text, "display": text }] } }] } }))
        .await?;
        clean("save_form", &r)?;
        t.add(format!("save_form {}", r.status.as_u16()));
        pages.extend(escaped_on("/forms", &r));
        let saved = r.json();
        if let Some(id) = saved["id"]
            .as_str()
            .filter(|_| escaped_on("", &r).is_some())
        {
            let fill = page(server, admin, &format!("/forms/{id}/fill")).await?;
            shows_escaped("the form's fill page", &fill, &text)?;
            t.add("checked escaped on /forms/{id}/fill");
        }

        // Sign-in: anonymous, no cookie.
        let anonymous = server.client();
        let r = reply(
            "sign_in",
            anonymous
                .post(server.url("/api/sign_in"))
                .form(&[("email", text.as_str()), ("password", text.as_str())]),
        )
        .await?;
        clean("sign_in", &r)?;
        prop_assert!(
            r.status.is_client_error(),
            "signed in with {}: {}",
            short(&text),
            r.status
        );
        prop_assert!(
            r.header("set-cookie").is_none(),
            "a session for a refused sign-in"
        );
        t.add(format!("sign_in {}", r.status.as_u16()));

        for path in pages {
            let shown = page(server, admin, path).await?;
            shows_escaped(path, &shown, &text)?;
            t.add(format!("checked escaped on {path}"));
        }
        Ok(())
    });
    println!(
        "hostile text (HTML/script, control chars, NUL, RTL, emoji, SurrealQL, up to ~200 KB) \
         in 40 rounds of save_data_source, create_user ×3, save_group, save_form, sign_in: \
         no 5xx, nothing with control characters saved, saved HTML escaped on its page \
         ({:.1?}); statuses: {}",
        started.elapsed(),
        tally.summary()
    );
    runtime.shutdown_timeout(Duration::from_secs(2));
}

/// Bodies that are not what the function takes: cut JSON, the wrong shapes and types,
/// bytes that are not UTF-8, missing arguments. The caller's mistake: a 4xx, not a 500.
#[test]
fn malformed_requests_to_server_functions_are_the_callers_mistake() {
    let runtime = runtime();
    let server = runtime.block_on(Server::start());
    let admin = runtime.block_on(signed_in_admin(&server));
    let json_bodies: Vec<(&str, Vec<u8>)> = vec![
        ("save_data_source", br#"{"id": null, "draft": "#.to_vec()),
        ("save_data_source", b"[]".to_vec()),
        ("save_data_source", b"\"x\"".to_vec()),
        ("save_data_source", b"null".to_vec()),
        ("save_data_source", b"{}".to_vec()),
        ("save_data_source", br#"{"id": null, "draft": {"name": 5}}"#.to_vec()),
        (
            "save_data_source",
            br#"{"id": 99999999999999999999, "draft": {"name": "x", "company_id": "",
                "environment": "live", "cloud_connect": false, "connector": null}}"#
                .to_vec(),
        ),
        (
            "save_data_source",
            br#"{"id": null, "draft": {"name": "x", "company_id": "", "environment": "mars",
                "cloud_connect": false, "connector": null}}"#
                .to_vec(),
        ),
        ("save_data_source", b"\xff\xfe\x00garbage".to_vec()),
        ("save_data_source", b"[".repeat(10_000)),
        ("create_user", br#"{"draft": {"email": "a@b.c", "name": "A", "roles": ["root"]}}"#.to_vec()),
        ("create_user", br#"{"draft": {"email": "a@b.c", "name": "A", "roles": "administrator"}}"#.to_vec()),
        ("get_data_source", br#"{"id": -1}"#.to_vec()),
        ("get_form", br#"{"id": {"$ne": null}}"#.to_vec()),
        ("form_options", br#"{"form": "a", "field": "b", "request": {"values": [], "search": null, "page": -1}}"#.to_vec()),
        ("form_options", br#"{"form": "a", "field": "b", "request": {"values": [], "search": null, "page": 18446744073709551616}}"#.to_vec()),
    ];
    let tally = Tally::default();
    let (server_ref, admin_ref) = (&server, &admin);
    runtime.block_on(async {
        for (name, body) in &json_bodies {
            let what = format!("{name} with {}", short(&String::from_utf8_lossy(body)));
            let r = reply(
                &what,
                admin_ref
                    .post(server_ref.url(&format!("/api/{name}")))
                    .header("content-type", "application/json")
                    .body(body.clone()),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            refused(&what, &r).unwrap_or_else(|e| panic!("{e}"));
            tally.add(r.status.as_u16().to_string());
        }
        // The form-encoded sign-in: a missing field, bytes that are not a form, JSON.
        for (what, content_type, body) in [
            (
                "sign_in without a password",
                "application/x-www-form-urlencoded",
                b"email=a%40b.c".to_vec(),
            ),
            (
                "sign_in with bytes",
                "application/x-www-form-urlencoded",
                b"\xff\xfe%%%=&&=".to_vec(),
            ),
            (
                "sign_in with JSON",
                "application/json",
                br#"{"email": "a@b.c", "password": "x"}"#.to_vec(),
            ),
        ] {
            let r = reply(
                what,
                server_ref
                    .client()
                    .post(server_ref.url("/api/sign_in"))
                    .header("content-type", content_type)
                    .body(body),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            refused(what, &r).unwrap_or_else(|e| panic!("{e}"));
            tally.add(r.status.as_u16().to_string());
        }
    });
    println!(
        "malformed server function bodies: {} requests (cut JSON, wrong shapes and types, \
         overflowing numbers, non-UTF-8, 10,000-deep nesting, missing arguments) all refused \
         with a 4xx and a message; statuses: {}",
        json_bodies.len() + 3,
        tally.summary()
    );
    runtime.shutdown_timeout(Duration::from_secs(2));
}

// ---------------------------------------------------------------------------------------
// Server functions: hostile ids

/// Every server function that takes an id, with ids no record has: refused with a 4xx,
/// never a 5xx, and nothing of anyone's changes. Then someone without the rights asks for
/// real ids and gets nothing of them.
#[test]
fn hostile_ids_reach_no_record() {
    let runtime = runtime();
    let server = runtime.block_on(Server::start());
    let admin = runtime.block_on(signed_in_admin(&server));
    let (source, form, group, submission, user_client) = runtime.block_on(async {
        let source = create(&server, &admin, "Mine", "").await;
        let form: Value = server
            .call(&admin, "save_form", json!({ "id": null, "draft": { "name": "Private form",
                "rules": [], "fields": [{ "id": "f1", "label": "Secret answer", "kind": "text",
                "required": false, "format": "dropdown", "list": null }] } }))
            .await
            .json()
            .await
            .unwrap();
        let form = form["id"].as_str().unwrap().to_string();
        let group: Value = server
            .call(&admin, "save_group", json!({ "id": null, "draft": {
                "name": "Mine group", "description": "", "member_ids": [] } }))
            .await
            .json()
            .await
            .unwrap();
        let submitted: Value = server
            .call(&admin, "submit_form", json!({ "form": form, "answers": [
                { "field": "f1", "value": "the admin's secret", "display": "the admin's secret" }] }))
            .await
            .json()
            .await
            .unwrap();
        let (user_client, _) = server.person(&admin, "uma@example.com", &["user"]).await;
        (
            source,
            form,
            group["id"].as_str().unwrap().to_string(),
            submitted["id"].as_str().unwrap().to_string(),
            user_client,
        )
    });
    let tally = Tally::default();
    let started = Instant::now();
    let (s, a, t, src) = (&server, &admin, &tally, source.as_str());
    check_all(&runtime, 48, hostile_id(), |id| async move {
        let draft = json!({ "name": "Renamed", "company_id": "", "environment": "live",
            "cloud_connect": false, "connector": null });
        let user = json!({ "email": "x@example.com", "name": "X", "roles": ["user"] });
        let form_draft = json!({ "name": "F", "rules": [], "fields": [] });
        let calls = [
            ("get_data_source", json!({ "id": id })),
            ("save_data_source", json!({ "id": id, "draft": draft })),
            ("delete_data_source", json!({ "id": id })),
            ("test_connection_step", json!({ "id": id, "step": "token" })),
            ("call_log", json!({ "id": id })),
            ("data_source_history", json!({ "id": id })),
            (
                "save_security",
                json!({ "id": id, "security": { "admins": [], "users": [] } }),
            ),
            ("get_form", json!({ "id": id })),
            ("delete_form", json!({ "id": id })),
            ("save_form", json!({ "id": id, "draft": form_draft })),
            (
                "form_options",
                json!({ "form": id, "field": "f1",
                "request": { "values": [], "search": null, "page": 1 } }),
            ),
            ("form_submissions", json!({ "form": id })),
            ("submit_form", json!({ "form": id, "answers": [] })),
            ("retry_submission", json!({ "id": id })),
            ("update_user", json!({ "id": id, "draft": user })),
            ("set_user_active", json!({ "id": id, "active": false })),
            ("reset_password", json!({ "id": id })),
            ("delete_group", json!({ "id": id })),
            (
                "save_group",
                json!({ "id": id, "draft": {
                "name": "G", "description": "", "member_ids": [id] } }),
            ),
        ];
        for (name, body) in &calls {
            let r = call(s, a, name, body).await?;
            refused(&format!("{name} with id {}", short(&format!("{id:?}"))), &r)?;
            t.add(format!("{} {}", r.status.as_u16(), name));
        }
        // Hostile principal ids in a real data source's Security lists.
        let r = call(
            s,
            a,
            "save_security",
            &json!({ "id": src, "security": {
            "admins": [["user", id]], "users": [["group", id]] } }),
        )
        .await?;
        clean("save_security with hostile principals", &r)?;
        t.add(format!("{} save_security principals", r.status.as_u16()));
        let r = page(s, a, &format!("/data-sources/{}/authorize", encode(&id))).await?;
        clean("authorize", &r)?;
        prop_assert!(
            !r.status.is_redirection()
                || !r.header("location").unwrap_or_default().contains("oauth"),
            "authorize with id {id:?} went to Procore"
        );
        Ok(())
    });
    // Nothing was changed or removed behind the refusals.
    runtime.block_on(async {
        let got: Value = server
            .call(&admin, "get_data_source", json!({ "id": source }))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(got["name"], "Mine", "{got}");
        let users: Value = server.list_users(&admin).await.json().await.unwrap();
        assert_eq!(users.as_array().unwrap().len(), 2, "{users}");
        assert!(
            users
                .as_array()
                .unwrap()
                .iter()
                .all(|u| u["active"] == true)
        );
        let groups: Value = server
            .call(&admin, "list_groups", json!({}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(groups[0]["id"], group.as_str(), "{groups}");
        let form_now: Value = server
            .call(&admin, "get_form", json!({ "id": form }))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(form_now["name"], "Private form");

        // Someone with only the User role asks for the real ids.
        for (name, body) in [
            ("get_data_source", json!({ "id": source })),
            ("call_log", json!({ "id": source })),
            ("data_source_history", json!({ "id": source })),
            ("delete_data_source", json!({ "id": source })),
            ("retry_submission", json!({ "id": submission })),
            ("delete_form", json!({ "id": form })),
            ("delete_group", json!({ "id": group })),
        ] {
            let r = call(&server, &user_client, name, &body)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(
                matches!(r.status.as_u16(), 403 | 404),
                "{name} by a plain user: {} {}",
                r.status,
                r.body
            );
            assert!(
                !r.body.contains("the admin's secret") && !r.body.contains("Mine"),
                "{name} leaked: {}",
                r.body
            );
        }
        let theirs = call(
            &server,
            &user_client,
            "form_submissions",
            &json!({ "form": form }),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(theirs.status, StatusCode::OK);
        assert!(
            !theirs.body.contains("the admin's secret"),
            "another person's submission: {}",
            theirs.body
        );
    });
    println!(
        "hostile ids (negative, overflowing, non-numeric, ../, user:admin, `1; DELETE user`, \
         NUL, 20,000 chars, random) through 20 id-taking server functions and the authorize \
         route, 48 rounds ({:.1?}): all refused with a 4xx, nothing changed; a plain user \
         asking for real ids got 403/404 and none of their data. Statuses: {}",
        started.elapsed(),
        tally.summary()
    );
    runtime.shutdown_timeout(Duration::from_secs(2));
}

// ---------------------------------------------------------------------------------------
// The REST API

/// Hostile ids in every path of the REST API, and hostile numbers in its query: 400 or
/// 404 (or 200 for a page past the end), always the JSON error shape, never a 5xx.
#[test]
fn rest_api_paths_and_parameters_take_hostile_values() {
    let runtime = runtime();
    let (sim, server, admin) = runtime.block_on(with_procore());
    let (source, token) = runtime.block_on(async {
        let source = ready_source(&server, &sim, &admin).await;
        let token = new_token(&server, &admin).await;
        (source, token)
    });
    let tally = Tally::default();
    let started = Instant::now();
    let (s, t, source, token) = (&server, &tally, source.as_str(), token.as_str());
    let number = prop_oneof![
        prop::sample::select(vec![
            "-1",
            "0",
            "-0",
            "99999999999999999999",
            "18446744073709551615",
            "9223372036854775808",
            "1e3",
            " 7 ",
            "",
            "0x10",
            "١٢",
            "NaN",
        ])
        .prop_map(str::to_string),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
    ];
    check_all(&runtime, 48, (hostile_id(), number), |(id, n)| async move {
        let api = reqwest::Client::new();
        let project = SANDBOX_PROJECT_ID;
        let seg = encode(&id);
        let q = encode(&n);
        let body = Some(json!({ "subject": "x" }));
        let requests: Vec<(Method, String, Option<Value>, bool)> = vec![
            (Method::GET, format!("/data-sources/{seg}"), None, false),
            (
                Method::GET,
                format!("/data-sources/{seg}/objects/rfis/records?project_id={project}"),
                None,
                false,
            ),
            (
                Method::POST,
                format!("/data-sources/{seg}/objects/rfis/records?project_id={project}"),
                body.clone(),
                false,
            ),
            (Method::GET, format!("/objects/{seg}"), None, false),
            (
                Method::GET,
                format!("/data-sources/{source}/objects/{seg}/records?project_id={project}"),
                None,
                false,
            ),
            (
                Method::GET,
                format!("/data-sources/{source}/objects/rfis/records/{seg}?project_id={project}"),
                None,
                true,
            ),
            (
                Method::PATCH,
                format!("/data-sources/{source}/objects/rfis/records/{seg}?project_id={project}"),
                body.clone(),
                true,
            ),
            (
                Method::DELETE,
                format!("/data-sources/{source}/objects/rfis/records/{seg}?project_id={project}"),
                None,
                true,
            ),
            (
                Method::GET,
                format!("/data-sources/{source}/objects/rfis/records?project_id={q}"),
                None,
                true,
            ),
            (
                Method::GET,
                format!(
                    "/data-sources/{source}/objects/rfis/records?project_id={project}&page={q}"
                ),
                None,
                true,
            ),
            (
                Method::GET,
                format!(
                    "/data-sources/{source}/objects/rfis/records?project_id={project}&per_page={q}"
                ),
                None,
                true,
            ),
            (
                Method::GET,
                format!(
                    "/data-sources/{source}/objects/rfis/records?project_id={project}&{seg}={q}"
                ),
                None,
                false,
            ),
            (
                Method::GET,
                format!(
                    "/data-sources/{source}/objects/rfis/records?project_id={project}&filter[{seg}]={q}"
                ),
                None,
                false,
            ),
            (
                Method::GET,
                format!(
                    "/data-sources/{source}/objects/rfis/records?project_id={project}&search={seg}&sort={seg}"
                ),
                None,
                true,
            ),
        ];
        for (method, path, body, may_succeed) in requests {
            let what = format!("{method} {}", short(&path));
            let mut request = api
                .request(method.clone(), s.url(&format!("/api/v1{path}")))
                .bearer_auth(token);
            if let Some(body) = &body {
                request = request.json(body);
            }
            let r = reply(&what, request).await?;
            // The URL may be too long to send at all; reqwest then fails before sending.
            clean(&what, &r)?;
            if !may_succeed {
                refused(&what, &r)?;
            }
            // A DELETE or PATCH must not have found a record by a hostile id.
            if method != Method::GET && r.status.is_success() {
                prop_assert!(
                    id.trim().parse::<u64>().is_ok(),
                    "{what}: wrote through a hostile id"
                );
            }
            if r.status.is_client_error() && r.status != StatusCode::URI_TOO_LONG {
                let error = &r.json()["error"];
                prop_assert_eq!(
                    error["status"].as_u64(),
                    Some(u64::from(r.status.as_u16())),
                    "{}: not the JSON error shape: {}",
                    what,
                    short(&r.body)
                );
            }
            t.add(r.status.as_u16().to_string());
        }
        Ok(())
    });
    // The explorer's server functions take record ids as JSON numbers: every kind of
    // number (and not-number) a browser could send, for every data source id above.
    let record_ids = [
        "-1",
        "0",
        "1.5",
        "1e3",
        "18446744073709551616",
        "18446744073709551615",
        "-9223372036854775809",
        "\"12\"",
        "null",
        "[]",
        "{}",
        "true",
    ];
    let explorer = Tally::default();
    runtime.block_on(async {
        for id in record_ids {
            for (data_source, project) in [
                (source.to_string(), SANDBOX_PROJECT_ID.to_string()),
                ("user:admin".to_string(), "1".to_string()),
                (source.to_string(), id.to_string()),
            ] {
                let scope = format!(
                    r#"{{"data_source": {}, "object": "rfis", "project": {project}}}"#,
                    json!(data_source)
                );
                for (name, body) in [
                    ("get_record", format!(r#"{{"scope": {scope}, "id": {id}}}"#)),
                    (
                        "delete_record",
                        format!(r#"{{"scope": {scope}, "id": {id}}}"#),
                    ),
                    (
                        "update_record",
                        format!(
                            r#"{{"scope": {scope}, "id": {id}, "attributes": {{"subject": "x"}}}}"#
                        ),
                    ),
                    (
                        "list_records",
                        format!(
                            r#"{{"scope": {scope}, "query": {{"page": {id}, "per_page": {id}}}}}"#
                        ),
                    ),
                ] {
                    let what = format!("{name} {body}");
                    let r = reply(
                        &what,
                        admin
                            .post(server.url(&format!("/api/{name}")))
                            .header("content-type", "application/json")
                            .body(body.clone()),
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                    if name == "list_records" {
                        clean(&what, &r).unwrap_or_else(|e| panic!("{e}"));
                    } else {
                        refused(&what, &r).unwrap_or_else(|e| panic!("{e}"));
                    }
                    explorer.add(format!("{} {name}", r.status.as_u16()));
                }
            }
        }
    });
    println!(
        "REST API: 48 rounds of 14 requests with hostile ids in every path segment and hostile \
         numbers in project_id/page/per_page/filters ({:.1?}): no 5xx, errors in the JSON \
         shape, no write through a hostile id; statuses: {}",
        started.elapsed(),
        tally.summary()
    );
    println!(
        "explorer server functions: get/update/delete/list_records with {} JSON record ids, \
         pages and project ids (negative, fractional, 1e3, past u64, strings, null, arrays) on \
         a real and a SurrealQL data source id: no 5xx, nothing found or written; statuses: {}",
        record_ids.len(),
        explorer.summary()
    );
    runtime.shutdown_timeout(Duration::from_secs(2));
}

/// A list field's options with hostile search text, cascade values and page numbers, and
/// previews with hostile bindings: options or a 4xx, never a 5xx.
#[test]
fn list_options_take_hostile_search_values_and_pages() {
    let runtime = runtime();
    let (sim, server, admin) = runtime.block_on(with_procore());
    let (source, form) = runtime.block_on(async {
        let source = ready_source(&server, &sim, &admin).await;
        let rfis = |project: Value, conditions: Value| {
            json!({ "kind": "data_source", "binding": {
                "data_source": source, "object": "rfis", "display_field": "subject",
                "value_field": "id", "sort_by": "subject", "direction": "asc",
                "project": project, "conditions": conditions } })
        };
        let field = |id: &str, list: Value| {
            json!({ "id": id, "label": id, "kind": "list", "required": false,
                "format": "dropdown", "list": list })
        };
        let saved = server
            .call(&admin, "save_form", json!({ "id": null, "draft": { "name": "Options",
                "rules": [], "fields": [
                    field("st", json!({ "kind": "manual", "options": [{ "value": "open", "display": "Open" }] })),
                    field("byproject", rfis(json!({ "kind": "field", "value": "st" }), json!([]))),
                    field("bystatus", rfis(
                        json!({ "kind": "constant", "value": SANDBOX_PROJECT_ID.to_string() }),
                        json!([{ "field": "status", "op": "eq", "value": { "kind": "field", "value": "st" } }]),
                    )),
                ] } }))
            .await;
        assert_eq!(saved.status(), StatusCode::OK);
        let form: Value = saved.json().await.unwrap();
        (source, form["id"].as_str().unwrap().to_string())
    });
    let tally = Tally::default();
    let started = Instant::now();
    let (s, a, t, source, form) = (&server, &admin, &tally, source.as_str(), form.as_str());
    let page = prop_oneof![
        Just(1u64),
        Just(0u64),
        Just(u64::MAX),
        Just(u64::MAX / 50 + 1),
        any::<u64>()
    ];
    check_all(
        &runtime,
        32,
        (hostile_text(), page),
        |(text, page)| async move {
            for field in ["byproject", "bystatus"] {
                let r = call(
                    s,
                    a,
                    "form_options",
                    &json!({ "form": form, "field": field,
                "request": { "values": [["st", text]], "search": text, "page": page } }),
                )
                .await?;
                clean(&format!("form_options {field}, page {page}"), &r)?;
                t.add(format!("form_options {}", r.status.as_u16()));
            }
            let binding = json!({ "data_source": text, "object": text, "display_field": text,
            "value_field": "id", "sort_by": text, "direction": "asc", "project": null,
            "conditions": [{ "field": text, "op": "contains", "value": { "kind": "constant", "value": text } }] });
            let r = call(
                s,
                a,
                "preview_options",
                &json!({ "binding": binding,
            "request": { "values": [], "search": text, "page": page } }),
            )
            .await?;
            refused("preview_options with a hostile binding", &r)?;
            let binding = json!({ "data_source": source, "object": "projects",
            "display_field": "name", "value_field": "id", "sort_by": null, "direction": "desc",
            "project": null, "conditions": [{ "field": "name", "op": "contains",
            "value": { "kind": "constant", "value": text } }] });
            let r = call(
                s,
                a,
                "preview_options",
                &json!({ "binding": binding,
            "request": { "values": [], "search": text, "page": page } }),
            )
            .await?;
            clean("preview_options with a hostile condition", &r)?;
            t.add(format!("preview_options {}", r.status.as_u16()));
            Ok(())
        },
    );
    // Search text and a cascade value longer than a URL can carry (64 KiB).
    runtime.block_on(async {
        for (what, values, search) in [
            (
                "a 70,000-character search",
                json!([["st", "open"]]),
                "a".repeat(70_000),
            ),
            (
                "a 70,000-character cascade value",
                json!([["st", "b".repeat(70_000)]]),
                String::new(),
            ),
        ] {
            let started = Instant::now();
            let r = call(
                s,
                a,
                "form_options",
                &json!({ "form": form, "field": "bystatus",
                "request": { "values": values, "search": search, "page": 1 } }),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            refused(what, &r).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{what}: retried for {:?}",
                started.elapsed()
            );
            tally.add(format!("{what} {}", r.status.as_u16()));
        }
    });
    println!(
        "list options: 32 rounds of hostile search text, cascade values (project ids and \
         condition values) and pages up to u64::MAX through form_options and preview_options, \
         then a search and a cascade value too long for a URL ({:.1?}): options or a 4xx, \
         never a 5xx; statuses: {}",
        started.elapsed(),
        tally.summary()
    );
    runtime.shutdown_timeout(Duration::from_secs(2));
}

// ---------------------------------------------------------------------------------------
// The OAuth callback

async fn authorization(server: &Server, admin: &reqwest::Client, id: &str) -> Value {
    let got: Value = server
        .call(admin, "get_data_source", json!({ "id": id }))
        .await
        .json()
        .await
        .unwrap();
    got["authorization"].clone()
}

async fn stays_unauthorized(server: &Server, admin: &reqwest::Client, id: &str) {
    let authorization = authorization(server, admin, id).await;
    assert!(
        authorization.is_null(),
        "{id} was authorized: {authorization}"
    );
}

/// Forged, replayed, expired, someone else's, missing, huge and denied `state`s and codes:
/// each gets a 4xx page that says what happened, and the data source stays as it was.
#[test]
fn oauth_callbacks_that_are_not_ours_change_nothing() {
    let runtime = runtime();
    let (sim, server, state, admin) = runtime.block_on(async {
        let sim = TestSim::start(roomy()).await;
        let (server, state) = trestle_with_state(&sim).await;
        let admin = signed_in_admin(&server).await;
        (sim, server, state, admin)
    });
    let untouched = runtime.block_on(create(&server, &admin, "Untouched", "4264807"));
    let tally = Tally::default();
    let started = Instant::now();

    // Forged: states Trestle never issued (hostile text, bounded so the URL is sendable).
    let (s, a, t) = (&server, &admin, &tally);
    let forged = hostile_text().prop_filter("fits in a URL", |text| text.len() < 8_000);
    let code = prop_oneof![
        Just(None),
        Just(Some("a-code".to_string())),
        "\\PC{0,40}".prop_map(Some)
    ];
    check_all(
        &runtime,
        32,
        (forged, code, any::<bool>()),
        |(state, code, denied)| async move {
            let mut query = format!("state={}", encode(&state));
            if let Some(code) = code {
                query.push_str(&format!("&code={}", encode(&code)));
            }
            if denied {
                query.push_str(
                    "&error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
                );
            }
            let r = page(s, a, &format!("/oauth/callback?{query}")).await?;
            refused("a forged state", &r)?;
            prop_assert!(
                r.body.contains("not valid") || r.status != StatusCode::BAD_REQUEST,
                "a forged state's page: {}",
                short(&r.body)
            );
            prop_assert!(
                !r.body.contains("<script>alert(1)</script>"),
                "unescaped: {}",
                short(&r.body)
            );
            t.add(format!("forged {}", r.status.as_u16()));
            Ok(())
        },
    );

    runtime.block_on(async {
        let lines = std::cell::RefCell::new(Vec::new());
        let expect = |what: &str, (status, page): (StatusCode, String), says: &str| {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {page}");
            assert!(page.contains(says), "{what}: expected “{says}” in {page}");
            assert!(
                !page.contains("<script>alert(1)</script>"),
                "{what}: unescaped: {page}"
            );
            lines.borrow_mut().push(what.to_string());
        };
        let id = create(&server, &admin, "Target", "4264807").await;

        // No state, an empty one, a huge one, bytes that are not UTF-8.
        for (what, query) in [
            ("no state, no code", String::new()),
            ("an empty state", "state=&code=x".to_string()),
            (
                "a 20,000-character state",
                format!("state={}&code=x", "a".repeat(20_000)),
            ),
            (
                "only error=access_denied",
                "error=access_denied".to_string(),
            ),
        ] {
            let url =
                url::Url::parse(&format!("http://127.0.0.1:9/oauth/callback?{query}")).unwrap();
            expect(what, callback(&server, &admin, &url).await, "not valid");
        }
        let bad_utf8 = admin
            .get(server.url("/oauth/callback?state=%FF%FE&code=%C0"))
            .send()
            .await
            .unwrap();
        assert!(bad_utf8.status().is_client_error(), "{}", bad_utf8.status());
        lines
            .borrow_mut()
            .push("a state that is not UTF-8".to_string());

        // A real state twice: the second is refused and changes nothing.
        let consented = sim
            .consent_at(&start(&server, &admin, &id).await, true)
            .await;
        assert_eq!(
            callback(&server, &admin, &consented).await.0,
            StatusCode::OK
        );
        let authorized = authorization(&server, &admin, &id).await;
        assert!(!authorized.is_null());
        expect(
            "a replayed state",
            callback(&server, &admin, &consented).await,
            "already used",
        );
        assert_eq!(
            authorization(&server, &admin, &id).await,
            authorized,
            "unchanged by the replay"
        );

        // The rest on a data source that is not authorized, and must stay so.
        let id = create(&server, &admin, "Never authorized", "4264807").await;

        // Expired: planted with an expiry in the past, brought back with a real code.
        let consented = sim
            .consent_at(&start(&server, &admin, &id).await, true)
            .await;
        let code = consented
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.to_string())
            .unwrap();
        let users: Value = server.list_users(&admin).await.json().await.unwrap();
        let admin_id = users[0]["id"].as_str().unwrap();
        let past = serde_json::from_value(json!("2020-01-01T00:00:00Z")).unwrap();
        state
            .store
            .create_oauth_state(
                &app::server::crypto::token_hash("an-expired-state"),
                &id,
                admin_id,
                app::data_source::Environment::DeveloperSandbox,
                past,
            )
            .await
            .unwrap();
        let expired = url::Url::parse(&format!(
            "http://127.0.0.1:9/oauth/callback?state=an-expired-state&code={code}"
        ))
        .unwrap();
        expect(
            "an expired state",
            callback(&server, &admin, &expired).await,
            "longer than ten minutes",
        );
        expect(
            "the expired state again",
            callback(&server, &admin, &expired).await,
            "already used",
        );
        stays_unauthorized(&server, &admin, &id).await;

        // Issued to the administrator, brought back by another signed-in person.
        let (other, _) = server
            .person(&admin, "mo@example.com", &["data_source_manager"])
            .await;
        let stolen = sim
            .consent_at(&start(&server, &admin, &id).await, true)
            .await;
        expect(
            "someone else's state",
            callback(&server, &other, &stolen).await,
            "started by someone else",
        );
        expect(
            "the stolen state, back with its owner",
            callback(&server, &admin, &stolen).await,
            "already used",
        );
        stays_unauthorized(&server, &admin, &id).await;

        // Signed out.
        let anonymous = server.client();
        let signed_out = sim
            .consent_at(&start(&server, &admin, &id).await, true)
            .await;
        expect(
            "a signed-out browser",
            callback(&server, &anonymous, &signed_out).await,
            "session ended",
        );

        // A real state without a code, with an empty one, with a huge forged one.
        for (what, code, says) in [
            ("no code", None, "no authorization code"),
            (
                "an empty code",
                Some(String::new()),
                "no authorization code",
            ),
            (
                "a 30,000-character code",
                Some("c".repeat(30_000)),
                "uthoriz",
            ),
            (
                "a forged code",
                Some("<script>alert(1)</script>".to_string()),
                "uthoriz",
            ),
        ] {
            let consented = sim
                .consent_at(&start(&server, &admin, &id).await, true)
                .await;
            let mut url = consented.clone();
            let state = consented
                .query_pairs()
                .find(|(k, _)| k == "state")
                .map(|(_, v)| v.to_string())
                .unwrap();
            url.query_pairs_mut().clear().append_pair("state", &state);
            if let Some(code) = code {
                url.query_pairs_mut().append_pair("code", &code);
            }
            expect(what, callback(&server, &admin, &url).await, says);
        }
        stays_unauthorized(&server, &admin, &id).await;

        // Denied at Procore, and an error description full of script.
        let denied = sim
            .consent_at(&start(&server, &admin, &id).await, false)
            .await;
        expect(
            "access_denied",
            callback(&server, &admin, &denied).await,
            "Access was denied",
        );
        let consented = sim
            .consent_at(&start(&server, &admin, &id).await, true)
            .await;
        let mut url = consented.clone();
        let state = consented
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.to_string())
            .unwrap();
        url.query_pairs_mut()
            .clear()
            .append_pair("state", &state)
            .append_pair("error", "server_error")
            .append_pair(
                "error_description",
                "<script>alert(1)</script></script><script>alert(1)</script>",
            );
        expect(
            "an error description with script",
            callback(&server, &admin, &url).await,
            "did not authorize",
        );
        stays_unauthorized(&server, &admin, &id).await;
        stays_unauthorized(&server, &admin, &untouched).await;
        println!(
            "OAuth callback: 32 forged states (hostile text, with and without code and \
             error=access_denied) and {} ({:.1?}) — each a 400 page saying why, nothing \
             unescaped, the data sources unchanged; forged: {}",
            lines.borrow().join(", "),
            started.elapsed(),
            tally.summary()
        );
    });
    runtime.shutdown_timeout(Duration::from_secs(2));
}

// ---------------------------------------------------------------------------------------
// Cross-origin writes, session fixation, brute force, oversized bodies

/// Server function calls carrying the administrator's session cookie but sent by another
/// site: refused, and nothing is written.
#[test]
fn cross_origin_writes_with_a_session_are_refused() {
    let runtime = runtime();
    let server = runtime.block_on(Server::start());
    let admin = runtime.block_on(signed_in_admin(&server));
    let ours = format!("127.0.0.1:{}", server.addr.port());
    let origin = prop_oneof![
        Just("https://evil.example".to_string()),
        Just("null".to_string()),
        Just("http://127.0.0.1".to_string()),
        Just(format!("http://127.0.0.1:{}", server.addr.port() + 1)),
        Just(format!("http://localhost:{}", server.addr.port())),
        "https?://[a-z]{1,10}\\.example(:[0-9]{1,5})?",
        "[ -~]{0,40}",
    ]
    .prop_filter("another site", move |o| !o.contains(&ours));
    let tally = Tally::default();
    let (s, a, t) = (&server, &admin, &tally);
    check_all(
        &runtime,
        32,
        (origin, any::<bool>()),
        |(origin, fetch_meta)| async move {
            let name = format!(
                "From {}",
                encode(&origin).chars().take(40).collect::<String>()
            );
            let mut request = a
                .post(s.url("/api/save_data_source"))
                .header("origin", origin.as_str())
                .json(
                    &json!({ "id": null, "draft": { "name": name, "company_id": "",
                "environment": "live", "cloud_connect": false, "connector": null } }),
                );
            if fetch_meta {
                request = request.header("sec-fetch-site", "cross-site");
            }
            let r = reply(&format!("origin {origin:?}"), request).await?;
            prop_assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "origin {:?}: {}",
                origin,
                short(&r.body)
            );
            t.add("server function 403");
            let listed = call(s, a, "list_data_sources", &json!({})).await?;
            prop_assert!(
                !listed.body.contains(&name),
                "written anyway: {}",
                short(&listed.body)
            );
            Ok(())
        },
    );
    runtime.block_on(async {
        // No Origin, but the browser says the request is cross-site.
        let r = admin
            .post(server.url("/api/create_user"))
            .header("sec-fetch-site", "cross-site")
            .json(&json!({ "draft": { "email": "mallory@example.com", "name": "M", "roles": ["administrator"] } }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // The REST API with the cookie but no token, from another site: JSON 403.
        let r = admin
            .post(server.url("/api/v1/data-sources/x/objects/rfis/records"))
            .header("origin", "https://evil.example")
            .json(&json!({ "subject": "x" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["status"], 403);
        let users: Value = server.list_users(&admin).await.json().await.unwrap();
        assert_eq!(users.as_array().unwrap().len(), 1, "nobody was created");
    });
    println!(
        "cross-origin writes: 32 foreign Origins (evil.example, null, other ports and hosts, \
         garbage), with and without Sec-Fetch-Site, carrying the admin's session to \
         save_data_source, plus create_user by Sec-Fetch-Site alone and the REST API by cookie: \
         all 403, nothing written; {}",
        tally.summary()
    );
    runtime.shutdown_timeout(Duration::from_secs(2));
}

fn session_cookie(reply: &Reply) -> Option<String> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("trestle_session="))
        .map(|c| c.split(';').next().unwrap_or_default().to_string())
}

/// A `trestle_session` cookie planted before sign-in (made up, or the attacker's own real
/// session) is not the session the victim gets: sign-in always sets a new one, and the
/// planted value never acts as the victim.
#[test]
fn sign_in_never_keeps_a_planted_session() {
    let runtime = runtime();
    let server = runtime.block_on(Server::start());
    let admin = runtime.block_on(signed_in_admin(&server));
    // The attacker's own, real session (a plain user).
    let attackers = runtime.block_on(async {
        let (_, _) = server
            .person(&admin, "mallory@example.com", &["user"])
            .await;
        let plain = reqwest::Client::new();
        let r = reply(
            "attacker sign-in",
            plain.post(server.url("/api/sign_in")).form(&[
                ("email", "mallory@example.com"),
                ("password", "a password of my own"),
            ]),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        session_cookie(&r).expect("the attacker's session")
    });
    let planted = prop_oneof![
        1 => Just(attackers.clone()),
        3 => "[A-Za-z0-9_-]{1,128}",
    ];
    let tally = Tally::default();
    let (s, t, attackers) = (&server, &tally, attackers.as_str());
    check_all(&runtime, 12, planted, |planted| async move {
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let cookie = format!("trestle_session={planted}");
        let r = reply(
            "sign-in with a planted cookie",
            browser
                .post(s.url("/api/sign_in"))
                .header("cookie", &cookie)
                .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)]),
        )
        .await?;
        prop_assert!(
            r.status.is_success() || r.status.is_redirection(),
            "{}",
            r.status
        );
        let fresh = session_cookie(&r).ok_or_else(|| fail("sign-in set no session cookie"))?;
        prop_assert!(
            !fresh.is_empty() && fresh != planted,
            "the planted session was kept"
        );
        // The planted value is not the administrator: nobody, or still the attacker.
        let as_planted = reply(
            "list_users with the planted cookie",
            browser
                .post(s.url("/api/list_users"))
                .header("cookie", &cookie)
                .header("content-type", "application/x-www-form-urlencoded"),
        )
        .await?;
        let expected = if planted == attackers {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::UNAUTHORIZED
        };
        prop_assert_eq!(as_planted.status, expected, "{}", short(&as_planted.body));
        let as_fresh = reply(
            "list_users with the new cookie",
            browser
                .post(s.url("/api/list_users"))
                .header("cookie", format!("trestle_session={fresh}"))
                .header("content-type", "application/x-www-form-urlencoded"),
        )
        .await?;
        prop_assert_eq!(as_fresh.status, StatusCode::OK);
        t.add(if planted == attackers {
            "attacker's real session"
        } else {
            "made-up value"
        });
        Ok(())
    });
    println!(
        "session fixation: 12 sign-ins as the administrator carrying a planted trestle_session \
         ({}): each got a new session; the planted value stayed anonymous (401) or the \
         attacker (403), never the administrator",
        tally.summary()
    );
    runtime.shutdown_timeout(Duration::from_secs(2));
}

/// Wrong passwords (hostile ones) for one address: the first few are "incorrect", then the
/// address is locked with 429, `Retry-After` and a message saying how long — the right
/// password included, and however the address is written. Other addresses are not locked.
#[test]
fn sign_in_brute_force_is_throttled() {
    let runtime = runtime();
    let server = runtime.block_on(Server::start());
    let admin = runtime.block_on(signed_in_admin(&server));
    let passwords = prop::collection::vec(
        hostile_text().prop_filter("fits in a form", |p| {
            p.len() < 20_000 && p != "a password of my own"
        }),
        7..9,
    );
    let tally = Tally::default();
    let round = std::sync::atomic::AtomicUsize::new(0);
    let (s, a, t, round) = (&server, &admin, &tally, &round);
    check_all(&runtime, 3, passwords, |passwords| async move {
        let n = round.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let email = format!("victim{n}@example.com");
        s.person(a, &email, &["user"]).await;
        let attacker = reqwest::Client::new();
        let sign_in = |email: String, password: String| {
            let attacker = attacker.clone();
            async move {
                reply(
                    "sign_in",
                    attacker
                        .post(s.url("/api/sign_in"))
                        .form(&[("email", email.as_str()), ("password", password.as_str())]),
                )
                .await
            }
        };
        for (i, password) in passwords.iter().enumerate() {
            let r = sign_in(email.clone(), password.clone()).await?;
            if i + 1 < app::server::auth::FREE_FAILURES as usize {
                prop_assert_eq!(
                    r.status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "try {}: {}",
                    i + 1,
                    short(&r.body)
                );
                prop_assert!(r.body.contains("E-mail or password is incorrect."));
            } else {
                prop_assert_eq!(
                    r.status,
                    StatusCode::TOO_MANY_REQUESTS,
                    "try {}: {}",
                    i + 1,
                    short(&r.body)
                );
                let wait: u64 = r
                    .header("retry-after")
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| fail("429 without a Retry-After in seconds"))?;
                prop_assert!((1..=900).contains(&wait), "Retry-After {wait}");
                prop_assert!(
                    r.body.contains("Too many failed sign-ins"),
                    "{}",
                    short(&r.body)
                );
            }
        }
        for variant in [email.clone(), email.to_uppercase(), format!("  {email} ")] {
            let r = sign_in(variant.clone(), "a password of my own".into()).await?;
            prop_assert_eq!(
                r.status,
                StatusCode::TOO_MANY_REQUESTS,
                "the right password as {:?}",
                variant
            );
            prop_assert!(session_cookie(&r).is_none());
        }
        // Another address is not locked by this one's failures.
        let r = sign_in(ADMIN_EMAIL.into(), ADMIN_PASSWORD.into()).await?;
        prop_assert!(
            r.status.is_success() || r.status.is_redirection(),
            "admin: {}",
            r.status
        );
        t.add(format!("{} wrong passwords", passwords.len()));
        Ok(())
    });
    println!(
        "sign-in brute force: 3 addresses, each with {} hostile wrong passwords: 4 × 422 \
         “incorrect”, then 429 with Retry-After and “Too many failed sign-ins”; the right \
         password refused while locked (also upper-cased and padded); other addresses unaffected",
        tally.summary()
    );
    runtime.shutdown_timeout(Duration::from_secs(2));
}

/// Sends `body` with chunked transfer encoding (no Content-Length) on a raw connection;
/// returns the status of the answer.
async fn chunked_post(server: &Server, path: &str, cookie: &str, body: &[u8]) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Cookie: {cookie}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        server.addr
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(64 * 1024) {
        let mut frame = format!("{:X}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(chunk);
        frame.extend_from_slice(b"\r\n");
        // The server may answer and close before reading it all.
        if stream.write_all(&frame).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text}"))
}

/// Bodies over 1 MiB are refused with 413 — server functions, sign-in and the REST API,
/// with Content-Length or chunked — and the server keeps serving.
#[test]
fn oversized_bodies_are_refused_with_413() {
    let runtime = runtime();
    let server = runtime.block_on(Server::start());
    let admin = runtime.block_on(signed_in_admin(&server));
    runtime.block_on(async {
        let huge = "x".repeat(2 << 20);
        let draft = json!({ "id": null, "draft": { "name": huge, "company_id": "",
            "environment": "live", "cloud_connect": false, "connector": null } });
        let mut lines = Vec::new();

        let r = reply(
            "save_data_source, 2 MiB",
            admin.post(server.url("/api/save_data_source")).json(&draft),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            r.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{}",
            short(&r.body)
        );
        assert!(!r.body.trim().is_empty());
        lines.push("a server function");

        let r = reply(
            "sign_in, 2 MiB",
            server
                .client()
                .post(server.url("/api/sign_in"))
                .form(&[("email", "a@b.c"), ("password", huge.as_str())]),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            r.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{}",
            short(&r.body)
        );
        lines.push("sign-in");

        let token = new_token(&server, &admin).await;
        let r = reply(
            "REST create, 2 MiB",
            reqwest::Client::new()
                .post(server.url("/api/v1/data-sources/abc/objects/rfis/records?project_id=1"))
                .bearer_auth(&token)
                .json(&json!({ "subject": huge })),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            r.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{}",
            short(&r.body)
        );
        assert_eq!(r.json()["error"]["status"], 413, "{}", short(&r.body));
        lines.push("the REST API");

        // The session cookie as the browser would send it.
        let signed = server.client();
        let r = reply(
            "sign in for the raw connection",
            signed
                .post(server.url("/api/sign_in"))
                .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)]),
        )
        .await
        .unwrap();
        let cookie = format!("trestle_session={}", session_cookie(&r).unwrap());
        let status = chunked_post(
            &server,
            "/api/save_data_source",
            &cookie,
            draft.to_string().as_bytes(),
        )
        .await;
        assert_eq!(status, 413, "a chunked server function call");
        lines.push("a chunked server function call");

        // Just under the limit is read (and refused for what it says, not its size).
        let under = json!({ "id": null, "draft": { "name": "y".repeat(1_000_000), "company_id": "",
            "environment": "live", "cloud_connect": false, "connector": null } });
        let r = reply(
            "save_data_source, just under 1 MiB",
            admin.post(server.url("/api/save_data_source")).json(&under),
        )
        .await
        .unwrap();
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            short(&r.body)
        );
        assert!(
            r.body.contains("at most 100 characters"),
            "{}",
            short(&r.body)
        );

        // Still serving.
        let health = server
            .client()
            .get(server.url("/health"))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), StatusCode::OK);
        assert_eq!(
            server
                .call(&admin, "list_data_sources", json!({}))
                .await
                .status(),
            StatusCode::OK
        );
        println!(
            "oversized bodies: 2 MiB to {} — each 413; 1,000,000 characters (under 1 MiB) read \
             and refused as too long a name (422); the server kept serving",
            lines.join(", ")
        );
    });
    runtime.shutdown_timeout(Duration::from_secs(2));
}
