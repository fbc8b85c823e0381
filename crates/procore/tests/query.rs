//! The query API over the catalogue, against the simulator: every catalogued object
//! answers at the paths the catalogue names, checks happen before requests, and filters
//! and sorts give the same records whether Procore or the client applies them.

mod common;

use std::sync::Arc;

use common::*;
use procore::catalogue::{Operation, Scoped, catalogue};
use procore::query::{Direction, Filter, ListQuery, Operator};
use procore::{Client, Error, MemoryTokenStore};
use procore_sim::data::{SANDBOX_COMPANY_ID, SANDBOX_PROJECT_ID, SCALE_PROJECT_ID};
use serde_json::{Map, Value, json};

fn scope(project: u64) -> Scoped {
    Scoped {
        company_id: SANDBOX_COMPANY_ID,
        project_id: Some(project),
        id: None,
    }
}

async fn signed_in(h: &Harness) -> Client {
    let client = h.client(h.config("ds"), Arc::new(MemoryTokenStore::default()));
    h.authorize(&client).await;
    client
}

fn ids(records: &[Value]) -> Vec<u64> {
    records.iter().map(|r| r["id"].as_u64().unwrap()).collect()
}

fn object(key: &str) -> &'static procore::catalogue::ObjectDef {
    catalogue().get(key).unwrap()
}

#[tokio::test]
async fn every_catalogued_object_lists_and_shows_at_its_paths() {
    let h = Harness::start(roomy()).await;
    let client = signed_in(&h).await;
    for object in catalogue().objects() {
        let listing = client
            .list_objects(object, &scope(SANDBOX_PROJECT_ID), &ListQuery::default())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", object.key));
        assert!(
            !listing.records.is_empty(),
            "{}: the seed has some",
            object.key
        );
        let first = &listing.records[0];
        assert!(
            first.get(&object.value_field).is_some(),
            "{}: value field {} present",
            object.key,
            object.value_field
        );
        if object.supports(Operation::Get) {
            let id = first["id"].as_u64().unwrap();
            let shown = client
                .get_object(object, &scope(SANDBOX_PROJECT_ID), id)
                .await
                .unwrap_or_else(|e| panic!("{} get: {e}", object.key));
            assert_eq!(shown["id"], id, "{}", object.key);
        }
    }
}

