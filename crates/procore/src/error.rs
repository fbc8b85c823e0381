//! What can go wrong talking to Procore, as callers need to tell it apart: re-authorize,
//! fix the input, try later, or report a fault. Messages never contain tokens or secrets.

use std::time::Duration;

use serde_json::Value;

use crate::catalogue::CatalogueError;
pub use crate::catalogue::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Nothing is stored for this data source yet.
    #[error("not authorized with Procore yet: authorize the data source")]
    NotAuthorized,
    /// Procore refused the access token even after a refresh.
    #[error("Procore refused the access token")]
    Unauthorized,
    /// The refresh token was refused (`invalid_grant`): only a new authorization helps.
    #[error("authorization expired — re-authorize")]
    AuthorizationExpired,
    #[error("Procore refused access: {reason}")]
    Forbidden { reason: String },
    #[error("not found in Procore (or not visible to the authorized user)")]
    NotFound,
    #[error("Procore rejected the request: {message}")]
    BadRequest { message: String },
    /// A 422: the input, field by field (`base` for errors not about one field).
    #[error("Procore rejected the data: {}", summary(.errors))]
    Validation { errors: FieldErrors },
    #[error("Procore's rate limit was reached{}", retry_hint(.retry_after))]
    RateLimited { retry_after: Option<Duration> },
    #[error("Procore is unavailable (HTTP {status}); try again later")]
    Unavailable {
        status: u16,
        /// Procore's `Retry-After`, when it said (a 503 when overloaded does).
        retry_after: Option<Duration>,
    },
    #[error("could not reach Procore: {0}")]
    Transport(String),
    #[error("unexpected answer from Procore: {0}")]
    Protocol(String),
    #[error("Procore OAuth error: {error}{}", description_suffix(.description))]
    OAuth {
        error: String,
        description: Option<String>,
    },
    #[error("token store: {0}")]
    Store(String),
    /// Asked for something the catalogue rules out, e.g. deleting a project.
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
}

fn summary(errors: &FieldErrors) -> String {
    errors
        .iter()
        .map(|(field, messages)| format!("{field} {}", messages.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

fn retry_hint(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(wait) => format!("; retry in {} s", wait.as_secs().max(1)),
        None => String::new(),
    }
}

fn description_suffix(description: &Option<String>) -> String {
    description
        .as_deref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default()
}

/// The message and field errors of an error body, whichever shape Procore used:
/// `{"errors": "text"}`, `{"errors": {"field": ["text"]}}`, `{"errors": ["text"]}`,
/// `{"error": "code", "error_description": "text"}`, `{"message": "text"}`, or plain text.
pub(crate) fn parse_error_body(body: &[u8]) -> (String, FieldErrors) {
    let mut fields = FieldErrors::new();
    let Ok(json) = serde_json::from_slice::<Value>(body) else {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        // HTML error pages say nothing useful; keep short plain text.
        let message = if text.starts_with('<') || text.is_empty() {
            String::new()
        } else {
            text.chars().take(300).collect()
        };
        return (message, fields);
    };
    let mut messages = Vec::new();
    match json.get("errors") {
        Some(Value::String(text)) => messages.push(text.clone()),
        Some(Value::Array(items)) => messages.extend(items.iter().map(text_of)),
        Some(Value::Object(map)) => {
            for (field, value) in map {
                let list = match value {
                    Value::Array(items) => items.iter().map(text_of).collect(),
                    other => vec![text_of(other)],
                };
                fields.insert(field.clone(), list);
            }
        }
        _ => {}
    }
    for key in ["error_description", "message", "error"] {
        if messages.is_empty()
            && let Some(Value::String(text)) = json.get(key)
        {
            messages.push(text.clone());
        }
    }
    (messages.join("; "), fields)
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_error_body_shape() {
        let (message, fields) = parse_error_body(br#"{"errors": "Not Found"}"#);
        assert_eq!(message, "Not Found");
        assert!(fields.is_empty());

        let (_, fields) = parse_error_body(br#"{"errors": {"subject": ["can't be blank"]}}"#);
        assert_eq!(fields["subject"], ["can't be blank"]);

        let (message, _) = parse_error_body(br#"{"errors": ["a", "b"]}"#);
        assert_eq!(message, "a; b");

        let (message, _) = parse_error_body(
            br#"{"error": "invalid_token", "error_description": "The access token expired"}"#,
        );
        assert_eq!(message, "The access token expired");

        let (message, _) = parse_error_body(br#"{"message": "Rate limit exceeded"}"#);
        assert_eq!(message, "Rate limit exceeded");

        assert_eq!(
            parse_error_body(b"Service Unavailable").0,
            "Service Unavailable"
        );
        assert_eq!(parse_error_body(b"<html>502</html>").0, "");
    }

    #[test]
    fn validation_errors_read_as_sentences() {
        let errors = FieldErrors::from([
            ("subject".to_string(), vec!["can't be blank".to_string()]),
            ("due_date".to_string(), vec!["is invalid".to_string()]),
        ]);
        assert_eq!(
            Error::Validation { errors }.to_string(),
            "Procore rejected the data: due_date is invalid; subject can't be blank"
        );
    }
}
