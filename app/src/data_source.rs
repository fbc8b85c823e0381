//! Data sources as the browser and the server both see them: what an administrator edits
//! in the Procore details drawer, and the checks that apply on both sides. Tokens never
//! appear here; the browser only learns *who* authorized a data source.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::{is_record_key, validate_name};

/// Procore's environments (procore-api.md §1.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    #[default]
    Live,
    MonthlySandbox,
    DeveloperSandbox,
}

impl Environment {
    pub const ALL: [Environment; 3] = [
        Environment::Live,
        Environment::MonthlySandbox,
        Environment::DeveloperSandbox,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Environment::Live => "Live",
            Environment::MonthlySandbox => "Monthly Sandbox",
            Environment::DeveloperSandbox => "Developer Sandbox",
        }
    }

    /// The one line the drawer shows under each choice.
    pub fn description(self) -> &'static str {
        match self {
            Environment::Live => "Your company's production Procore data.",
            Environment::MonthlySandbox => {
                "A copy of your production data, refreshed by Procore every month; safe for trials."
            }
            Environment::DeveloperSandbox => {
                "Procore's developer test company, for building and testing integrations."
            }
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Environment::Live => "live",
            Environment::MonthlySandbox => "monthly_sandbox",
            Environment::DeveloperSandbox => "developer_sandbox",
        }
    }

    pub fn from_key(key: &str) -> Option<Environment> {
        Environment::ALL.into_iter().find(|e| e.key() == key)
    }
}

/// Where a data source stands (product.md §3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Details missing or not authorized.
    #[default]
    Incomplete,
    /// The last connection test failed; the reason is kept.
    TestFailed,
    /// The last connection test passed.
    Ready,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Incomplete => "incomplete",
            Status::TestFailed => "test failed",
            Status::Ready => "ready",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Status::Incomplete => "incomplete",
            Status::TestFailed => "test_failed",
            Status::Ready => "ready",
        }
    }

    pub fn from_key(key: &str) -> Option<Status> {
        [Status::Incomplete, Status::TestFailed, Status::Ready]
            .into_iter()
            .find(|s| s.key() == key)
    }
}

/// The Procore person a data source acts as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorization {
    pub procore_user_id: u64,
    pub login: String,
    pub name: Option<String>,
    pub at: DateTime<Utc>,
}

impl Authorization {
    /// "NAME (login)", or the login alone when Procore gave no name.
    pub fn describe(&self) -> String {
        match &self.name {
            Some(name) if !name.is_empty() => format!("{name} ({})", self.login),
            _ => self.login.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    User,
    Group,
}

/// A user or group named in a data source's security lists.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub id: String,
    /// For display; the server fills it in.
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSource {
    pub id: String,
    pub name: String,
    pub company_id: Option<u64>,
    pub environment: Environment,
    pub cloud_connect: bool,
    pub connector: Option<String>,
    pub status: Status,
    /// Why the last test failed, in words an administrator can act on.
    pub status_reason: Option<String>,
    pub authorization: Option<Authorization>,
    /// May edit it; empty means administrators only.
    pub admins: Vec<Principal>,
    /// May query it; empty means every signed-in user.
    pub users: Vec<Principal>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<String>,
    /// Whether the person asking may change it (the server checks again on every change).
    pub can_edit: bool,
}

/// A row of the grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSourceRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub status: Status,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Option<String>,
    /// Whether the person asking may change (and delete) it.
    pub can_edit: bool,
}

/// What the drawer saves. The company id stays text so that what the person typed can be
/// checked (and explained) on both sides.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataSourceDraft {
    pub name: String,
    pub company_id: String,
    pub environment: Environment,
    pub cloud_connect: bool,
    pub connector: Option<String>,
}

/// A draft that passed [`DataSourceDraft::validated`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidDraft {
    pub name: String,
    pub company_id: Option<u64>,
    pub environment: Environment,
    pub cloud_connect: bool,
    pub connector: Option<String>,
}

pub const NAME_MAX_CHARS: usize = 100;

impl DataSourceDraft {
    /// Trims and checks; a blank company id is allowed (saved as incomplete).
    pub fn validated(&self) -> Result<ValidDraft, AppError> {
        let name = validate_name("name", &self.name, NAME_MAX_CHARS)?;
        let company_id = match self.company_id.trim() {
            "" => None,
            text => Some(parse_company_id(text).map_err(|m| AppError::invalid("company_id", m))?),
        };
        let connector = match (&self.connector, self.cloud_connect) {
            (Some(id), true) if !id.is_empty() => {
                if !is_record_key(id) {
                    return Err(AppError::invalid(
                        "connector",
                        "That connector is not valid.",
                    ));
                }
                Some(id.clone())
            }
            _ => None,
        };
        Ok(ValidDraft {
            name,
            company_id,
            environment: self.environment,
            cloud_connect: self.cloud_connect,
            connector,
        })
    }
}

