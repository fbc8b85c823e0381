//! Authorization codes and tokens of one environment, with Procore's rules: codes are
//! single-use for ten minutes; every refresh rotates both tokens and consumes the old
//! refresh token even when the refresh fails; revoking kills access and refresh together.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::Serialize;

pub const CODE_LIFETIME_SECS: i64 = 600;

fn random(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// An opaque one-off value (consent tickets).
pub(crate) fn random_ticket() -> String {
    random(24)
}

/// The body of a successful `/oauth/token` call, field for field as Procore sends it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub created_at: i64,
}

/// Why a grant was refused; maps to RFC 6749 error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantError {
    InvalidGrant,
}

#[derive(Debug, Clone)]
struct Code {
    client_id: String,
    redirect_uri: String,
    user_id: u64,
    expires_at: i64,
}

#[derive(Debug, Clone)]
pub struct AccessToken {
    pub client_id: String,
    /// `None` for client-credentials tokens, which act as the app itself.
    pub user_id: Option<u64>,
    pub created_at: i64,
    pub expires_in: i64,
    refresh_token: Option<String>,
}

impl AccessToken {
    pub fn expires_at(&self) -> i64 {
        self.created_at + self.expires_in
    }
}

#[derive(Debug, Clone)]
struct RefreshToken {
    client_id: String,
    user_id: u64,
    access_token: String,
}

#[derive(Debug, Default)]
pub struct Tokens {
    codes: HashMap<String, Code>,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
    /// Every token handed out, dead or alive: what must never show up elsewhere.
    issued: Vec<String>,
}

impl Tokens {
    pub fn issue_code(
        &mut self,
        client_id: &str,
        redirect_uri: &str,
        user_id: u64,
        now: i64,
    ) -> String {
        let code = random(24);
        self.codes.insert(
            code.clone(),
            Code {
                client_id: client_id.to_string(),
                redirect_uri: redirect_uri.to_string(),
                user_id,
                expires_at: now + CODE_LIFETIME_SECS,
            },
        );
        code
    }

    /// Exchanges a code. The code is gone after the first attempt, right or wrong.
    pub fn exchange_code(
        &mut self,
        code: &str,
        client_id: &str,
        redirect_uri: Option<&str>,
        now: i64,
        ttl: i64,
    ) -> Result<TokenResponse, GrantError> {
        let entry = self.codes.remove(code).ok_or(GrantError::InvalidGrant)?;
        let redirect_ok = redirect_uri.is_none_or(|uri| uri == entry.redirect_uri);
        if entry.client_id != client_id || entry.expires_at <= now || !redirect_ok {
            return Err(GrantError::InvalidGrant);
        }
        Ok(self.issue(client_id, Some(entry.user_id), now, ttl))
    }

    /// Rotates a refresh token. It is consumed first, so a failed refresh also ends it.
    pub fn refresh(
        &mut self,
        refresh_token: &str,
        client_id: &str,
        now: i64,
        ttl: i64,
    ) -> Result<TokenResponse, GrantError> {
        let entry = self
            .refresh
            .remove(refresh_token)
            .ok_or(GrantError::InvalidGrant)?;
        if let Some(access) = self.access.get_mut(&entry.access_token) {
            access.refresh_token = None;
        }
        if entry.client_id != client_id {
            return Err(GrantError::InvalidGrant);
        }
        Ok(self.issue(client_id, Some(entry.user_id), now, ttl))
    }

    pub fn client_credentials(&mut self, client_id: &str, now: i64, ttl: i64) -> TokenResponse {
        self.issue(client_id, None, now, ttl)
    }

    fn issue(
        &mut self,
        client_id: &str,
        user_id: Option<u64>,
        now: i64,
        ttl: i64,
    ) -> TokenResponse {
        let access_token = random(32);
        let refresh_token = user_id.map(|user_id| {
            let token = random(32);
            self.refresh.insert(
                token.clone(),
                RefreshToken {
                    client_id: client_id.to_string(),
                    user_id,
                    access_token: access_token.clone(),
                },
            );
            token
        });
        self.access.insert(
            access_token.clone(),
            AccessToken {
                client_id: client_id.to_string(),
                user_id,
                created_at: now,
                expires_in: ttl,
                refresh_token: refresh_token.clone(),
            },
        );
        self.issued.push(access_token.clone());
        self.issued.extend(refresh_token.clone());
        TokenResponse {
            access_token,
            token_type: "bearer",
            expires_in: ttl,
            refresh_token,
            created_at: now,
        }
    }

