//! `procore-sim --port PORT`: serves the three environments on one port, under
//! `/live`, `/monthly-sandbox` and `/developer-sandbox`.

use std::net::SocketAddr;
use std::process::ExitCode;

use procore_sim::{Environment, SimConfig, Simulator, router};

fn usage() -> ExitCode {
    eprintln!("usage: procore-sim [--port PORT] [--seed N] [--scale N] [--redirect-uri URI]...");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let mut port: u16 = 4000;
    let mut config = SimConfig::default();
    let mut args = std::env::args();
    args.next(); // the program name
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--port", Some(value)) => match value.parse() {
                Ok(p) => port = p,
                Err(_) => return usage(),
            },
            ("--redirect-uri", Some(value)) => config.redirect_uris.push(value),
            ("--seed", Some(value)) => match value.parse() {
                Ok(seed) => config.seed = seed,
                Err(_) => return usage(),
            },
            ("--scale", Some(value)) => match value.parse() {
                Ok(scale) => config.scale = scale,
                Err(_) => return usage(),
            },
            _ => return usage(),
        }
    }
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async move {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("procore-sim: cannot listen on {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let sim = Simulator::new(config.clone());
        for env in Environment::ALL {
            let pair = match env.client_pair() {
                procore_sim::ClientPair::Production => &config.production,
                procore_sim::ClientPair::Sandbox => &config.sandbox,
            };
            tracing::info!(
                "{env:?}: http://{addr}/{} (client_id {})",
                env.prefix(),
                pair.client_id
            );
        }
        match axum::serve(listener, router(sim)).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("procore-sim: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