/// Procore filters only by equality; the other comparisons read the list and decide here,
/// on the same values, so they split a list exactly as equality does.
#[tokio::test]
async fn other_comparisons_are_made_by_the_client_on_the_same_values() {
    let h = Harness::start(procore_sim::SimConfig {
        scale: 300,
        ..roomy()
    })
    .await;
    let client = signed_in(&h).await;
    let rfis = object("rfis");
    let list = |filters: Vec<Filter>| {
        let client = client.clone();
        async move {
            client
                .list_objects(
                    rfis,
                    &scope(SCALE_PROJECT_ID),
                    &ListQuery {
                        filters,
                        ..ListQuery::default()
                    },
                )
                .await
                .unwrap()
        }
    };
    let with_op = |field: &str, op, value: &str| Filter {
        field: field.into(),
        op,
        values: vec![value.into()],
    };
    let all = list(Vec::new()).await;
    let open = list(vec![Filter::eq("status", vec!["open".into()])]).await;
    let not_open = list(vec![with_op("status", Operator::Ne, "open")]).await;
    assert!(open.total > 0 && not_open.total > 0);
    assert_eq!(open.total + not_open.total, all.total);
    assert!(not_open.records.iter().all(|r| r["status"] != "open"));

    let middle = all.records[all.records.len() / 2]["id"].as_u64().unwrap();
    let above = list(vec![with_op("id", Operator::Gt, &middle.to_string())]).await;
    let at_most = list(vec![with_op("id", Operator::Le, &middle.to_string())]).await;
    assert_eq!(above.total + at_most.total, all.total);
    assert!(ids(&above.records).iter().all(|id| *id > middle));

    // Together with an equality that Procore applies, on one page.
    let query = ListQuery {
        filters: vec![
            Filter::eq("status", vec!["open".into()]),
            with_op("subject", Operator::Contains, "a"),
        ],
        page: Some((1, 10)),
        ..ListQuery::default()
    };
    let page = client
        .list_objects(rfis, &scope(SCALE_PROJECT_ID), &query)
        .await
        .unwrap();
    let expected: Vec<_> = open
        .records
        .iter()
        .filter(|r| r["subject"].as_str().unwrap().to_lowercase().contains('a'))
        .collect();
    assert_eq!(page.total, expected.len() as u64);
    assert_eq!(
        ids(&page.records),
        expected
            .iter()
            .take(10)
            .map(|r| r["id"].as_u64().unwrap())
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn sorts_and_filters_agree_wherever_they_run() {
    let h = Harness::start(procore_sim::SimConfig {
        scale: 400,
        ..roomy()
    })
    .await;
    let client = signed_in(&h).await;
    let rfis = object("rfis");
    let cases = [
        ListQuery {
            sort: Some(("subject".into(), Direction::Desc)),
            ..ListQuery::default()
        },
        ListQuery {
            filters: vec![Filter::eq("status", vec!["open".into()])],
            sort: Some(("due_date".into(), Direction::Asc)),
            ..ListQuery::default()
        },
        ListQuery {
            filters: vec![Filter::eq("status", vec!["closed".into(), "draft".into()])],
            sort: Some(("updated_at".into(), Direction::Desc)),
            page: Some((2, 25)),
            ..ListQuery::default()
        },
    ];
    for query in cases {
        let remote = client
            .list_objects(rfis, &scope(SCALE_PROJECT_ID), &query)
            .await
            .unwrap();
        let local = client
            .list_objects(
                rfis,
                &scope(SCALE_PROJECT_ID),
                &ListQuery {
                    evaluate_locally: true,
                    ..query.clone()
                },
            )
            .await
            .unwrap();
        assert!(!remote.records.is_empty(), "{query:?}");
        assert_eq!(remote.total, local.total, "{query:?}");
        assert_eq!(ids(&remote.records), ids(&local.records), "{query:?}");
    }

    // Company users sort by a nested-free field server-side and by vendor name locally.
    let users = object("company_users");
    let by_name = ListQuery {
        sort: Some(("last_name".into(), Direction::Asc)),
        ..ListQuery::default()
    };
    let remote = client
        .list_objects(users, &scope(SANDBOX_PROJECT_ID), &by_name)
        .await
        .unwrap();
    let local = client
        .list_objects(
            users,
            &scope(SANDBOX_PROJECT_ID),
            &ListQuery {
                evaluate_locally: true,
                ..by_name
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&remote.records), ids(&local.records));
}

#[tokio::test]
async fn a_page_done_by_procore_is_one_request() {
    let h = Harness::start(procore_sim::SimConfig {
        scale: 400,
        ..roomy()
    })
    .await;
    let client = signed_in(&h).await;
    let query = ListQuery {
        sort: Some(("subject".into(), Direction::Asc)),
        page: Some((3, 20)),
        ..ListQuery::default()
    };
    let listing = client
        .list_objects(object("rfis"), &scope(SCALE_PROJECT_ID), &query)
        .await
        .unwrap();
    assert_eq!(listing.records.len(), 20);
    assert_eq!(listing.total, 400);
    assert_eq!(
        h.requests("GET /developer-sandbox/rest/v1.0/projects/{project_id}/rfis"),
        1
    );
}

#[tokio::test]
async fn what_the_catalogue_rules_out_never_reaches_procore() {
    let h = Harness::start(roomy()).await;
    let client = signed_in(&h).await;
    let before = h.sim.counters().requests;

    let delete = client
        .delete_object(
            object("projects"),
            &scope(SANDBOX_PROJECT_ID),
            SANDBOX_PROJECT_ID,
        )
        .await;
    match delete {
        Err(Error::Catalogue(e)) => assert_eq!(e.to_string(), "Procore has no delete for Projects"),
        other => panic!("expected the catalogue to refuse, got {other:?}"),
    }

    let mut attributes = Map::new();
    attributes.insert("due_date".into(), json!("2026-02-30"));
    let create = client
        .create_object(object("rfis"), &scope(SANDBOX_PROJECT_ID), attributes)
        .await;
    match create {
        Err(Error::Validation { errors }) => {
            assert!(errors.contains_key("subject"), "{errors:?}");
            assert!(errors.contains_key("due_date"), "{errors:?}");
        }
        other => panic!("expected field errors, got {other:?}"),
    }
    let unknown = client
        .list_objects(
            object("rfis"),
            &scope(SANDBOX_PROJECT_ID),
            &ListQuery {
                sort: Some(("colour".into(), Direction::Asc)),
                ..ListQuery::default()
            },
        )
        .await;
    assert!(matches!(unknown, Err(Error::Validation { .. })));
    assert_eq!(h.sim.counters().requests, before, "no request was sent");
}

#[tokio::test]
async fn punch_items_are_created_updated_and_deleted() {
    let h = Harness::start(roomy()).await;
    let client = signed_in(&h).await;
    let punch = object("punch_items");
    let at = scope(SANDBOX_PROJECT_ID);
    let mut attributes = Map::new();
    attributes.insert("name".into(), json!("Touch up paint in lobby"));
    let created = client.create_object(punch, &at, attributes).await.unwrap();
    let id = created["id"].as_u64().unwrap();
    assert_eq!(created["name"], "Touch up paint in lobby");

    let mut change = Map::new();
    change.insert("name".into(), json!("Touch up paint in lobby and hall"));
    let updated = client.update_object(punch, &at, id, change).await.unwrap();
    assert_eq!(updated["name"], "Touch up paint in lobby and hall");

    let found = client
        .list_objects(
            punch,
            &at,
            &ListQuery {
                search: Some("HALL".into()),
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(&found.records), [id]);

    client.delete_object(punch, &at, id).await.unwrap();
    assert!(matches!(
        client.get_object(punch, &at, id).await,
        Err(Error::NotFound)
    ));
}
