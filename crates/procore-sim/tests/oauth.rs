//! The simulator's OAuth over real HTTP, rule by rule (procore-api.md §1).

mod common;

use common::*;

use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn authorization_code_round_trip() {
    let sim = Sim::start().await;
    let code = sim.code("xyz 1/2").await;
    let response = sim.exchange(&code).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: Value = response.json().await.unwrap();
    let keys: Vec<&str> = tokens
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 5, "exactly Procore's five fields: {tokens}");
    assert_eq!(tokens["token_type"], "bearer");
    assert_eq!(tokens["expires_in"], 5400);
    assert!(tokens["created_at"].as_i64().unwrap() > 1_600_000_000);

    let again = sim.exchange(&code).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        again.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );

    let access = tokens["access_token"].as_str().unwrap();
    let me: Value = sim.me(SANDBOX, access, "").await.json().await.unwrap();
    assert_eq!(
        me,
        json!({ "id": 4201001, "login": "sandbox+arch@example.com" })
    );
    let named: Value = sim
        .me(SANDBOX, access, "?company_id=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(named["name"], "Test Architect");

    let info: Value = sim
        .http
        .get(sim.url(SANDBOX, "/oauth/token/info"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["resource_owner_id"], 4201001);
    assert_eq!(info["application"]["uid"], SANDBOX_ID);
    assert_eq!(info["scopes"], json!([]));
    assert!(info["expires_in_seconds"].as_i64().unwrap() <= 5400);
}

#[tokio::test]
async fn denial_and_bad_requests() {
    let sim = Sim::start().await;
    let denied = sim.consent(SANDBOX, SANDBOX_ID, "st", false).await;
    assert_eq!(query(&denied, "error").as_deref(), Some("access_denied"));
    assert_eq!(query(&denied, "state").as_deref(), Some("st"));

    // An unregistered (even slightly different) redirect URI gets an error page, never a redirect.
    let sloppy = sim
        .http
        .get(sim.authorize_url(
            SANDBOX,
            SANDBOX_ID,
            "http://127.0.0.1:9/oauth/callback/",
            "s",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(sloppy.status(), StatusCode::BAD_REQUEST);
    assert!(sloppy.headers().get("location").is_none());

    let wrong_client = sim
        .http
        .get(sim.authorize_url(SANDBOX, "nobody", REDIRECT, "s"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_client.status(), StatusCode::BAD_REQUEST);

    let bad_password = sim
        .http
        .post(sim.url(SANDBOX, "/oauth/authorize"))
        .form(&[
            ("step", "login"),
            ("response_type", "code"),
            ("client_id", SANDBOX_ID),
            ("redirect_uri", REDIRECT),
            ("email", "sandbox+arch@example.com"),
            ("password", "nope"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad_password.status(), StatusCode::UNAUTHORIZED);
    assert!(
        bad_password
            .text()
            .await
            .unwrap()
            .contains("Invalid email or password.")
    );

    let token_url = sim.url(SANDBOX, "/oauth/token");
    let unsupported = sim
        .http
        .post(&token_url)
        .form(&[
            ("grant_type", "password"),
            ("client_id", SANDBOX_ID),
            ("client_secret", SANDBOX_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(unsupported.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        unsupported.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );

    let bad_secret = sim
        .http
        .post(&token_url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", SANDBOX_ID),
            ("client_secret", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad_secret.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        bad_secret.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );

    let no_grant = sim
        .http
        .post(&token_url)
        .form(&[("client_id", SANDBOX_ID), ("client_secret", SANDBOX_SECRET)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        no_grant.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
}

#[tokio::test]
async fn token_endpoint_accepts_every_encoding_and_basic_auth() {
    let sim = Sim::start().await;
    let token_url = sim.url(SANDBOX, "/oauth/token");

    let basic = sim
        .http
        .post(&token_url)
        .basic_auth(SANDBOX_ID, Some(SANDBOX_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::OK);
    let body: Value = basic.json().await.unwrap();
    assert!(
        body.get("refresh_token").is_none(),
        "client credentials get no refresh token"
    );

    let code = sim.code("m").await;
    let multipart = reqwest::multipart::Form::new()
        .text("grant_type", "authorization_code")
        .text("client_id", SANDBOX_ID)
        .text("client_secret", SANDBOX_SECRET)
        .text("code", code);
    let response = sim
        .http
        .post(&token_url)
        .multipart(multipart)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let refresh = response.json::<Value>().await.unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();

    // urlencoded, trailing slash, no redirect_uri on refresh.
    let rotated = sim.refresh_form(&refresh, SANDBOX_SECRET).await;
    assert_eq!(rotated.status(), StatusCode::OK);
}

#[tokio::test]
async fn refresh_rotates_and_a_failed_refresh_consumes_the_token() {
    let sim = Sim::start().await;
    let first = sim.tokens().await;
    let old = first["refresh_token"].as_str().unwrap();
    let second: Value = sim
        .refresh_form(old, SANDBOX_SECRET)
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_ne!(second["access_token"], first["access_token"]);
    let reused = sim.refresh_form(old, SANDBOX_SECRET).await;
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        reused.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );

    let current = second["refresh_token"].as_str().unwrap();
    let wrong_secret = sim.refresh_form(current, "not-the-secret").await;
    assert_eq!(wrong_secret.status(), StatusCode::UNAUTHORIZED);
    let after = sim.refresh_form(current, SANDBOX_SECRET).await;
    assert_eq!(
        after.status(),
        StatusCode::BAD_REQUEST,
        "the failed call used the refresh token up"
    );

    let counters = sim.sim.counters();
    assert_eq!(counters.refreshes, 1);
    assert_eq!(counters.failed_refreshes, 3);
}

#[tokio::test]
async fn tokens_and_credentials_never_cross_environments() {
    let sim = Sim::start().await;
    let tokens = sim.tokens().await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(sim.me(SANDBOX, access, "").await.status(), StatusCode::OK);
    for other in ["live", "monthly-sandbox"] {
        let response = sim.me(other, access, "").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{other}");
        assert_eq!(
            response.json::<Value>().await.unwrap()["errors"],
            "The access token is invalid"
        );
    }
    let sandbox_pair_at_live = sim
        .http
        .post(sim.url("live", "/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", SANDBOX_ID),
            ("client_secret", SANDBOX_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(sandbox_pair_at_live.status(), StatusCode::UNAUTHORIZED);
    // Live and Monthly Sandbox share the production pair.
    for env in ["live", "monthly-sandbox"] {
        let ok = sim
            .http
            .post(sim.url(env, "/oauth/token"))
            .basic_auth("trestle-production", Some("production-secret"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK, "{env}");
    }
}

#[tokio::test]
async fn revoke_always_answers_200_and_kills_both_tokens() {
    let sim = Sim::start().await;
    let tokens = sim.tokens().await;
    let access = tokens["access_token"].as_str().unwrap();
    let revoke = |token: String| {
        sim.http
            .post(sim.url(SANDBOX, "/oauth/revoke"))
            .form(&[
                ("token", token),
                ("client_id", SANDBOX_ID.into()),
                ("client_secret", SANDBOX_SECRET.into()),
            ])
            .send()
    };
    let response = revoke(access.to_string()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({}));
    assert_eq!(
        sim.me(SANDBOX, access, "").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(
        sim.refresh_form(refresh, SANDBOX_SECRET).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        revoke("never-issued".into()).await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn access_tokens_expire_and_all_can_be_revoked() {
    let sim = Sim::start().await;
    sim.sim.update_config(|c| c.access_token_ttl = 1);
    let tokens = sim.tokens().await;
    assert_eq!(tokens["expires_in"], 1);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        sim.me(SANDBOX, access, "").await.status(),
        StatusCode::UNAUTHORIZED
    );

    sim.sim.update_config(|c| c.access_token_ttl = 5400);
    let fresh = sim.tokens().await;
    sim.sim.revoke_all_tokens();
    let access = fresh["access_token"].as_str().unwrap();
    assert_eq!(
        sim.me(SANDBOX, access, "").await.status(),
        StatusCode::UNAUTHORIZED
    );
}