/// A Procore company id: a positive 64-bit integer, digits only.
pub fn parse_company_id(text: &str) -> Result<u64, &'static str> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Enter the Procore company id.");
    }
    if !text.chars().all(|c| c.is_ascii_digit()) {
        return Err("The company id is a number, such as 4264807.");
    }
    match text.parse::<u64>() {
        Ok(0) => Err("The company id must be greater than zero."),
        Ok(id) if id > i64::MAX as u64 => Err("That company id is too large."),
        Ok(id) => Ok(id),
        Err(_) => Err("That company id is too large."),
    }
}

/// What a save did besides saving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    pub data_source: DataSource,
    /// e.g. that changing the environment cleared the authorization.
    pub notice: Option<String>,
}

/// The security lists as the Security dialog sends them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SecurityDraft {
    pub admins: Vec<(PrincipalKind, String)>,
    pub users: Vec<(PrincipalKind, String)>,
}

impl SecurityDraft {
    pub fn validated(mut self) -> Result<SecurityDraft, AppError> {
        for (field, list) in [("admins", &mut self.admins), ("users", &mut self.users)] {
            list.sort_by(|a, b| a.1.cmp(&b.1));
            list.dedup();
            if list.iter().any(|(_, id)| !is_record_key(id)) {
                return Err(AppError::invalid(field, "A user or group id is not valid."));
            }
        }
        Ok(self)
    }
}

/// One of the three connection checks, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestStep {
    Token,
    Company,
    AppInstalled,
}

impl TestStep {
    pub const ALL: [TestStep; 3] = [TestStep::Token, TestStep::Company, TestStep::AppInstalled];

    pub fn label(self) -> &'static str {
        match self {
            TestStep::Token => "Authorization is valid",
            TestStep::Company => "Company is visible and active",
            TestStep::AppInstalled => "App is installed in the company",
        }
    }
}

/// How one step of a connection test went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    pub step: TestStep,
    /// `None` when the step passed.
    pub failure: Option<String>,
    /// The data source's status after this step (changes on failure and after the last).
    pub status: Status,
    pub authorization: Option<Authorization>,
}

/// One Procore call made for a data source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallLogEntry {
    pub at: DateTime<Utc>,
    pub method: String,
    pub path: String,
    pub status: Option<u16>,
    pub duration_ms: u64,
    pub rate_remaining: Option<u64>,
    pub error: Option<String>,
}

/// One recorded change to a data source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub at: DateTime<Utc>,
    pub by: Option<String>,
    pub summary: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_ids_are_positive_64_bit_numbers() {
        assert_eq!(parse_company_id(" 4264807 "), Ok(4_264_807));
        assert!(parse_company_id("").is_err());
        assert!(parse_company_id("0").is_err());
        assert!(parse_company_id("-5").is_err());
        assert!(parse_company_id("12a").is_err());
        assert!(parse_company_id("1.5").is_err());
        assert!(parse_company_id("99999999999999999999").is_err());
        assert_eq!(
            parse_company_id("9223372036854775807"),
            Ok(9_223_372_036_854_775_807)
        );
        assert!(
            parse_company_id("9223372036854775808").is_err(),
            "beyond i64"
        );
    }

    #[test]
    fn drafts_trim_and_name_the_wrong_field() {
        let draft = DataSourceDraft {
            name: "  Procore Live  ".into(),
            company_id: "".into(),
            ..Default::default()
        };
        let valid = draft.validated().unwrap();
        assert_eq!(valid.name, "Procore Live");
        assert_eq!(valid.company_id, None, "saved incomplete");
        let bad = DataSourceDraft {
            name: "x".into(),
            company_id: "abc".into(),
            ..Default::default()
        };
        assert_eq!(bad.validated().unwrap_err().field(), Some("company_id"));
        let unnamed = DataSourceDraft::default();
        assert_eq!(unnamed.validated().unwrap_err().field(), Some("name"));
    }

    #[test]
    fn a_connector_only_counts_with_cloud_connect_on() {
        let draft = DataSourceDraft {
            name: "x".into(),
            cloud_connect: false,
            connector: Some("agent1".into()),
            ..Default::default()
        };
        assert_eq!(draft.validated().unwrap().connector, None);
    }
}
