//! Sign-in, sessions and the first administrator. The server functions in
//! [`crate::api`] are thin wrappers around these.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use http::HeaderMap;
use http::header::COOKIE;

use super::crypto::{one_time_password, random_token, token_hash};
use super::password;
use super::state::AppState;
use super::store::{Store, Throttle};
use crate::error::AppError;
use crate::model::{Role, SessionUser, UserDraft, normalize_email};

pub const SESSION_COOKIE: &str = "trestle_session";

/// Failures allowed before an address is locked, within [`FAILURE_WINDOW`].
pub const FREE_FAILURES: i64 = 5;
const FAILURE_WINDOW: Duration = Duration::minutes(15);
const FIRST_LOCK: Duration = Duration::seconds(30);
const LONGEST_LOCK: Duration = Duration::minutes(15);

/// How long an address stays locked after `failures` failures in a row: nothing for the
/// first few typos, then 30 s doubling up to 15 min, so guessing gets slow fast.
pub fn lock_after(failures: i64) -> Option<Duration> {
    if failures < FREE_FAILURES {
        return None;
    }
    let doublings = (failures - FREE_FAILURES).min(10) as i32;
    Some((FIRST_LOCK * 2i32.pow(doublings as u32)).min(LONGEST_LOCK))
}

/// The counter after one more failure at `now`; an old streak starts over.
pub fn after_failure(previous: Option<Throttle>, now: DateTime<Utc>) -> Throttle {
    let failures = match previous {
        Some(p) if now - p.last_failure_at < FAILURE_WINDOW => p.failures + 1,
        _ => 1,
    };
    Throttle {
        failures,
        last_failure_at: now,
        locked_until: lock_after(failures).map(|d| now + d),
    }
}

fn locked_message(until: DateTime<Utc>, now: DateTime<Utc>) -> AppError {
    let secs = (until - now).num_seconds().max(1) as u64;
    let wait = if secs < 90 {
        format!("{secs} seconds")
    } else {
        format!("{} minutes", secs.div_ceil(60))
    };
    AppError::TooManyRequests {
        message: format!("Too many failed sign-ins for this e-mail address. Try again in {wait}."),
        retry_after_secs: secs,
    }
}

const WRONG_CREDENTIALS: &str = "E-mail or password is incorrect.";

/// Checks the password and opens a session; returns the cookie token.
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<(String, SessionUser), AppError> {
    // A malformed address cannot belong to anyone; answer as for a wrong password.
    let Ok(email) = normalize_email(email) else {
        return Err(AppError::invalid("email", WRONG_CREDENTIALS));
    };
    let store = &state.store;
    let throttle = store.throttle(&email).await?;
    if let Some(until) = throttle.as_ref().and_then(|t| t.locked_until)
        && until > now
    {
        return Err(locked_message(until, now));
    }
    let credentials = store.credentials(&email).await?;
    let ok = password::verify(
        password.to_string(),
        credentials.as_ref().map(|c| c.password_hash.clone()),
    )
    .await;
    let user = match credentials {
        Some(c) if ok && c.user.active => c.user,
        Some(c) if ok => {
            tracing::info!(user = %c.user.id, "sign-in refused: account deactivated");
            return Err(AppError::invalid(
                "email",
                "This account has been deactivated. Ask an administrator to reactivate it.",
            ));
        }
        _ => {
            let next = after_failure(throttle, now);
            let locked = next.locked_until;
            store.save_throttle(&email, next).await?;
            tracing::info!("sign-in failed");
            return Err(match locked {
                Some(until) => locked_message(until, now),
                None => AppError::invalid("password", WRONG_CREDENTIALS),
            });
        }
    };
    if throttle.is_some() {
        store.clear_throttle(&email).await?;
    }
    let token = open_session(state, &user.id, now).await?;
    tracing::info!(user = %user.id, "signed in");
    Ok((token, user.into()))
}

/// Starts a session for `user_id`; returns the token for the cookie.
pub async fn open_session(
    state: &AppState,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let token = random_token();
    state
        .store
        .create_session(
            &token_hash(&token),
            user_id,
            now,
            now + state.session_idle(),
        )
        .await?;
    Ok(token)
}

