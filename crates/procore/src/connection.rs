//! "Test connection" (product.md §3, procore-api.md §1.8): is the token good (`/me`), can
//! the user see the company and is it active (`/companies`), and is the app installed in
//! it (a one-row project list with `Procore-Company-Id`). Each step reports as it ends so
//! a screen can show progress; a failure names its likely cause.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{ApiRequest, Client, Error};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Token,
    Company,
    AppInstalled,
}

impl Step {
    pub const ALL: [Step; 3] = [Step::Token, Step::Company, Step::AppInstalled];

    pub fn label(self) -> &'static str {
        match self {
            Step::Token => "Authorization is valid",
            Step::Company => "Company is visible and active",
            Step::AppInstalled => "App is installed in the company",
        }
    }
}

/// Why a test failed, in terms an administrator can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum Cause {
    NotAuthorized,
    AuthorizationExpired,
    CompanyNotFound,
    CompanyInactive,
    AppNotInstalled,
    PermissionDenied {
        reason: String,
    },
    RateLimited,
    Unavailable,
    /// No answer at all; the message says what stood in the way (a timeout, a Cloud
    /// Connect agent that is offline).
    Unreachable {
        message: String,
    },
    Other {
        message: String,
    },
}

impl Cause {
    pub fn message(&self) -> String {
        match self {
            Cause::NotAuthorized => "Not authorized yet: authorize the data source.".into(),
            Cause::AuthorizationExpired => {
                "Authorization expired or was revoked: re-authorize.".into()
            }
            Cause::CompanyNotFound => {
                "Company not found: check the company id, and that the authorizing user belongs to it."
                    .into()
            }
            Cause::CompanyInactive => "The company is inactive in Procore.".into(),
            Cause::AppNotInstalled => {
                "The app is not installed in this company: a Procore company admin must install it from the App Marketplace."
                    .into()
            }
            Cause::PermissionDenied { reason } => format!("Permission denied: {reason}"),
            Cause::RateLimited => "Procore's rate limit was reached: try again later.".into(),
            Cause::Unavailable => "Procore is unavailable: try again later.".into(),
            Cause::Unreachable { message } => {
                format!("Procore could not be reached ({message}): try again later.")
            }
            Cause::Other { message } => message.clone(),
        }
    }

    fn of(error: &Error) -> Cause {
        match error {
            Error::NotAuthorized => Cause::NotAuthorized,
            Error::Unauthorized | Error::AuthorizationExpired => Cause::AuthorizationExpired,
            Error::NotFound => Cause::CompanyNotFound,
            Error::Forbidden { reason } if reason.contains("not connected") => {
                Cause::AppNotInstalled
            }
            Error::Forbidden { reason } => Cause::PermissionDenied {
                reason: reason.clone(),
            },
            Error::RateLimited { .. } => Cause::RateLimited,
            Error::Unavailable { .. } => Cause::Unavailable,
            Error::Transport(message) => Cause::Unreachable {
                message: message.clone(),
            },
            other => Cause::Other {
                message: other.to_string(),
            },
        }
    }
}

/// Who authorized the data source, from `/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub id: u64,
    pub login: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionReport {
    /// The steps that passed, in order.
    pub passed: Vec<Step>,
    /// The step that failed and why; `None` when all passed.
    pub failure: Option<(Step, Cause)>,
    pub identity: Option<Identity>,
    pub company_name: Option<String>,
}

impl ConnectionReport {
    pub fn succeeded(&self) -> bool {
        self.failure.is_none()
    }
}

/// What a passed step learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Passed {
    Token(Identity),
    Company { name: String },
    AppInstalled,
}

impl Client {
    /// Runs the three checks in order, stopping at the first failure. `progress` hears
    /// each step's outcome as it ends.
    pub async fn test_connection(
        &self,
        mut progress: impl FnMut(Step, Option<&Cause>),
    ) -> ConnectionReport {
        let mut report = ConnectionReport {
            passed: Vec::new(),
            failure: None,
            identity: None,
            company_name: None,
        };
        for step in Step::ALL {
            match self.check(step).await {
                Ok(passed) => {
                    match passed {
                        Passed::Token(identity) => report.identity = Some(identity),
                        Passed::Company { name } => report.company_name = Some(name),
                        Passed::AppInstalled => {}
                    }
                    progress(step, None);
                    report.passed.push(step);
                }
                Err(cause) => {
                    progress(step, Some(&cause));
                    report.failure = Some((step, cause));
                    break;
                }
            }
        }
        report
    }

    /// One check on its own, for callers that show each as it ends.
    pub async fn check(&self, step: Step) -> Result<Passed, Cause> {
        let company_id = self.config().company_id;
        match step {
            Step::Token => self.identity(company_id).await.map(Passed::Token),
            Step::Company => self
                .company(company_id)
                .await
                .map(|name| Passed::Company { name }),
            Step::AppInstalled => self
                .send(
                    &ApiRequest::get("/rest/v1.1/projects")
                        .query("company_id", company_id.to_string())
                        .query("per_page", "1"),
                )
                .await
                .map(|_| Passed::AppInstalled)
                .map_err(|e| Cause::of(&e)),
        }
    }

    async fn identity(&self, company_id: u64) -> Result<Identity, Cause> {
        let me = self
            .json(&ApiRequest::get("/rest/v1.0/me").query("company_id", company_id.to_string()))
            .await
            .map_err(|e| Cause::of(&e))?;
        serde_json::from_value(me).map_err(|_| Cause::Other {
            message: "Procore's /me answer could not be read".into(),
        })
    }

    /// The company's name, if the user can see it and it is active.
    async fn company(&self, company_id: u64) -> Result<String, Cause> {
        let companies = self
            .list_all(ApiRequest::get("/rest/v1.0/companies"))
            .await
            .map_err(|e| Cause::of(&e))?;
        let company = companies
            .iter()
            .find(|c| c["id"].as_u64() == Some(company_id))
            .ok_or(Cause::CompanyNotFound)?;
        if company["is_active"] == Value::Bool(false) {
            return Err(Cause::CompanyInactive);
        }
        Ok(company["name"].as_str().unwrap_or_default().to_string())
    }
}
