//! Hostile input from "Procore" (issue 10): whatever the other end sends — arbitrary bytes,
//! truncated or wrongly shaped JSON, absurd `Total`/`Per-Page`/`X-Rate-Limit-*`/`Retry-After`
//! headers, any status with any body, dropped connections — the client answers `Ok` or a
//! typed [`procore::Error`]: it never panics, never hangs, never loops over a list without
//! end, and its messages never carry the access token, refresh token or client secret.
//!
//! A scripted [`Transport`] stands in for Procore: each request takes the next answer of
//! a generated script, and once the script is spent every request gets a plain 404, so
//! every call has an end (the endless servers have tests of their own below).

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use http::{HeaderValue, StatusCode};
use procore::catalogue::{ObjectDef, Scoped, catalogue};
use procore::query::{Direction, Filter, ListQuery, Operator};
use procore::transport::{
    HttpRequest, HttpResponse, Transport, TransportError, TransportErrorKind,
};
use procore::{
    ApiRequest, Client, ClientConfig, Error, Hosts, MemoryTokenStore, OAuthApp, Secret, TokenSet,
    TokenStore,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use url::Url;

const ACCESS_TOKEN: &str = "access-TOKEN-e4b1c2d3-never-shown";
const REFRESH_TOKEN: &str = "refresh-TOKEN-9f8e7d6c-never-shown";
const CLIENT_SECRET: &str = "client-SECRET-5a6b7c8d-never-shown";
const COMPANY_ID: u64 = 4_264_807;

/// Longer than any honest call to the fake takes (retries back off in milliseconds).
const PATIENCE: Duration = Duration::from_secs(10);

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// The fake Procore

#[derive(Debug, Clone)]
enum Answer {
    Reply {
        status: u16,
        headers: Vec<(String, Vec<u8>)>,
        body: Vec<u8>,
    },
    /// No answer at all.
    Fail(TransportErrorKind),
}

impl Answer {
    fn not_found() -> Answer {
        Answer::Reply {
            status: 404,
            headers: Vec::new(),
            body: b"{\"errors\":\"Not Found\"}".to_vec(),
        }
    }

    fn into_response(self) -> Result<HttpResponse, TransportError> {
        match self {
            Answer::Reply {
                status,
                headers,
                body,
            } => {
                let mut response = http::Response::new(body);
                *response.status_mut() =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
                for (name, value) in headers {
                    // What HTTP itself cannot carry never reaches a client.
                    if let (Ok(name), Ok(value)) = (
                        http::HeaderName::from_bytes(name.as_bytes()),
                        HeaderValue::from_bytes(&value),
                    ) {
                        response.headers_mut().append(name, value);
                    }
                }
                Ok(response)
            }
            Answer::Fail(kind) => Err(TransportError {
                kind,
                message: "the scripted Procore hung up".into(),
            }),
        }
    }
}

/// Answers from a script, then `after` for ever.
struct Scripted {
    script: Mutex<VecDeque<Answer>>,
    after: Answer,
    calls: AtomicUsize,
}

impl Scripted {
    fn new(script: Vec<Answer>, after: Answer) -> Arc<Scripted> {
        Arc::new(Scripted {
            script: Mutex::new(script.into()),
            after,
            calls: AtomicUsize::new(0),
        })
    }
}

impl Transport for Scripted {
    fn send(&self, _request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, TransportError>> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let answer = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| self.after.clone());
        Box::pin(async move { answer.into_response() })
    }
}

/// A client of the fake, already authorized (tokens good for an hour), retrying twice
/// with millisecond backoff and reading small pages two at a time.
async fn client_of(transport: Arc<Scripted>) -> Client {
    let hosts = Hosts {
        login: Url::parse("https://login.procore.invalid").unwrap(),
        api: Url::parse("https://api.procore.invalid").unwrap(),
    };
    let app = OAuthApp {
        client_id: "hostile-test".into(),
        client_secret: Secret::new(CLIENT_SECRET),
        redirect_uri: Url::parse("https://trestle.example/oauth/callback").unwrap(),
    };
    let mut config = ClientConfig::new(hosts, app, COMPANY_ID, "ds");
    config.max_retries = 2;
    config.backoff = Duration::from_millis(1);
    config.per_page = 3;
    config.page_concurrency = 2;
    let store = Arc::new(MemoryTokenStore::default());
    let tokens = TokenSet::new(
        Secret::new(ACCESS_TOKEN),
        Some(Secret::new(REFRESH_TOKEN)),
        Some(Duration::from_secs(3600)),
        now(),
    );
    store.save("ds", &tokens).await.unwrap();
    Client::new(config, store, transport).unwrap()
}

