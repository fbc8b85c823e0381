//! People who can sign in to the simulator's login page. Like Procore's Developer
//! Sandbox: "Test Architect", "Test Subcontractor" and "API Support".

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcoreUser {
    pub id: u64,
    pub login: String,
    pub name: String,
}

/// Every demo user signs in with this password (shown on the login page).
pub const DEMO_PASSWORD: &str = "sandbox";

pub fn users() -> Vec<ProcoreUser> {
    [
        (4_201_001, "sandbox+arch@example.com", "Test Architect"),
        (4_201_002, "sandbox+sub@example.com", "Test Subcontractor"),
        (4_201_003, "sandbox+api@example.com", "API Support"),
    ]
    .into_iter()
    .map(|(id, login, name)| ProcoreUser {
        id,
        login: login.to_string(),
        name: name.to_string(),
    })
    .collect()
}
