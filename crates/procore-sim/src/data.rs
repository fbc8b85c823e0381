//! The simulator's Procore data: deterministic, like the Developer Sandbox seed
//! (procore-api.md §1.1), plus a company where the app is not installed.

use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct Company {
    pub id: u64,
    pub name: String,
    pub is_active: bool,
    /// Calls scoped to a company without the app answer 403 "App is not connected…".
    pub app_installed: bool,
}

impl Company {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "is_active": self.is_active,
            "logo_url": null,
            "pcn_business_experience": false,
            "my_company": self.id == SANDBOX_COMPANY_ID,
        })
    }
}

pub const SANDBOX_COMPANY_ID: u64 = 4_264_807;
pub const UNINSTALLED_COMPANY_ID: u64 = 4_264_900;
pub const SANDBOX_PROJECT_ID: u64 = 2_783_001;

#[derive(Debug, Clone)]
pub struct Dataset {
    pub companies: Vec<Company>,
    /// Project records as Procore's v1.1 list returns them.
    pub projects: Vec<Value>,
}

fn project(id: u64, company: &Company, number: &str, name: &str, active: bool, day: u32) -> Value {
    let display_name = if number.is_empty() {
        name.to_string()
    } else {
        format!("{number} - {name}")
    };
    let stamp = format!("2026-0{}-{:02}T09:00:00Z", 1 + day % 9, 1 + day % 28);
    json!({
        "id": id,
        "name": name,
        "display_name": display_name,
        "project_number": if number.is_empty() { Value::Null } else { json!(number) },
        "active": active,
        "address": "1 Main Street",
        "city": "Carpinteria",
        "state_code": "CA",
        "country_code": "US",
        "zip": "93013",
        "time_zone": "US/Pacific",
        "company": { "id": company.id, "name": company.name },
        "origin_id": null,
        "created_at": stamp,
        "updated_at": stamp,
    })
}

impl Dataset {
    pub fn seed() -> Dataset {
        let companies = vec![
            Company {
                id: SANDBOX_COMPANY_ID,
                name: "Sandbox Test Company".into(),
                is_active: true,
                app_installed: true,
            },
            Company {
                id: UNINSTALLED_COMPANY_ID,
                name: "Other Builders Inc.".into(),
                is_active: true,
                app_installed: false,
            },
        ];
        let sandbox = &companies[0];
        let other = &companies[1];
        let projects = vec![
            project(
                SANDBOX_PROJECT_ID,
                sandbox,
                "1234",
                "Sandbox Test Project",
                true,
                1,
            ),
            project(2_783_002, sandbox, "A-2", "Harbor Point Tower", true, 2),
            project(
                2_783_003,
                sandbox,
                "1002",
                "Riverside Medical Center",
                true,
                3,
            ),
            project(2_783_004, sandbox, "", "Warehouse Retrofit", true, 4),
            project(2_783_005, sandbox, "0077", "Elm Street Lofts", false, 5),
            project(2_783_101, other, "9", "Other Builders HQ", true, 6),
        ];
        Dataset {
            companies,
            projects,
        }
    }

    pub fn company(&self, id: u64) -> Option<&Company> {
        self.companies.iter().find(|c| c.id == id)
    }
}
