//! Procore's three environments (procore-api.md §1.1): each has a login host for OAuth,
//! an API host for REST, and takes one of the app's two credential pairs.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    Live,
    MonthlySandbox,
    DeveloperSandbox,
}

/// Which registered client id and secret an environment takes: the production pair
/// serves Live and the Monthly Sandbox, the sandbox pair the Developer Sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialPair {
    Production,
    Sandbox,
}

impl Environment {
    pub const ALL: [Environment; 3] = [
        Environment::Live,
        Environment::MonthlySandbox,
        Environment::DeveloperSandbox,
    ];

    pub fn credential_pair(self) -> CredentialPair {
        match self {
            Environment::DeveloperSandbox => CredentialPair::Sandbox,
            Environment::Live | Environment::MonthlySandbox => CredentialPair::Production,
        }
    }

    /// Procore's own hosts; configuration may point each elsewhere (the simulator).
    pub fn default_hosts(self) -> Hosts {
        let (login, api) = match self {
            Environment::Live => ("https://login.procore.com", "https://api.procore.com"),
            Environment::MonthlySandbox => (
                "https://login-sandbox-monthly.procore.com",
                "https://api-monthly.procore.com",
            ),
            Environment::DeveloperSandbox => (
                "https://login-sandbox.procore.com",
                "https://sandbox.procore.com",
            ),
        };
        Hosts {
            login: Url::parse(login).expect("Procore's login host is a URL"),
            api: Url::parse(api).expect("Procore's API host is a URL"),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Environment::Live => "Live",
            Environment::MonthlySandbox => "Monthly Sandbox",
            Environment::DeveloperSandbox => "Developer Sandbox",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Where an environment's OAuth and REST calls go. A host may carry a path prefix
/// (`http://127.0.0.1:4000/developer-sandbox`), which every endpoint is appended to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hosts {
    pub login: Url,
    pub api: Url,
}

/// `base` + `path`, keeping any path prefix of `base` (which `Url::join` would drop).
pub(crate) fn endpoint(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!(
        "{}/{}",
        base.path().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    url.set_path(&joined);
    url.set_query(None);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_keep_the_hosts_path_prefix() {
        let base = Url::parse("http://127.0.0.1:4000/developer-sandbox").unwrap();
        assert_eq!(
            endpoint(&base, "/rest/v1.0/me").as_str(),
            "http://127.0.0.1:4000/developer-sandbox/rest/v1.0/me"
        );
        let bare = Url::parse("https://api.procore.com/").unwrap();
        assert_eq!(
            endpoint(&bare, "/oauth/token").as_str(),
            "https://api.procore.com/oauth/token"
        );
    }

    #[test]
    fn sandboxes_take_their_own_credentials() {
        assert_eq!(
            Environment::DeveloperSandbox.credential_pair(),
            CredentialPair::Sandbox
        );
        assert_eq!(
            Environment::MonthlySandbox.credential_pair(),
            CredentialPair::Production
        );
        let hosts = Environment::Live.default_hosts();
        assert_eq!(hosts.api.host_str(), Some("api.procore.com"));
    }
}
