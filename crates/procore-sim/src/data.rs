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

/// A person's `name` ("first last", trimmed) and `initials`, as Procore derives them.
pub(crate) fn person_names(first: &str, last: &str) -> (String, String) {
    let name = format!("{} {}", first.trim(), last.trim())
        .trim()
        .to_string();
    let initials = [first, last]
        .iter()
        .filter_map(|part| part.trim().chars().next())
        .flat_map(char::to_uppercase)
        .collect();
    (name, initials)
}

/// The project permission templates (id, name) people get on a project. Procore keeps
/// them per company; one set serves every company here.
pub const PERMISSION_TEMPLATES: [(u64, &str); 3] = [
    (501, "Project Manager"),
    (502, "Subcontractor"),
    (503, "Architect/Engineer"),
];

pub const SANDBOX_COMPANY_ID: u64 = 4_264_807;
pub const UNINSTALLED_COMPANY_ID: u64 = 4_264_900;
pub const SANDBOX_PROJECT_ID: u64 = 2_783_001;
/// Holds the `--scale N` RFIs.
pub const SCALE_PROJECT_ID: u64 = 2_783_900;

#[derive(Debug, Clone)]
pub struct Dataset {
    pub companies: Vec<Company>,
    /// Project records as Procore's v1.1 list returns them.
    pub projects: Vec<Value>,
    /// RFI records of every project, each with its `project_id`.
    pub rfis: Vec<Value>,
    /// Company directory people and companies, by company id.
    pub company_users: Vec<(u64, Value)>,
    pub vendors: Vec<(u64, Value)>,
    /// Folders and files of every project, flat, each with `project_id` and `document_type`.
    pub documents: Vec<Value>,
    /// Project directory people, by project id.
    pub project_users: Vec<(u64, Value)>,
    /// Submittals, observations, punch items and change events, each with `project_id`.
    collections: std::collections::BTreeMap<&'static str, Vec<Value>>,
    next_id: u64,
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
    /// The fixed seed, plus a "Scale Test Project" with `scale` RFIs drawn from `seed`.
    pub fn seed(seed: u64, scale: usize) -> Dataset {
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
        let mut projects = projects;
        if scale > 0 {
            projects.push(project(
                SCALE_PROJECT_ID,
                sandbox,
                "SCALE",
                "Scale Test Project",
                true,
                7,
            ));
        }
        let mut data = Dataset {
            companies,
            projects,
            rfis: Vec::new(),
            company_users: Vec::new(),
            vendors: Vec::new(),
            project_users: Vec::new(),
            documents: Vec::new(),
            collections: Default::default(),
            next_id: 9_100_000,
        };
        data.seed_collections();
        data.seed_documents();
        data.seed_directory();
        let manager = json!({ "id": 4_201_001, "login": "sandbox+arch@example.com", "name": "Test Architect" });
        for (project, subject, status) in [
            (
                SANDBOX_PROJECT_ID,
                "Clarify the door hardware schedule",
                "open",
            ),
            (2_783_002, "Curtain wall anchor spacing", "open"),
            (2_783_002, "Level 3 slab penetration", "closed"),
            (2_783_002, "Lobby stone finish", "draft"),
        ] {
            data.add_rfi(NewRfi {
                project_id: project,
                subject,
                status,
                manager: manager.clone(),
                question: "What should we do?",
                due_date: Value::Null,
                private: false,
                now: "2026-05-04T15:30:00Z",
            });
        }
        data.add_scale_rfis(seed, scale, &manager);
        data
    }

    /// Numbered directly: `add_rfi` counts the project's RFIs, which is quadratic here.
    fn add_scale_rfis(&mut self, seed: u64, scale: usize, manager: &Value) {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        const TOPICS: [&str; 6] = [
            "Door hardware",
            "Slab edge",
            "Duct routing",
            "Rebar lap",
            "Paint finish",
            "Anchor bolts",
        ];
        for number in 1..=scale {
            let status = ["open", "open", "closed", "draft"][rng.random_range(0..4)];
            let topic = TOPICS[rng.random_range(0..TOPICS.len())];
            let subject = format!("{topic} question {number:05}");
            let due_date = match rng.random_range(0..3) {
                0 => Value::Null,
                _ => json!(format!(
                    "2026-{:02}-{:02}",
                    rng.random_range(1..=12),
                    rng.random_range(1..=28)
                )),
            };
            let id = self.next_id();
            let record = NewRfi {
                project_id: SCALE_PROJECT_ID,
                subject: &subject,
                status,
                manager: manager.clone(),
                question: "Please advise.",
                due_date,
                private: false,
                now: "2026-05-04T15:30:00Z",
            }
            .into_record(id, number);
            self.rfis.push(record);
        }
    }