    /// Every access and refresh token issued so far.
    pub fn issued(&self) -> &[String] {
        &self.issued
    }

    /// A live access token, or `None` (unknown, revoked or expired).
    pub fn access(&self, token: &str, now: i64) -> Option<&AccessToken> {
        self.access.get(token).filter(|t| t.expires_at() > now)
    }

    /// Revokes an access or refresh token together with its partner. Unknown tokens are
    /// ignored: revoke always succeeds.
    pub fn revoke(&mut self, token: &str) {
        if let Some(access) = self.access.remove(token) {
            if let Some(refresh) = access.refresh_token {
                self.refresh.remove(&refresh);
            }
        } else if let Some(refresh) = self.refresh.remove(token) {
            self.access.remove(&refresh.access_token);
        }
    }

    /// Every token of every client: the "revoke all tokens" fault.
    pub fn revoke_all(&mut self) {
        self.access.clear();
        self.refresh.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn code(tokens: &mut Tokens) -> String {
        tokens.issue_code("app", "http://cb", 7, NOW)
    }

    #[test]
    fn codes_are_single_use_and_expire() {
        let mut t = Tokens::default();
        let c = code(&mut t);
        let tokens = t
            .exchange_code(&c, "app", Some("http://cb"), NOW + 1, 5400)
            .unwrap();
        assert_eq!(tokens.token_type, "bearer");
        assert!(tokens.refresh_token.is_some());
        assert_eq!(
            t.exchange_code(&c, "app", None, NOW + 2, 5400),
            Err(GrantError::InvalidGrant)
        );

        let late = code(&mut t);
        assert!(
            t.exchange_code(&late, "app", None, NOW + CODE_LIFETIME_SECS, 5400)
                .is_err()
        );
    }

    #[test]
    fn a_code_needs_its_client_and_redirect_uri() {
        let mut t = Tokens::default();
        let c = code(&mut t);
        assert!(t.exchange_code(&c, "other", None, NOW, 5400).is_err());
        // The failed attempt used the code up.
        assert!(t.exchange_code(&c, "app", None, NOW, 5400).is_err());
        let c = code(&mut t);
        assert!(
            t.exchange_code(&c, "app", Some("http://cb/"), NOW, 5400)
                .is_err()
        );
    }

    #[test]
    fn refresh_rotates_and_consumes_even_on_failure() {
        let mut t = Tokens::default();
        let c = code(&mut t);
        let first = t.exchange_code(&c, "app", None, NOW, 5400).unwrap();
        let old_refresh = first.refresh_token.unwrap();
        let second = t.refresh(&old_refresh, "app", NOW + 10, 5400).unwrap();
        assert_ne!(second.access_token, first.access_token);
        assert!(t.refresh(&old_refresh, "app", NOW + 11, 5400).is_err());

        let new_refresh = second.refresh_token.unwrap();
        assert!(
            t.refresh(&new_refresh, "wrong-client", NOW + 12, 5400)
                .is_err()
        );
        assert!(
            t.refresh(&new_refresh, "app", NOW + 13, 5400).is_err(),
            "consumed by the failure"
        );
    }

    #[test]
    fn access_tokens_expire_and_revoke_with_their_refresh_token() {
        let mut t = Tokens::default();
        let c = code(&mut t);
        let issued = t.exchange_code(&c, "app", None, NOW, 60).unwrap();
        assert!(t.access(&issued.access_token, NOW + 59).is_some());
        assert!(t.access(&issued.access_token, NOW + 60).is_none());

        t.revoke(&issued.access_token);
        assert!(
            t.refresh(issued.refresh_token.as_ref().unwrap(), "app", NOW, 60)
                .is_err()
        );
        t.revoke("unknown");
    }

    #[test]
    fn client_credentials_have_no_refresh_token() {
        let mut t = Tokens::default();
        let issued = t.client_credentials("app", NOW, 5400);
        assert_eq!(issued.refresh_token, None);
        assert_eq!(t.access(&issued.access_token, NOW).unwrap().user_id, None);
        let json = serde_json::to_value(&issued).unwrap();
        assert!(json.get("refresh_token").is_none());
    }
}