/// The session token in a request's cookies, if any.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The signed-in person for a session token, extending the session when it is past half
/// its idle time (so an active person stays signed in without a write per request).
pub async fn resolve(
    state: &AppState,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<SessionUser>, AppError> {
    let hash = token_hash(token);
    let Some(record) = state.store.session(&hash).await? else {
        return Ok(None);
    };
    if record.expires_at <= now || !record.user_active {
        state.store.delete_session(&hash).await?;
        return Ok(None);
    }
    let idle = state.session_idle();
    if record.expires_at - now < idle / 2 {
        state.store.extend_session(&hash, now + idle).await?;
    }
    Ok(Some(record.user))
}

pub async fn sign_out(state: &AppState, token: &str) -> Result<(), AppError> {
    state.store.delete_session(&token_hash(token)).await?;
    Ok(())
}

pub fn session_cookie(token: &str, secure: bool) -> String {
    // No Max-Age: the server decides when a session ends, and closing the browser ends it too.
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}")
}

pub fn cleared_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

/// Creates the first administrator when there is nobody yet. Returns the one-time password
/// when one had to be generated, so the caller can print it.
pub async fn bootstrap_admin(
    store: &Store,
    admin: &super::config::AdminBootstrap,
) -> Result<Option<String>, AppError> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let (password, generated) = match &admin.password {
        Some(p) => (p.expose().to_string(), None),
        None => {
            let p = one_time_password();
            (p.clone(), Some(p))
        }
    };
    let draft = UserDraft {
        email: admin.email.clone(),
        name: admin.name.clone(),
        roles: vec![Role::Administrator],
    }
    .validated()?;
    let hash = password::hash(password).await?;
    match store.create_user(&draft, &hash, generated.is_some()).await {
        Ok(_) => Ok(generated),
        // Another server sharing the database created it first.
        Err(super::store::StoreError::Conflict(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Deletes expired sessions now and then, so the table does not grow without bound.
pub fn spawn_session_sweeper(store: Store) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) = store.delete_expired_sessions(Utc::now()).await {
                tracing::warn!(error = %e, "could not delete expired sessions");
            }
        }
    })
}

/// Per-request cache of the session lookup: several server functions in one page render
/// ask who is signed in, and the database should be asked once.
#[derive(Clone, Default)]
pub struct RequestSession(Arc<tokio::sync::OnceCell<Option<SessionUser>>>);

impl RequestSession {
    pub async fn get_or_resolve(
        &self,
        state: &AppState,
        headers: &HeaderMap,
    ) -> Result<Option<SessionUser>, AppError> {
        self.0
            .get_or_try_init(|| async {
                match session_token(headers) {
                    Some(token) => resolve(state, &token, Utc::now()).await,
                    None => Ok(None),
                }
            })
            .await
            .cloned()
    }

    /// The answer, if the session was looked up (successfully) already.
    pub fn resolved(&self) -> Option<Option<SessionUser>> {
        self.0.get().cloned()
    }