/// Two workers, so a call that never yields cannot stop the test from noticing.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn cases(n: u32) -> Config {
    Config {
        cases: n,
        // Nothing written next to the sources; a failure prints its input.
        failure_persistence: None,
        max_shrink_iters: 64,
        // Shrinking a case that runs out of time repeats the wait: bound it.
        max_shrink_time: 120_000,
        ..Config::default()
    }
}

/// Runs `work` on the runtime and waits for it by the wall clock, so a call that hangs or
/// loops without ever yielding is caught too; a panic in it is reported as one.
fn within<T: Send + 'static>(
    runtime: &tokio::runtime::Runtime,
    limit: Duration,
    what: &str,
    work: impl Future<Output = T> + Send + 'static,
) -> Result<T, TestCaseError> {
    let (tx, rx) = std::sync::mpsc::channel();
    runtime.spawn(async move {
        let _ = tx.send(work.await);
    });
    rx.recv_timeout(limit).map_err(|e| {
        TestCaseError::fail(match e {
            RecvTimeoutError::Timeout => {
                format!("{what}: no answer within {limit:?} (hung, or reading without end)")
            }
            RecvTimeoutError::Disconnected => format!("{what}: panicked"),
        })
    })
}

// ---------------------------------------------------------------------------------------
// What Procore might send

/// Any JSON value, nested a little.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("JSON has no NaN", |f| {
            serde_json::Number::from_f64(f).map(Value::Number)
        }),
        ".{0,24}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                "(id|name|errors|error|error_description|message|access_token|[a-z_]{1,8})",
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Ids as a hostile Procore might write them.
fn hostile_id() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0u64..20).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(json!(u64::MAX)),
        Just(json!(-1)),
        Just(json!(1.5)),
        Just(json!(1e300)),
        Just(json!("12")),
        Just(json!(null)),
        json_value(),
    ]
}

/// A list of record-like objects with hostile ids and fields.
fn records() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (hostile_id(), json_value(), ".{0,16}").prop_map(|(id, other, subject)| {
            json!({ "id": id, "subject": subject, "name": other, "number": id })
        }),
        0..6,
    )
    .prop_map(Value::Array)
}

/// Bodies: bytes, JSON of every shape, truncated JSON, error and token bodies, extremes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..200),
        4 => json_value().prop_map(|v| v.to_string().into_bytes()),
        6 => records().prop_map(|v| v.to_string().into_bytes()),
        3 => (records(), any::<prop::sample::Index>()).prop_map(|(v, cut)| {
            let text = v.to_string().into_bytes();
            let at = cut.index(text.len().max(1));
            text[..at.min(text.len())].to_vec()
        }),
        3 => json_value().prop_map(|v| json!({ "errors": v }).to_string().into_bytes()),
        2 => (json_value(), json_value(), json_value()).prop_map(|(a, b, c)| {
            json!({ "access_token": a, "token_type": "bearer", "expires_in": b,
                    "refresh_token": c, "created_at": b })
            .to_string()
            .into_bytes()
        }),
        2 => (".{0,40}", ".{0,40}").prop_map(|(e, d)| {
            json!({ "error": e, "error_description": d }).to_string().into_bytes()
        }),
        1 => Just(Vec::new()),
        1 => Just(b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec()),
        1 => Just(b"[".repeat(50_000)),
        1 => Just(format!("\"{}\"", "x".repeat(300_000)).into_bytes()),
        1 => Just(b"1e999999".to_vec()),
        1 => Just(b"[18446744073709551616, -9223372036854775809]".to_vec()),
        1 => Just(b"\xEF\xBB\xBF[]".to_vec()),
    ]
}

/// Numbers as a header might (mis)state them.
fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        (0u64..50).prop_map(|n| n.to_string()),
        Just("99999999999999999999999999999".to_string()),
        Just(u64::MAX.to_string()),
        Just(i64::MAX.to_string()),
        Just(i64::MIN.to_string()),
        Just("-0".to_string()),
        Just(String::new()),
        Just(" 7 ".to_string()),
        Just("1e3".to_string()),
        Just("0x10".to_string()),
        Just("NaN".to_string()),
        Just("١٢".to_string()),
        Just("2.5".to_string()),
        Just("Wed, 21 Oct 2015 07:28:00 GMT".to_string()),
        ".{0,12}",
    ]
}

