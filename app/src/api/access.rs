//! Who may call each server function: one table, checked by the server before a request
//! reaches the function (`server/src/access.rs`), and by a test that builds its matrix from
//! the server functions actually registered (`server/tests/access.rs`).
//!
//! Why a table when every function checks inside its body ([`crate::api::guard`])? The
//! body runs only after the arguments are decoded, so an anonymous call with bad arguments
//! used to get an argument error instead of 401; and nothing made a new server function
//! check anything. Here the gate answers first, and it denies by default: a server function
//! missing from [`ENDPOINTS`] is refused for everyone (403, with an error in the server log
//! naming it) until someone classifies it here. The checks inside the bodies stay: they are
//! the second line, and the only one that knows about a data source's own Security lists.

use crate::error::AppError;
use crate::model::{Role, SessionUser};

/// Who may reach a server function at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not: signing in and out, and asking who is signed in.
    Public,
    /// Anyone signed in, even with a one-time password still to replace: only what it
    /// takes to replace it.
    Session,
    /// Anyone signed in who has chosen their own password. Someone with a one-time password
    /// may do nothing else first (the pages show them only the password page; their API
    /// tokens do nothing).
    SignedIn,
    /// Someone signed in who holds the role (administrators hold every role) and has
    /// chosen their own password, as [`crate::api::guard::require`] checks.
    Role(Role),
}

/// What the function checks beyond [`Access`], inside its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Nothing more: passing the gate is enough.
    Caller,
    /// Rights on the data source named in its arguments: its connection users to read or
    /// write Procore data through it, its connection administrators to change it. Someone
    /// without them gets 403 and no Procore data.
    DataSource,
    /// Runs a form's data rules with the caller's rights on their data sources. A refused
    /// rule fails the submission, which is kept (with the message, without Procore data)
    /// for a retry: the call itself succeeds.
    DataRules,
}

/// One server function: its endpoint (the path after `/api/`), who may call it, and what
/// it checks besides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub name: &'static str,
    pub access: Access,
    pub scope: Scope,
}

const fn at(name: &'static str, access: Access, scope: Scope) -> Endpoint {
    Endpoint {
        name,
        access,
        scope,
    }
}

use self::Access::{Public, Session, SignedIn};
use self::Scope::{Caller, DataRules, DataSource};

const ADMIN: Access = Access::Role(Role::Administrator);
const MANAGER: Access = Access::Role(Role::DataSourceManager);
const DESIGNER: Access = Access::Role(Role::Designer);

/// Every server function, by module of [`crate::api`].
pub const ENDPOINTS: &[Endpoint] = &[
    // auth
    at("sign_in", Public, Caller),
    at("sign_out", Public, Caller),
    at("current_user", Public, Caller),
    at("change_password", Session, Caller),
    // api_tokens: the caller's own tokens
    at("list_api_tokens", SignedIn, Caller),
    at("create_api_token", SignedIn, Caller),
    at("revoke_api_token", SignedIn, Caller),
    // people
    at("list_users", ADMIN, Caller),
    at("create_user", ADMIN, Caller),
    at("update_user", ADMIN, Caller),
    at("set_user_active", ADMIN, Caller),
    at("reset_password", ADMIN, Caller),
    at("list_groups", ADMIN, Caller),
    at("save_group", ADMIN, Caller),
    at("delete_group", ADMIN, Caller),
    // cloud_connect
    at("list_agents", ADMIN, Caller),
    at("create_enrolment", ADMIN, Caller),
    at("revoke_agent", ADMIN, Caller),
    at("list_connectors", MANAGER, Caller),
    // data_sources: every manager sees all of them; changing one takes its administrators
    at("list_data_sources", MANAGER, Caller),
    at("get_data_source", MANAGER, Caller),
    at("save_data_source", MANAGER, DataSource),
    at("delete_data_source", MANAGER, DataSource),
    at("test_connection_step", MANAGER, DataSource),
    at("security_candidates", MANAGER, Caller),
    at("save_security", MANAGER, DataSource),
    at("call_log", MANAGER, DataSource),
    at("data_source_history", MANAGER, DataSource),
    // forms
    at("list_forms", SignedIn, Caller),
    at("get_form", SignedIn, Caller),
    at("save_form", DESIGNER, DataSource),
    at("delete_form", DESIGNER, Caller),
    at("queryable_sources", SignedIn, Caller),
    at("procore_objects", SignedIn, Caller),
    at("preview_options", DESIGNER, DataSource),
    at("form_options", SignedIn, DataSource),
    at("submit_form", SignedIn, DataRules),
    at("form_submissions", SignedIn, Caller),
    at("retry_submission", SignedIn, DataRules),
    // records: the data explorer
    at("list_records", SignedIn, DataSource),
    at("get_record", SignedIn, DataSource),
    at("create_record", SignedIn, DataSource),
    at("update_record", SignedIn, DataSource),
    at("delete_record", SignedIn, DataSource),
];