    /// Forget the cached answer after signing in or out within this request.
    pub fn reset(&mut self) {
        self.0 = Arc::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_grow_after_the_free_failures() {
        assert_eq!(lock_after(4), None);
        assert_eq!(lock_after(5), Some(Duration::seconds(30)));
        assert_eq!(lock_after(6), Some(Duration::seconds(60)));
        assert_eq!(lock_after(8), Some(Duration::seconds(240)));
        assert_eq!(lock_after(100), Some(Duration::minutes(15)));
    }

    #[test]
    fn an_old_streak_starts_over() {
        let now = Utc::now();
        let recent = Throttle {
            failures: 4,
            last_failure_at: now - Duration::minutes(1),
            locked_until: None,
        };
        let next = after_failure(Some(recent.clone()), now);
        assert_eq!(next.failures, 5);
        assert_eq!(next.locked_until, Some(now + Duration::seconds(30)));

        let old = Throttle {
            last_failure_at: now - Duration::hours(1),
            ..recent
        };
        let next = after_failure(Some(old), now);
        assert_eq!(next.failures, 1);
        assert_eq!(next.locked_until, None);
    }

    #[test]
    fn finds_the_session_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            "a=1; trestle_session=tok-en_1; b=2".parse().unwrap(),
        );
        assert_eq!(session_token(&headers).as_deref(), Some("tok-en_1"));
        headers.insert(COOKIE, "trestle_session=".parse().unwrap());
        assert_eq!(session_token(&headers), None);
        assert_eq!(session_token(&HeaderMap::new()), None);
    }

    #[test]
    fn cookies_are_http_only_and_same_site() {
        let c = session_cookie("abc", false);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && !c.contains("Secure"));
        assert!(session_cookie("abc", true).contains("; Secure"));
        assert!(cleared_cookie(false).contains("Max-Age=0"));
    }

    mod sessions {
        use super::super::*;
        use crate::model::UserDraft;

        async fn state_with_user() -> (AppState, String) {
            let state = AppState::for_tests().await;
            let hash = password::hash("a password 123".into()).await.unwrap();
            let draft = UserDraft {
                email: "ann@example.com".into(),
                name: "Ann".into(),
                roles: vec![Role::User],
            };
            let user = state.store.create_user(&draft, &hash, false).await.unwrap();
            (state, user.id)
        }

        #[tokio::test]
        async fn expired_sessions_are_refused_and_removed() {
            let (state, id) = state_with_user().await;
            let now = Utc::now();
            let token = open_session(&state, &id, now).await.unwrap();
            let user = resolve(&state, &token, now + Duration::minutes(1))
                .await
                .unwrap();
            assert_eq!(user.map(|u| u.id), Some(id));

            let later = now + state.session_idle() + Duration::seconds(1);
            assert!(resolve(&state, &token, later).await.unwrap().is_none());
            // Gone from the store, not just refused once.
            assert!(resolve(&state, &token, now).await.unwrap().is_none());
        }

        #[tokio::test]
        async fn activity_keeps_a_session_alive() {
            let (state, id) = state_with_user().await;
            let idle = state.session_idle();
            let now = Utc::now();
            let token = open_session(&state, &id, now).await.unwrap();
            assert!(
                resolve(&state, &token, now + idle * 3 / 4)
                    .await
                    .unwrap()
                    .is_some()
            );
            // Past the original expiry, but within an idle period of the last use.
            assert!(
                resolve(&state, &token, now + idle * 3 / 2)
                    .await
                    .unwrap()
                    .is_some()
            );
        }

        #[tokio::test]
        async fn deactivation_ends_sessions_and_sign_in() {
            let (state, id) = state_with_user().await;
            let now = Utc::now();
            let (token, _) = sign_in(&state, "ANN@example.com", "a password 123", now)
                .await
                .unwrap();
            state.store.set_user_active(&id, false).await.unwrap();
            assert!(resolve(&state, &token, now).await.unwrap().is_none());
            let err = sign_in(&state, "ann@example.com", "a password 123", now)
                .await
                .unwrap_err();
            assert!(err.to_string().contains("deactivated"), "{err}");
        }

        #[tokio::test]
        async fn unknown_tokens_resolve_to_nobody() {
            let (state, _) = state_with_user().await;
            assert!(
                resolve(&state, "made-up", Utc::now())
                    .await
                    .unwrap()
                    .is_none()
            );
        }

        #[tokio::test]
        async fn the_first_administrator_is_created_once() {
            let state = AppState::for_tests().await;
            let admin = crate::server::config::AdminBootstrap {
                email: "boss@example.com".into(),
                name: "Boss".into(),
                password: None,
            };
            let otp = bootstrap_admin(&state.store, &admin)
                .await
                .unwrap()
                .expect("generated");
            assert!(
                bootstrap_admin(&state.store, &admin)
                    .await
                    .unwrap()
                    .is_none()
            );
            let (_, user) = sign_in(&state, "boss@example.com", &otp, Utc::now())
                .await
                .unwrap();
            assert!(user.is_admin());
            assert!(
                user.must_change_password,
                "a printed password is single-use"
            );
        }
    }
}
