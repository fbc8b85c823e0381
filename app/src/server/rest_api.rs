//! The REST API under `/api/v1`, for programs: data sources, objects and records,
//! authenticated with personal API tokens.

use axum::Router;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
