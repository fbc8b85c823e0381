//! Personal API tokens: created in the app, shown once, stored hashed, revocable.
//!
//! A token is `trestle_pat_` and 32 random bytes in URL-safe base64. Only its SHA-256 is
//! stored (with the first few characters, so its owner can tell tokens apart), so a copy
//! of the database opens nothing. A token acts for its owner with the owner's rights as
//! they are at each request: deactivating the person stops their tokens at once.

use chrono::{DateTime, Duration, Utc};
use http::HeaderMap;
use http::header::AUTHORIZATION;

use super::AppState;
use super::crypto::{random_token, token_hash};
use crate::api::api_tokens::{ApiToken, IssuedToken};
use crate::error::AppError;
use crate::model::{SessionUser, is_record_key, validate_name};

/// Every token starts with this, so scanners and people recognise one.
pub const TOKEN_PREFIX: &str = "trestle_pat_";
/// 32 bytes in URL-safe base64 without padding.
const SECRET_CHARS: usize = 43;
/// Characters of the random part kept for display: far too few to guess the rest.
const SHOWN_CHARS: usize = 4;
/// `last_used_at` is written at most this often per token, not on every request.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// A new token, as its owner sees it once.
pub fn generate() -> String {
    format!("{TOKEN_PREFIX}{}", random_token())
}

/// Whether `text` has the shape of a token (checked before any database lookup).
pub fn well_formed(text: &str) -> bool {
    text.strip_prefix(TOKEN_PREFIX).is_some_and(|secret| {
        secret.len() == SECRET_CHARS
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// What is stored to find a token again.
pub fn hash(token: &str) -> String {
    token_hash(token)
}

/// The part of a token shown in lists: `trestle_pat_AbCd`.
pub fn display_prefix(token: &str) -> String {
    token
        .chars()
        .take(TOKEN_PREFIX.len() + SHOWN_CHARS)
        .collect()
}

/// Why a request was not authenticated; each is a 401 for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerError {
    /// No `Authorization` header.
    Missing,
    /// An `Authorization` header that is not `Bearer <token>`, or not a Trestle token.
    Malformed,
    /// Well formed, but unknown, revoked, or its owner is deactivated.
    Invalid,
}

/// The token of an `Authorization: Bearer …` header. The scheme is case-insensitive
/// (RFC 9110); the token is not.
pub fn bearer(headers: &HeaderMap) -> Result<&str, BearerError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(if headers.contains_key(AUTHORIZATION) {
            BearerError::Malformed
        } else {
            BearerError::Missing
        });
    };
    let value = value.to_str().map_err(|_| BearerError::Malformed)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(BearerError::Malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || !well_formed(token) {
        return Err(BearerError::Malformed);
    }
    Ok(token)
}

/// Why [`authenticate`] found nobody: the caller's token, or the server.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthError {
    Bearer(BearerError),
    Server(AppError),
}

impl From<BearerError> for AuthError {
    fn from(err: BearerError) -> Self {
        AuthError::Bearer(err)
    }
}

/// The person a request's bearer token acts for.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Result<SessionUser, AuthError> {
    let token = bearer(headers)?;
    let found = state
        .store
        .api_token_by_hash(&hash(token))
        .await
        .map_err(|e| AuthError::Server(e.into()))?
        .ok_or(BearerError::Invalid)?;
    if !found.owner.active {
        return Err(BearerError::Invalid.into());
    }
    if found
        .last_used_at
        .is_none_or(|last| now - last >= TOUCH_EVERY)
    {
        // Losing this write loses only a timestamp: the request goes on.
        if let Err(e) = state.store.touch_api_token(&found.token_id, now).await {
            tracing::warn!(error = %e, "could not record an API token's use");
        }
    }
    Ok(found.owner.into())
}

/// Tokens belong to a person; one who must still replace a one-time password manages none.
fn may_manage(user: &SessionUser) -> Result<(), AppError> {
    if user.must_change_password {
        Err(AppError::Forbidden)
    } else {
        Ok(())
    }
}

pub async fn list(state: &AppState, user: &SessionUser) -> Result<Vec<ApiToken>, AppError> {
    may_manage(user)?;
    Ok(state.store.list_api_tokens(&user.id).await?)
}

pub async fn create(
    state: &AppState,
    user: &SessionUser,
    name: &str,
) -> Result<IssuedToken, AppError> {
    may_manage(user)?;
    let name = validate_name("name", name, 100)?;
    let secret = generate();
    let token = state
        .store
        .create_api_token(&user.id, &name, &hash(&secret), &display_prefix(&secret))
        .await?;
    tracing::info!(user = %user.id, token = %token.id, "API token created");
    Ok(IssuedToken { token, secret })
}