fn link_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<https://api.procore.invalid/x?page=2>; rel=\"next\"".to_string()),
        Just("<https://api.procore.invalid/x?page=1>; rel=\"prev\", <x>; rel=\"next\"".to_string()),
        Just("rel=\"next\"".to_string()),
        Just(",,,;;;".to_string()),
        ".{0,40}",
    ]
}

/// Headers, filtered of the waits an honest Procore may ask for: a `Retry-After` of up to
/// an hour is obeyed and an hourly window reset is waited for, by design — only what no
/// honest Procore sends is hostile.
fn headers() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let started = now();
    let named = prop_oneof![
        (
            "(total|per-page|x-rate-limit-limit|x-rate-limit-remaining)",
            number_text()
        ),
        (Just("x-rate-limit-reset".to_string()), number_text()),
        (Just("retry-after".to_string()), number_text()),
        (Just("link".to_string()), link_text()),
        (
            Just("content-type".to_string()),
            prop_oneof![Just("application/json".to_string()), ".{0,20}"]
        ),
    ]
    .prop_map(|(name, value)| (name, value.into_bytes()));
    let raw = ("[a-z-]{1,12}", prop::collection::vec(any::<u8>(), 0..24));
    prop::collection::vec(prop_oneof![4 => named, 1 => raw], 0..7).prop_filter(
        "an honest wait",
        move |headers| {
            headers.iter().all(|(name, value)| {
                let number = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.trim().parse::<i64>().ok());
                match (name.as_str(), number) {
                    ("retry-after", Some(secs)) => !(1..=3600).contains(&secs),
                    ("x-rate-limit-reset", Some(at)) => !(started..=started + 3700).contains(&at),
                    _ => true,
                }
            })
        },
    )
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        6 => Just(200u16),
        6 => prop::sample::select(vec![
            201u16, 204, 206, 301, 302, 304, 400, 401, 403, 404, 409, 410, 413, 414, 422, 429,
            500, 502, 503, 504,
        ]),
        1 => 100u16..=999,
    ]
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        12 => (status(), headers(), body()).prop_map(|(status, headers, body)| Answer::Reply {
            status,
            headers,
            body,
        }),
        1 => prop::sample::select(vec![
            TransportErrorKind::Connect,
            TransportErrorKind::Timeout,
            TransportErrorKind::Other,
        ])
        .prop_map(Answer::Fail),
    ]
}

// ---------------------------------------------------------------------------------------
// Judging outcomes

/// Every kind of error by name: a new variant must be thought about here.
fn kind(error: &Error) -> &'static str {
    match error {
        Error::NotAuthorized => "NotAuthorized",
        Error::Unauthorized => "Unauthorized",
        Error::AuthorizationExpired => "AuthorizationExpired",
        Error::Forbidden { .. } => "Forbidden",
        Error::NotFound => "NotFound",
        Error::BadRequest { .. } => "BadRequest",
        Error::Validation { .. } => "Validation",
        Error::RateLimited { .. } => "RateLimited",
        Error::Unavailable { .. } => "Unavailable",
        Error::Transport(_) => "Transport",
        Error::Protocol(_) => "Protocol",
        Error::OAuth { .. } => "OAuth",
        Error::Store(_) => "Store",
        Error::Catalogue(_) => "Catalogue",
    }
}

#[derive(Default)]
struct Tally(Mutex<BTreeMap<String, usize>>);

impl Tally {
    fn add(&self, what: &str) {
        *self.0.lock().unwrap().entry(what.to_string()).or_default() += 1;
    }

