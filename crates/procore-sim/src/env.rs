//! The three Procore environments Trestle offers (procore-api.md §1.1). Each is served
//! under its own path prefix, which plays the part of both its login and API host.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Environment {
    Live,
    MonthlySandbox,
    DeveloperSandbox,
}

/// Which of the app's two credential pairs an environment accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientPair {
    Production,
    Sandbox,
}

impl Environment {
    pub const ALL: [Environment; 3] = [
        Environment::Live,
        Environment::MonthlySandbox,
        Environment::DeveloperSandbox,
    ];

    /// `http://HOST:PORT/<prefix>` is this environment's login host and API host.
    pub fn prefix(self) -> &'static str {
        match self {
            Environment::Live => "live",
            Environment::MonthlySandbox => "monthly-sandbox",
            Environment::DeveloperSandbox => "developer-sandbox",
        }
    }

    /// Live and Monthly Sandbox share the production pair; Developer Sandbox has its own.
    pub fn client_pair(self) -> ClientPair {
        match self {
            Environment::Live | Environment::MonthlySandbox => ClientPair::Production,
            Environment::DeveloperSandbox => ClientPair::Sandbox,
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}