pub async fn revoke(state: &AppState, user: &SessionUser, id: &str) -> Result<(), AppError> {
    may_manage(user)?;
    let not_found = || AppError::NotFound("API token".into());
    if !is_record_key(id) {
        return Err(not_found());
    }
    if !state.store.delete_api_token(&user.id, id).await? {
        return Err(not_found());
    }
    tracing::info!(user = %user.id, token = %id, "API token revoked");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(AUTHORIZATION, value.parse().unwrap());
        map
    }

    #[test]
    fn new_tokens_are_well_formed_and_different() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        for token in [&a, &b] {
            assert!(token.starts_with(TOKEN_PREFIX));
            assert_eq!(token.len(), TOKEN_PREFIX.len() + SECRET_CHARS);
            assert!(well_formed(token), "{token}");
        }
    }

    #[test]
    fn only_the_hash_and_a_short_prefix_are_kept() {
        let token = generate();
        let stored = hash(&token);
        assert_eq!(stored.len(), 43, "SHA-256 in URL-safe base64");
        assert_eq!(stored, hash(&token), "the same token finds the same row");
        assert_ne!(stored, hash(&generate()));
        assert!(!stored.contains(&token[TOKEN_PREFIX.len()..]));
        let shown = display_prefix(&token);
        assert_eq!(shown.len(), TOKEN_PREFIX.len() + SHOWN_CHARS);
        assert!(token.starts_with(&shown));
    }

    #[test]
    fn malformed_tokens_are_refused_before_any_lookup() {
        let token = generate();
        assert!(!well_formed(&token[..token.len() - 1]), "too short");
        assert!(!well_formed(&format!("{token}A")), "too long");
        assert!(!well_formed(&token.replace(TOKEN_PREFIX, "other_pat_")));
        let mut bad = token.clone();
        bad.replace_range(TOKEN_PREFIX.len()..TOKEN_PREFIX.len() + 1, "+");
        assert!(!well_formed(&bad), "not URL-safe base64");
        assert!(!well_formed(""));
    }

    #[test]
    fn the_bearer_scheme_carries_the_token() {
        let token = generate();
        assert_eq!(
            bearer(&headers(&format!("Bearer {token}"))),
            Ok(token.as_str())
        );
        assert_eq!(
            bearer(&headers(&format!("bearer  {token} "))),
            Ok(token.as_str())
        );
        assert_eq!(bearer(&HeaderMap::new()), Err(BearerError::Missing));
        for bad in [
            format!("Basic {token}"),
            format!("Bearer{token}"),
            "Bearer".to_string(),
            "Bearer not-a-token".to_string(),
            token.clone(),
        ] {
            assert_eq!(bearer(&headers(&bad)), Err(BearerError::Malformed), "{bad}");
        }
        let mut twice = headers(&format!("Bearer {token}"));
        twice.append(AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
        assert_eq!(bearer(&twice), Err(BearerError::Malformed));
    }

    mod with_store {
        use super::super::*;
        use crate::model::{Role, UserDraft};

        async fn state_with_person() -> (AppState, SessionUser) {
            let state = AppState::for_tests().await;
            let draft = UserDraft {
                email: "ann@example.com".into(),
                name: "Ann".into(),
                roles: vec![Role::Designer],
            };
            let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
            let user = state.store.create_user(&draft, hash, false).await.unwrap();
            (state, user.into())
        }

        fn bearer_headers(token: &str) -> HeaderMap {
            let mut map = HeaderMap::new();
            map.insert(AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
            map
        }

        #[tokio::test]
        async fn a_token_acts_for_its_owner_until_revoked_or_deactivated() {
            let (state, ann) = state_with_person().await;
            let issued = create(&state, &ann, "  Nightly export ").await.unwrap();
            assert_eq!(issued.token.name, "Nightly export");
            assert!(issued.secret.starts_with(&issued.token.prefix));

            let now = Utc::now();
            let headers = bearer_headers(&issued.secret);
            let user = authenticate(&state, &headers, now).await.unwrap();
            assert_eq!(user.id, ann.id);
            assert_eq!(user.roles, vec![Role::Designer]);
            let listed = list(&state, &ann).await.unwrap();
            assert!(listed[0].last_used_at.is_some(), "the use is recorded");

            let unknown = bearer_headers(&generate());
            assert_eq!(
                authenticate(&state, &unknown, now).await.unwrap_err(),
                AuthError::Bearer(BearerError::Invalid)
            );

            state.store.set_user_active(&ann.id, false).await.unwrap();
            assert_eq!(
                authenticate(&state, &headers, now).await.unwrap_err(),
                AuthError::Bearer(BearerError::Invalid)
            );
            state.store.set_user_active(&ann.id, true).await.unwrap();
            assert!(authenticate(&state, &headers, now).await.is_ok());

            revoke(&state, &ann, &issued.token.id).await.unwrap();
            assert_eq!(
                authenticate(&state, &headers, now).await.unwrap_err(),
                AuthError::Bearer(BearerError::Invalid)
            );
            assert_eq!(
                revoke(&state, &ann, &issued.token.id).await.unwrap_err(),
                AppError::NotFound("API token".into())
            );
        }

        #[tokio::test]
        async fn names_are_required_and_one_time_passwords_manage_nothing() {
            let (state, ann) = state_with_person().await;
            let err = create(&state, &ann, "   ").await.unwrap_err();
            assert_eq!(err.field(), Some("name"));
            let pending = SessionUser {
                must_change_password: true,
                ..ann
            };
            assert_eq!(
                create(&state, &pending, "CI").await.unwrap_err(),
                AppError::Forbidden
            );
            assert_eq!(
                list(&state, &pending).await.unwrap_err(),
                AppError::Forbidden
            );
        }
    }
}
