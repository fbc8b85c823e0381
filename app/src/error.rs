//! The one error type of every server function: what the browser may see, and the HTTP
//! status that goes with it. Details of internal failures stay in the server log.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in to continue.")]
    Unauthenticated,
    #[error("You do not have permission to do that.")]
    Forbidden,
    /// Forbidden, saying why and what would help.
    #[error("{0}")]
    Denied(String),
    /// The request itself is malformed (not a value in it: that is [`AppError::Invalid`]).
    #[error("{0}")]
    BadRequest(String),
    #[error("{0} was not found.")]
    NotFound(String),
    /// A value the caller sent is wrong; `field` names the form field when there is one.
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
    },
    #[error("{0}")]
    Conflict(String),
    /// The request body is over the server's limit.
    #[error("{0}")]
    TooLarge(String),
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    /// The data was refused, field by field: keys are the attributes' write keys (`base`
    /// for what concerns no one field). From the catalogue's checks or Procore's 422.
    #[error("{message}")]
    Rejected {
        message: String,
        fields: BTreeMap<String, Vec<String>>,
    },
    /// Procore is down or over its limits for now; worth trying again later.
    #[error("{message}")]
    Unavailable {
        message: String,
        retry_after_secs: Option<u64>,
    },
    /// Procore answered in a way Trestle could not use.
    #[error("{0}")]
    BadGateway(String),
    #[error(
        "Something went wrong on the server. Please try again; if it keeps happening, tell your administrator."
    )]
    Internal,
    #[error("The server could not be reached: {0}")]
    Transport(String),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    /// The form field this error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// Messages by field: a [`AppError::Rejected`]'s, or an [`AppError::Invalid`]'s one.
    pub fn field_messages(&self) -> BTreeMap<String, Vec<String>> {
        match self {
            AppError::Rejected { fields, .. } => fields.clone(),
            AppError::Invalid {
                field: Some(field),
                message,
            } => BTreeMap::from([(field.clone(), vec![message.clone()])]),
            _ => BTreeMap::new(),
        }
    }

    /// Seconds to wait before trying again, when the error says.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::TooManyRequests {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            AppError::Unavailable {
                retry_after_secs, ..
            } => *retry_after_secs,
            _ => None,
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthenticated => 401,
            AppError::Forbidden | AppError::Denied(_) => 403,
            AppError::BadRequest(_) => 400,
            AppError::NotFound(_) => 404,
            AppError::Invalid { .. } => 422,
            AppError::Conflict(_) => 409,
            AppError::TooLarge(_) => 413,
            AppError::TooManyRequests { .. } => 429,
            AppError::Rejected { .. } => 422,
            AppError::Unavailable { .. } => 503,
            AppError::BadGateway(_) => 502,
            AppError::Internal => 500,
            AppError::Transport(_) => 502,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(msg) => AppError::Transport(msg),
            // The body limit (axum's `DefaultBodyLimit`) stopped reading the arguments.
            ServerFnErrorErr::Deserialization(msg) if msg.contains("length limit exceeded") => {
                AppError::TooLarge("The request is too large; send less at once.".into())
            }
            // A body that is not the JSON the function takes is the caller's mistake, not ours.
            ServerFnErrorErr::Args(msg)
            | ServerFnErrorErr::MissingArg(msg)
            | ServerFnErrorErr::Deserialization(msg) => AppError::Invalid {
                field: None,
                message: format!("The request was not understood: {msg}"),
            },
            _ => AppError::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_match_the_kind_of_error() {
        assert_eq!(AppError::Unauthenticated.status(), 401);
        assert_eq!(AppError::Forbidden.status(), 403);
        assert_eq!(AppError::invalid("email", "x").status(), 422);
        assert_eq!(AppError::Internal.status(), 500);
    }

    #[test]
    fn undecodable_arguments_are_the_callers_mistake() {
        let err = AppError::from_server_fn_error(ServerFnErrorErr::Deserialization(
            "missing field `id`".into(),
        ));
        assert_eq!(err.status(), 422);
    }

    #[test]
    fn a_body_over_the_limit_is_too_large() {
        let err = AppError::from_server_fn_error(ServerFnErrorErr::Deserialization(
            "length limit exceeded".into(),
        ));
        assert_eq!(err.status(), 413);
    }

    #[test]
    fn internal_errors_say_nothing_of_their_cause() {
        let err = AppError::from_server_fn_error(ServerFnErrorErr::ServerError(
            "db password=hunter2".into(),
        ));
        assert_eq!(err, AppError::Internal);
        assert!(!err.to_string().contains("hunter2"));
    }
}