    fn summary(&self) -> String {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Counts an outcome, and checks an error says nothing secret.
fn check<T>(what: &str, tally: &Tally, outcome: Result<T, Error>) -> Result<(), TestCaseError> {
    match outcome {
        Ok(_) => tally.add("Ok"),
        Err(error) => {
            tally.add(kind(&error));
            let shown = format!("{error} / {error:?}");
            for secret in [ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET] {
                prop_assert!(
                    !shown.contains(secret),
                    "{what}: the error shows a secret: {shown}"
                );
            }
        }
    }
    Ok(())
}

fn rfis() -> &'static ObjectDef {
    catalogue().get("rfis").unwrap()
}

fn project_scope() -> Scoped {
    Scoped {
        company_id: COMPANY_ID,
        project_id: Some(1),
        id: None,
    }
}

// ---------------------------------------------------------------------------------------
// The tests

/// Every public entry point against scripts of hostile answers.
#[test]
fn any_answer_from_procore_gives_ok_or_a_typed_error() {
    let runtime = runtime();
    let tally = Tally::default();
    let calls = AtomicUsize::new(0);
    let mut runner = TestRunner::new(cases(64));
    let started = std::time::Instant::now();
    runner
        .run(&prop::collection::vec(answer(), 1..10), |script| {
            let transport = Scripted::new(script, Answer::not_found());
            let client = within(&runtime, PATIENCE, "a client", client_of(transport.clone()))?;
            // One call of the client's public API, on its own clone, judged.
            macro_rules! call {
                ($what:expr, |$c:ident| $body:expr) => {{
                    let $c = client.clone();
                    let outcome = within(&runtime, PATIENCE, $what, async move { $body })?;
                    check($what, &tally, outcome)?;
                }};
            }
            call!("json /me", |c| c
                .json(&ApiRequest::get("/rest/v1.0/me"))
                .await);
            call!("list_all companies", |c| c
                .list_all(ApiRequest::get("/rest/v1.0/companies"))
                .await);
            call!("list_objects rfis, every page", |c| c
                .list_objects(rfis(), &project_scope(), &ListQuery::default())
                .await);
            call!("list_objects rfis, page 2 of 3", |c| {
                let query = ListQuery {
                    page: Some((2, 3)),
                    ..ListQuery::default()
                };
                c.list_objects(rfis(), &project_scope(), &query).await
            });
            call!("list_objects rfis, filtered and sorted here", |c| {
                let query = ListQuery {
                    filters: vec![Filter {
                        field: "status".into(),
                        op: Operator::Ne,
                        values: vec!["draft".into()],
                    }],
                    search: Some("door".into()),
                    sort: Some(("subject".into(), Direction::Desc)),
                    page: Some((1, 2)),
                    evaluate_locally: true,
                };
                c.list_objects(rfis(), &project_scope(), &query).await
            });
            call!("list_objects folders (not paged)", |c| c
                .list_objects(
                    catalogue().get("folders").unwrap(),
                    &project_scope(),
                    &ListQuery::default()
                )
                .await);
            call!("get_object rfi", |c| c
                .get_object(rfis(), &project_scope(), u64::MAX)
                .await);
            call!("update_object rfi", |c| {
                let attributes = serde_json::Map::from_iter([(
                    "subject".to_string(),
                    Value::from("Door hardware"),
                )]);
                c.update_object(rfis(), &project_scope(), 7, attributes)
                    .await
            });
            let c = client.clone();
            let report = within(&runtime, PATIENCE, "test_connection", async move {
                c.test_connection(|_, _| {}).await
            })?;
            if let Some((_, cause)) = &report.failure {
                let message = cause.message();
                for secret in [ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET] {
                    prop_assert!(!message.contains(secret), "{message}");
                }
            }
            call!("authorize (code exchange)", |c| c.authorize("a-code").await);
            call!("token_info", |c| c
                .authorizer()
                .token_info(&Secret::new(ACCESS_TOKEN))
                .await);
            call!("revoke", |c| c.revoke().await);
            calls.fetch_add(transport.calls.load(Ordering::Relaxed), Ordering::Relaxed);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    println!(
        "hostile Procore answers: 64 scripts of 1-9 answers (any status, bytes, wrong-shaped \
         or cut JSON, absurd headers, hang-ups), {} requests answered in {:.1?}; outcomes: {} \
         — no panic, no hang, no secret in any message",
        calls.load(Ordering::Relaxed),
        started.elapsed(),
        tally.summary()
    );
}

/// A list whose `Total` is absurd, or whose `Link` always says "next", or whose endpoint
/// ignores `page` and answers the same records every time, still ends: a page that brings
/// nothing new (empty, or only records already handed out) is the end of the list.
#[test]
fn lists_end_even_when_procore_says_they_never_do() {
    let runtime = runtime();
    let tally = Tally::default();
    let mut runner = TestRunner::new(cases(48));
    let total = prop_oneof![
        Just(None),
        Just(Some(u64::MAX.to_string())),
        Just(Some(i64::MAX.to_string())),
        Just(Some("1000000000000".to_string())),
        (0u64..100).prop_map(|n| Some(n.to_string())),
    ];
    let per_page = prop_oneof![
        Just(None),
        Just(Some("0".to_string())),
        Just(Some("1".to_string())),
        Just(Some(u64::MAX.to_string())),
        Just(Some("-5".to_string())),
    ];
    let page = prop::collection::vec((0u64..1000).prop_map(|id| json!({ "id": id })), 0..5);
    let strategy = (total, per_page, any::<bool>(), page, any::<bool>());
    let started = std::time::Instant::now();
    runner
        .run(&strategy, |(total, per_page, next, page, then_empty)| {
            let mut headers = Vec::new();
            if let Some(total) = &total {
                headers.push(("total".to_string(), total.clone().into_bytes()));
            }
            if let Some(per_page) = &per_page {
                headers.push(("per-page".to_string(), per_page.clone().into_bytes()));
            }
            if next {
                headers.push((
                    "link".to_string(),
                    b"<https://api.procore.invalid/x?page=9>; rel=\"next\"".to_vec(),
                ));
            }
            let reply = |records: &[Value]| Answer::Reply {
                status: 200,
                headers: headers.clone(),
                body: Value::Array(records.to_vec()).to_string().into_bytes(),
            };
            // The same page for ever, or the page and then empty pages for ever.
            let (script, after) = if then_empty {
                (vec![reply(&page)], reply(&[]))
            } else {
                (Vec::new(), reply(&page))
            };
            let transport = Scripted::new(script, after);
            let client = within(&runtime, PATIENCE, "a client", client_of(transport.clone()))?;
            let what = format!(
                "an endless list (Total {total:?}, Per-Page {per_page:?}, next {next}, \
                 then empty {then_empty})"
            );
            let listed = within(&runtime, PATIENCE, &what, async move {
                client
                    .list_all(ApiRequest::get("/rest/v1.0/companies"))
                    .await
            })?;
            let records = listed.map_err(|e| TestCaseError::fail(format!("{what}: {e}")))?;
            let distinct: std::collections::HashSet<_> =
                page.iter().map(|r| r["id"].as_u64()).collect();
            prop_assert_eq!(records.len(), distinct.len(), "{}: each record once", what);
            let requests = transport.calls.load(Ordering::Relaxed);
            tally.add(&format!("{requests} requests"));
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    println!(
        "endless lists: 48 servers lying with Total/Per-Page/Link or ignoring page, all read \
         to their end in {:.1?}, each record once; requests per list: {}",
        started.elapsed(),
        tally.summary()
    );
}

/// The extremes one by one: each answer once with a 429, 503 or 200, then successes.
/// None may panic (a wait past the clock's range overflows) or hold the client for years.
#[test]
fn absurd_rate_limit_headers_neither_panic_nor_stall() {
    let runtime = runtime();
    let extremes = [
        ("retry-after", u64::MAX.to_string()),
        ("retry-after", i64::MAX.to_string()),
        ("retry-after", "99999999999999999999999".to_string()),
        ("retry-after", "315360000".to_string()),
        ("retry-after", "-1".to_string()),
        ("retry-after", "soon".to_string()),
        ("x-rate-limit-reset", i64::MAX.to_string()),
        ("x-rate-limit-reset", i64::MIN.to_string()),
        ("x-rate-limit-reset", (now() + 315_360_000).to_string()),
        ("x-rate-limit-reset", "-1".to_string()),
        ("x-rate-limit-reset", "later".to_string()),
    ];
    let started = std::time::Instant::now();
    let mut tried = 0;
    for (name, value) in &extremes {
        for status in [429u16, 503, 200] {
            let mut headers = vec![(name.to_string(), value.clone().into_bytes())];
            if *name == "x-rate-limit-reset" {
                headers.push(("x-rate-limit-remaining".into(), b"0".to_vec()));
                headers.push(("x-rate-limit-limit".into(), b"3600".to_vec()));
            }
            let first = Answer::Reply {
                status,
                headers,
                body: b"[]".to_vec(),
            };
            let ok = Answer::Reply {
                status: 200,
                headers: Vec::new(),
                body: b"{\"id\": 1}".to_vec(),
            };
            let transport = Scripted::new(vec![first], ok);
            let what = format!("{status} with {name}: {value}");
            let client = within(&runtime, PATIENCE, &what, client_of(transport))
                .unwrap_or_else(|e| panic!("{e}"));
            for call in 1..=3 {
                let c = client.clone();
                let outcome = within(&runtime, Duration::from_secs(5), &what, async move {
                    c.json(&ApiRequest::get("/rest/v1.0/me")).await
                })
                .unwrap_or_else(|e| panic!("call {call}: {e}"));
                if let Err(e) = outcome {
                    assert!(
                        matches!(e, Error::RateLimited { .. } | Error::Unavailable { .. }),
                        "{what}, call {call}: {e}"
                    );
                }
            }
            tried += 1;
        }
    }
    println!(
        "absurd rate-limit headers: {tried} answers (Retry-After and X-Rate-Limit-Reset of \
         u64::MAX, i64::MAX/MIN, ten years, garbage; each with 429, 503 and 200), 3 calls \
         after each — no panic, no call held over 5 s ({:.1?})",
        started.elapsed()
    );
}

/// A caller's page and limit at the edges of u64 (the REST API and list fields pass pages
/// through): `list_objects` answers without overflowing.
#[test]
fn paging_arithmetic_holds_at_the_edges_of_u64() {
    let runtime = runtime();
    let mut runner = TestRunner::new(cases(64));
    let edge = prop_oneof![
        Just(1u64),
        Just(2u64),
        Just(u64::MAX),
        Just(u64::MAX - 1),
        Just(u64::MAX / 2),
        any::<u64>(),
    ];
    let strategy = (
        edge.clone(),
        edge,
        any::<bool>(),
        prop::option::of(number_text()),
    );
    let tally = Tally::default();
    runner
        .run(&strategy, |(page, limit, locally, total)| {
            let mut headers = Vec::new();
            if let Some(total) = total {
                headers.push(("total".to_string(), total.into_bytes()));
            }
            let records = json!([{ "id": 1, "subject": "a" }, { "id": 2, "subject": "b" }]);
            let list = Answer::Reply {
                status: 200,
                headers,
                body: records.to_string().into_bytes(),
            };
            let empty = Answer::Reply {
                status: 200,
                headers: Vec::new(),
                body: b"[]".to_vec(),
            };
            let client = within(
                &runtime,
                PATIENCE,
                "a client",
                client_of(Scripted::new(vec![list], empty)),
            )?;
            let what = format!("page {page} of {limit} (here: {locally})");
            let outcome = within(&runtime, PATIENCE, &what, async move {
                let query = ListQuery {
                    page: Some((page, limit)),
                    evaluate_locally: locally,
                    sort: locally.then(|| ("subject".to_string(), Direction::Asc)),
                    ..ListQuery::default()
                };
                client.list_objects(rfis(), &project_scope(), &query).await
            })?;
            check(&what, &tally, outcome)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    println!(
        "paging at the edges of u64: 64 (page, limit) pairs incl. u64::MAX, read by Procore \
         and here — no overflow; outcomes: {}",
        tally.summary()
    );
}

/// A request longer than HTTP can carry (a search of tens of kilobytes) is the caller's
/// mistake: refused at once as a bad request, not sent, retried and blamed on the network.
#[test]
fn a_request_too_long_for_http_is_refused_before_it_is_sent() {
    let runtime = runtime();
    let transport = Scripted::new(Vec::new(), Answer::not_found());
    let client = within(&runtime, PATIENCE, "a client", client_of(transport.clone()))
        .unwrap_or_else(|e| panic!("{e}"));
    let started = std::time::Instant::now();
    let outcome = within(&runtime, PATIENCE, "a 70 KB search", async move {
        let query = ListQuery {
            search: Some("é".repeat(35_000)),
            ..ListQuery::default()
        };
        client.list_objects(rfis(), &project_scope(), &query).await
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let elapsed = started.elapsed();
    assert!(
        matches!(outcome, Err(Error::BadRequest { .. })),
        "{outcome:?}"
    );
    assert_eq!(transport.calls.load(Ordering::Relaxed), 0, "nothing sent");
    println!(
        "a 70 KB search: refused as a bad request in {elapsed:.1?} without a request sent \
         (was: a transport error after 3 retries)"
    );
}
