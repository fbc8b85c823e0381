//! The Trestle web server: configuration in, a running axum app out. `main.rs` is a thin
//! wrapper so integration tests can start the very same server on a random port.

mod access;
mod origin;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use app::server::AppState;
use app::server::auth::{self, RequestSession};
use app::server::config::{Config, SIMULATOR_PATH};
use app::server::crypto::SecretKey;
use app::server::procore::Procore;
use app::server::store::Store;
use app::{App, shell};
use axum::Router;
use axum::routing::get;
use leptos::config::LeptosOptions;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(#[from] app::server::config::ConfigError),
    #[error("secret key: {0}")]
    SecretKey(String),
    #[error("database: {0}")]
    Store(#[from] app::server::store::StoreError),
    #[error("creating the first administrator: {0}")]
    Bootstrap(app::error::AppError),
    #[error("listening on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Connects the store, creates the first administrator if needed, and builds the router.
pub async fn build(
    config: Config,
    leptos_options: LeptosOptions,
) -> Result<(Router, AppState), StartError> {
    let secret_key = match &config.secret_key {
        Some(key) => SecretKey::from_base64(key.expose()).map_err(StartError::SecretKey)?,
        None => {
            SecretKey::load_or_create(&config.secret_key_file).map_err(StartError::SecretKey)?
        }
    };
    let store = Store::connect(&config.database).await?;
    if let Some(password) = auth::bootstrap_admin(&store, &config.admin)
        .await
        .map_err(StartError::Bootstrap)?
    {
        // The one place a password is ever printed: it is single-use by design.
        tracing::warn!(
            "Created the first administrator {} with one-time password {password} — sign in and choose a new password.",
            config.admin.email
        );
    }
    let config = Arc::new(config);
    let state = AppState {
        leptos_options,
        procore: Procore::new(config.clone(), store.clone(), &secret_key),
        config,
        store,
        secret_key,
    };
    Ok((router(state.clone()), state))
}

/// The app's routes, listed once per process. Leptos lists them by rendering the app with
/// every resource's loading switched off by one process-wide flag, so a listing made while
/// another router in the same process serves a page would leave that page waiting forever
/// (tests run many servers in one process; so may anyone embedding [`router`]).
fn routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    let routes = routes();
    let context = {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            // Looked up before rendering began (`access::look_up_session`).
            let session = use_context::<http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<RequestSession>().cloned())
                .unwrap_or_default();
            provide_context(session);
        }
    };
    let public_origin = origin::Origin::of(&state.config.public_url);
    let mut router = Router::new()
        .route("/health", get(|| async { "ok" }))
        .merge(app::server::oauth_flow::routes())
        .merge(app::server::cloud_connect::routes())
        .nest("/api/v1", app::server::rest_api::router())
        .route(
            "/api/v1/",
            axum::routing::any(app::server::rest_api::no_such_route),
        );
    if state.config.procore.simulator {
        router = router.nest_service(SIMULATOR_PATH, simulator(&state.config));
    }
    let pages = Router::new()
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::look_up_session,
        ));
    router
        .merge(pages)
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::gate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            public_origin,
            origin::refuse_cross_origin_writes,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(1 << 20))
        .with_state(state)
}

/// The built-in Procore simulator for the default run, without its `/_sim` switches,
/// registered to send people back to this server.
fn simulator(config: &Config) -> Router {
    let sim = procore_sim::Simulator::new(procore_sim::SimConfig {
        redirect_uris: vec![config.oauth_redirect_uri().to_string()],
        ..procore_sim::SimConfig::default()
    });
    procore_sim::api_router(sim)
}

/// Binds and serves until ctrl-c / SIGTERM. Returns the bound address through `on_bound`
/// (port 0 picks a free one).
pub async fn serve(
    config: Config,
    leptos_options: LeptosOptions,
    on_bound: impl FnOnce(SocketAddr),
) -> Result<(), StartError> {
    let addr = config.listen;
    let (router, state) = build(config, leptos_options).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| StartError::Listen { addr, source })?;
    auth::spawn_session_sweeper(state.store.clone());
    app::server::procore::spawn_sweeper(state.store.clone());
    on_bound(bound);
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|source| StartError::Listen {
            addr: bound,
            source,
        })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
