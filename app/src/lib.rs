//! Trestle's web application: pages, components, server functions and the types they
//! share. Server-only code lives in [`server`], compiled with the `ssr` feature.

#![recursion_limit = "256"]

pub mod api;
pub mod data_source;
pub mod error;
pub mod form;
pub mod model;
pub mod record;
#[cfg(feature = "ssr")]
pub mod server;
pub mod ui;

pub use ui::{App, shell};