/// The entry of a server function endpoint (`sign_in`, not `/api/sign_in`); `None` means
/// it is not classified and must be refused.
pub fn endpoint(name: &str) -> Option<&'static Endpoint> {
    ENDPOINTS.iter().find(|e| e.name == name)
}

impl Access {
    /// Whether `user` (`None`: nobody signed in) may call a function with this access:
    /// 401 for nobody, 403 for someone who may not.
    pub fn check(self, user: Option<&SessionUser>) -> Result<(), AppError> {
        match (self, user) {
            (Access::Public, _) => Ok(()),
            (_, None) => Err(AppError::Unauthenticated),
            (Access::Session, Some(_)) => Ok(()),
            (_, Some(user)) if user.must_change_password => Err(AppError::Forbidden),
            (Access::SignedIn, Some(_)) => Ok(()),
            (Access::Role(role), Some(user)) if user.has_role(role) => Ok(()),
            (Access::Role(_), Some(_)) => Err(AppError::Forbidden),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(roles: &[Role], must_change_password: bool) -> SessionUser {
        SessionUser {
            id: "p".into(),
            email: "p@example.com".into(),
            name: "P".into(),
            roles: roles.to_vec(),
            must_change_password,
        }
    }

    #[test]
    fn each_endpoint_is_named_once() {
        for (i, e) in ENDPOINTS.iter().enumerate() {
            assert!(
                ENDPOINTS[..i].iter().all(|other| other.name != e.name),
                "{} is listed twice",
                e.name
            );
            assert!(!e.name.is_empty() && !e.name.contains('/'), "{}", e.name);
        }
        assert_eq!(endpoint("list_users").unwrap().access, ADMIN);
        assert!(endpoint("no_such_function").is_none());
    }

    #[test]
    fn nobody_gets_401_and_the_wrong_person_403() {
        let user = person(&[Role::User], false);
        let admin = person(&[Role::Administrator], false);
        let fresh_admin = person(&[Role::Administrator], true);
        assert_eq!(Public.check(None), Ok(()));
        assert_eq!(SignedIn.check(None), Err(AppError::Unauthenticated));
        assert_eq!(ADMIN.check(None), Err(AppError::Unauthenticated));
        assert_eq!(Session.check(None), Err(AppError::Unauthenticated));
        assert_eq!(SignedIn.check(Some(&user)), Ok(()));
        assert_eq!(Session.check(Some(&fresh_admin)), Ok(()));
        assert_eq!(
            SignedIn.check(Some(&fresh_admin)),
            Err(AppError::Forbidden),
            "nothing but the password page before choosing one's own"
        );
        assert_eq!(DESIGNER.check(Some(&user)), Err(AppError::Forbidden));
        assert_eq!(
            DESIGNER.check(Some(&admin)),
            Ok(()),
            "admins hold every role"
        );
        assert_eq!(
            MANAGER.check(Some(&fresh_admin)),
            Err(AppError::Forbidden),
            "a one-time password must be replaced first"
        );
    }
}