    /// The sandbox's three people and a few subcontractor companies.
    fn seed_directory(&mut self) {
        let vendors = [
            (7_001, "Acme Concrete", "Concrete"),
            (7_002, "Bright Electric", "Electrical"),
            (7_003, "Summit Glazing", "Curtain Wall"),
        ];
        for (id, name, trade) in vendors {
            let vendor = json!({
                "id": id,
                "name": name,
                "abbreviated_name": name.split_whitespace().next(),
                "is_active": true,
                "city": "Carpinteria",
                "state_code": "CA",
                "trades": [{ "id": id + 100, "name": trade }],
                "origin_id": null,
                "created_at": "2026-01-05T10:00:00Z",
                "updated_at": "2026-01-05T10:00:00Z",
            });
            self.vendors.push((SANDBOX_COMPANY_ID, vendor));
        }
        let people = [
            (
                4_201_001,
                "Test",
                "Architect",
                "sandbox+arch@example.com",
                "Architect",
                None,
            ),
            (
                4_201_002,
                "Test",
                "Subcontractor",
                "sandbox+sub@example.com",
                "Foreman",
                Some((7_001, "Acme Concrete")),
            ),
            (
                4_201_003,
                "API",
                "Support",
                "sandbox+api@example.com",
                "Support",
                None,
            ),
        ];
        for (id, first, last, email, job, vendor) in people {
            let (name, initials) = person_names(first, last);
            let person = json!({
                "id": id,
                "name": name,
                "initials": initials,
                "first_name": first,
                "last_name": last,
                "email_address": email,
                "job_title": job,
                "is_active": true,
                "is_employee": vendor.is_none(),
                "vendor": vendor.map(|(id, name)| json!({ "id": id, "name": name })),
                "created_at": "2026-01-05T10:00:00Z",
                "updated_at": "2026-01-05T10:00:00Z",
            });
            // The sandbox project's three project users (procore-api.md §1.1).
            let mut member = person.clone();
            let (template_id, template) = if vendor.is_some() {
                PERMISSION_TEMPLATES[1]
            } else {
                PERMISSION_TEMPLATES[0]
            };
            member["permission_template"] = json!({ "id": template_id, "name": template });
            self.project_users.push((SANDBOX_PROJECT_ID, member));
            self.company_users.push((SANDBOX_COMPANY_ID, person));
        }
    }

    /// One project's folders and files.
    pub fn documents_of(&self, project_id: u64) -> Vec<Value> {
        self.documents
            .iter()
            .filter(|d| d["project_id"] == project_id)
            .cloned()
            .collect()
    }

    /// The sandbox project's folder structure (procore-api.md §1.1).
    fn seed_documents(&mut self) {
        let stamp = "2026-05-04T15:30:00Z";
        // (id, parent, kind, name, path)
        let entries: [(u64, Option<u64>, &str, &str, &str); 7] = [
            (6_000, None, "folder", "Documents", ""),
            (6_001, Some(6_000), "folder", "Drawings", "Drawings"),
            (
                6_002,
                Some(6_000),
                "folder",
                "Specifications",
                "Specifications",
            ),
            (6_003, Some(6_000), "folder", "Photos", "Photos"),
            (
                6_101,
                Some(6_001),
                "file",
                "A-101 Floor Plan.pdf",
                "Drawings/A-101 Floor Plan.pdf",
            ),
            (
                6_102,
                Some(6_002),
                "file",
                "Project Manual.pdf",
                "Specifications/Project Manual.pdf",
            ),
            (
                6_103,
                Some(6_003),
                "file",
                "Site Photo 001.jpg",
                "Photos/Site Photo 001.jpg",
            ),
        ];
        for (id, parent, kind, name, path) in entries {
            let mut document = json!({
                "id": id,
                "project_id": SANDBOX_PROJECT_ID,
                "document_type": kind,
                "name": name,
                "name_with_path": path,
                "parent_id": parent,
                "private": false,
                "is_deleted": false,
                "created_at": stamp,
                "updated_at": stamp,
            });
            if kind == "file" {
                document["size"] = json!(120_000 + id);
                document["file_versions"] = json!([{ "id": id * 10, "number": 1, "size": 120_000 + id, "created_at": stamp }]);
            } else {
                document["is_recycle_bin"] = json!(false);
                document["read_only"] = json!(false);
            }
            self.documents.push(document);
        }
    }

