//! Types shared by the server and the browser, and the validation rules both apply.
//!
//! The browser runs the same checks for instant feedback; the server runs them again
//! because it is the only side that can be trusted.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What a person may do in Trestle (product.md §1). A person can hold several roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Administrator,
    DataSourceManager,
    Designer,
    User,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Administrator,
        Role::DataSourceManager,
        Role::Designer,
        Role::User,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::DataSourceManager => "data_source_manager",
            Role::Designer => "designer",
            Role::User => "user",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Administrator => "Administrator",
            Role::DataSourceManager => "Data source manager",
            Role::Designer => "Designer",
            Role::User => "User",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Role::Administrator => "Everything, including users, groups and every data source",
            Role::DataSourceManager => "Adds data sources and edits those they administer",
            Role::Designer => "Builds forms bound to data sources they may query",
            Role::User => "Fills in forms",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Role {
    type Err = AppError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| AppError::invalid("roles", format!("Unknown role \"{s}\".")))
    }
}

/// A person as administrators see them. Never carries the password hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub active: bool,
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The signed-in person, as every page needs them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: String,
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub must_change_password: bool,
}

impl From<User> for SessionUser {
    fn from(user: User) -> Self {
        SessionUser {
            id: user.id,
            email: user.email,
            name: user.name,
            roles: user.roles,
            must_change_password: user.must_change_password,
        }
    }
}

impl SessionUser {
    /// Administrators may do everything any other role may do.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&Role::Administrator) || self.roles.contains(&role)
    }

    pub fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Administrator)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub description: String,
    pub member_ids: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

/// What an administrator enters to add or edit a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserDraft {
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
}

impl UserDraft {
    /// Trims and checks the draft; the error names the field that is wrong.
    pub fn validated(self) -> Result<Self, AppError> {
        let email = normalize_email(&self.email)?;
        let name = validate_name("name", &self.name, 100)?;
        let mut roles = self.roles;
        roles.sort();
        roles.dedup();
        if roles.is_empty() {
            return Err(AppError::invalid("roles", "Choose at least one role."));
        }
        Ok(Self { email, name, roles })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupDraft {
    pub name: String,
    pub description: String,
    pub member_ids: Vec<String>,
}

impl GroupDraft {
    pub fn validated(self) -> Result<Self, AppError> {
        let name = validate_name("name", &self.name, 100)?;
        let description = self.description.trim().to_string();
        if description.chars().count() > 500 {
            return Err(AppError::invalid(
                "description",
                "Description must be at most 500 characters.",
            ));
        }
        let mut member_ids = self.member_ids;
        member_ids.sort();
        member_ids.dedup();
        if member_ids.iter().any(|id| !is_record_key(id)) {
            return Err(AppError::invalid("members", "A member id is not valid."));
        }
        Ok(Self {
            name,
            description,
            member_ids,
        })
    }
}

pub const PASSWORD_MIN_CHARS: usize = 10;
pub const PASSWORD_MAX_CHARS: usize = 200;

/// Lower-cases and trims an e-mail address, and checks it has the shape of one.
pub fn normalize_email(raw: &str) -> Result<String, AppError> {
    let email = raw.trim().to_lowercase();
    let bad = || AppError::invalid("email", "Enter a valid e-mail address.");
    if email.is_empty() {
        return Err(AppError::invalid("email", "E-mail is required."));
    }
    if email.chars().count() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    if local.is_empty() || domain.is_empty() || domain.contains('@') || domain.starts_with('.') {
        return Err(bad());
    }
    Ok(email)
}

/// A display name: trimmed, 1..=max characters, no control characters.
pub fn validate_name(field: &str, raw: &str, max: usize) -> Result<String, AppError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::invalid(field, "This field is required."));
    }
    if name.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("Must be at most {max} characters."),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            field,
            "Must not contain control characters.",
        ));
    }
    Ok(name.to_string())
}

pub fn validate_new_password(field: &str, password: &str) -> Result<(), AppError> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return Err(AppError::invalid(
            field,
            format!("Use at least {PASSWORD_MIN_CHARS} characters."),
        ));
    }
    if chars > PASSWORD_MAX_CHARS {
        return Err(AppError::invalid(
            field,
            format!("Use at most {PASSWORD_MAX_CHARS} characters."),
        ));
    }
    if password.trim().is_empty() {
        return Err(AppError::invalid(
            field,
            "A password cannot be only spaces.",
        ));
    }
    Ok(())
}

/// Record keys we generate are short alphanumeric strings; anything else from a client is
/// refused before it reaches a query.
pub fn is_record_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 64 && key.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            normalize_email("  Ann.Lee@Example.COM ").unwrap(),
            "ann.lee@example.com"
        );
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "a b@example.com",
            "a@b@c",
            "a@.com",
        ] {
            let err = normalize_email(bad).unwrap_err();
            assert_eq!(err.field(), Some("email"), "{bad:?} should be refused");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(validate_name("name", "  Ann  ", 100).unwrap(), "Ann");
        assert!(validate_name("name", "   ", 100).is_err());
        assert!(validate_name("name", &"x".repeat(101), 100).is_err());
        assert!(validate_name("name", "Ann\u{0007}", 100).is_err());
        assert_eq!(
            validate_name("name", &"é".repeat(100), 100)
                .unwrap()
                .chars()
                .count(),
            100
        );
    }

    #[test]
    fn passwords_need_a_minimum_length() {
        assert!(validate_new_password("password", "short").is_err());
        assert!(validate_new_password("password", "          ").is_err());
        assert!(validate_new_password("password", "long enough pass").is_ok());
        assert!(validate_new_password("password", &"x".repeat(201)).is_err());
    }

    #[test]
    fn user_drafts_need_a_role_and_dedupe_roles() {
        let draft = UserDraft {
            email: "A@B.co".into(),
            name: " Ann ".into(),
            roles: vec![Role::User, Role::Designer, Role::User],
        }
        .validated()
        .unwrap();
        assert_eq!(draft.email, "a@b.co");
        assert_eq!(draft.roles, vec![Role::Designer, Role::User]);

        let err = UserDraft {
            email: "a@b.co".into(),
            name: "Ann".into(),
            roles: vec![],
        }
        .validated()
        .unwrap_err();
        assert_eq!(err.field(), Some("roles"));
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn administrators_hold_every_role() {
        let admin = SessionUser {
            id: "a".into(),
            email: "a@b.co".into(),
            name: "A".into(),
            roles: vec![Role::Administrator],
            must_change_password: false,
        };
        assert!(Role::ALL.iter().all(|r| admin.has_role(*r)));
        let designer = SessionUser {
            roles: vec![Role::Designer],
            ..admin
        };
        assert!(designer.has_role(Role::Designer));
        assert!(!designer.has_role(Role::Administrator));
        assert!(!designer.has_role(Role::DataSourceManager));
    }

    #[test]
    fn record_keys_are_restricted() {
        assert!(is_record_key("abc123XYZ"));
        assert!(!is_record_key(""));
        assert!(!is_record_key("user:abc"));
        assert!(!is_record_key("a b"));
        assert!(!is_record_key(&"a".repeat(65)));
    }
}