    pub fn collection(&self, key: &str) -> &[Value] {
        self.collections
            .get(key)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    pub fn collection_mut(&mut self, key: &'static str) -> &mut Vec<Value> {
        self.collections.entry(key).or_default()
    }

    /// Like the Developer Sandbox: one submittal, plus a few items to list.
    fn seed_collections(&mut self) {
        let stamp = "2026-05-04T15:30:00Z";
        let p = SANDBOX_PROJECT_ID;
        let seeds: [(&'static str, Value); 7] = [
            (
                "submittals",
                json!({ "number": "08 71 00-1", "formatted_number": "08 71 00-1", "title": "Door hardware product data", "status": { "id": 1, "name": "Open", "status": "open" }, "type": { "id": 1, "name": "Product Information" }, "revision": "0", "due_date": "2026-06-15" }),
            ),
            (
                "submittals",
                json!({ "number": "03 30 00-1", "formatted_number": "03 30 00-1", "title": "Concrete mix design", "status": { "id": 2, "name": "Approved", "status": "closed" }, "type": { "id": 2, "name": "Shop Drawing" }, "revision": "1", "due_date": "2026-04-01" }),
            ),
            (
                "observations",
                json!({ "number": "1", "name": "Missing guardrail at level 2", "status": "initiated", "priority": "High", "type": { "id": 11, "name": "Safety" }, "description": "East stair" }),
            ),
            (
                "observations",
                json!({ "number": "2", "name": "Housekeeping in loading dock", "status": "ready_for_review", "priority": "Low", "type": { "id": 12, "name": "Quality" }, "description": "" }),
            ),
            (
                "punch_items",
                json!({ "position": 1, "name": "Touch up paint at door 101", "status": "open", "priority": "low", "description": "Scuffs" }),
            ),
            (
                "punch_items",
                json!({ "position": 2, "name": "Replace cracked tile in lobby", "status": "closed", "priority": "medium", "description": "" }),
            ),
            (
                "change_events",
                json!({ "number": "001", "title": "Owner requested lobby upgrade", "scope": "out_of_scope", "status": { "id": 1, "name": "Open" } }),
            ),
        ];
        for (key, mut record) in seeds {
            let id = self.next_id();
            record["id"] = json!(id);
            record["project_id"] = json!(p);
            record["created_at"] = json!(stamp);
            record["updated_at"] = json!(stamp);
            self.collection_mut(key).push(record);
        }
    }

    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Adds an RFI numbered after the project's last one.
    pub fn add_rfi(&mut self, rfi: NewRfi<'_>) -> Value {
        let number = self
            .rfis
            .iter()
            .filter(|r| r["project_id"] == rfi.project_id)
            .count()
            + 1;
        let id = self.next_id();
        let record = rfi.into_record(id, number);
        self.rfis.push(record.clone());
        record
    }

    pub fn project(&self, id: u64) -> Option<&Value> {
        self.projects.iter().find(|p| p["id"] == id)
    }

    pub fn company(&self, id: u64) -> Option<&Company> {
        self.companies.iter().find(|c| c.id == id)
    }
}

/// The fields of an RFI someone creates; ids, numbers and derived fields are added.
pub struct NewRfi<'a> {
    pub project_id: u64,
    pub subject: &'a str,
    pub status: &'a str,
    pub manager: Value,
    pub question: &'a str,
    pub due_date: Value,
    pub private: bool,
    pub now: &'a str,
}

impl NewRfi<'_> {
    fn into_record(self, id: u64, number: usize) -> Value {
        let status = self.status;
        json!({
            "id": id,
            "project_id": self.project_id,
            "number": number.to_string(),
            "full_number": number.to_string(),
            "prefix": "",
            "subject": self.subject,
            "status": status,
            "translated_status": status[..1].to_uppercase() + &status[1..],
            "private": self.private,
            "draft": status == "draft",
            "due_date": self.due_date,
            "rfi_manager": self.manager,
            "assignees": [],
            "questions": [{ "id": id + 1, "body": self.question }],
            "created_at": self.now,
            "updated_at": self.now,
        })
    }
}
