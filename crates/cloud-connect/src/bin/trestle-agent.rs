//! `trestle-agent --server URL [--token T] [--state PATH] [--name NAME] [--procore-host URL]...`

use std::path::PathBuf;
use std::process::ExitCode;

use cloud_connect::agent::{self, AgentConfig, Event};
use url::Url;

const USAGE: &str = "\
Usage: trestle-agent --server URL [--token TOKEN] [--state PATH] [--name NAME] [--procore-host URL]...

  --server URL        Trestle's address, e.g. https://trestle.example.com
  --token TOKEN       a one-time enrolment token from Administration > Cloud Connect
                      (needed on the first run only)
  --state PATH        where the agent keeps its credentials (default: trestle-agent.json)
  --name NAME         the name administrators see (default: this machine's name)
  --procore-host URL  a host the agent may call; repeat for several
                      (default: Procore's login and API hosts)";

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = match parse(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts");
    let outcome = runtime.block_on(async {
        tokio::select! {
            outcome = agent::run(config, report) => outcome,
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trestle-agent: {e}");
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}

/// Connections go to stdout (what an operator watches for), the rest to the log.
fn report(event: Event) {
    match event {
        Event::Enrolled { agent_id } => tracing::info!(%agent_id, "enrolled"),
        Event::Connected { agent_id, name } => {
            println!("connected as {name} ({agent_id})");
        }
        Event::Disconnected { reason, retry_in } => {
            tracing::warn!(%reason, retry_in = ?retry_in, "disconnected; reconnecting");
        }
    }
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<AgentConfig, String> {
    let mut server = None;
    let mut token = None;
    let mut state = PathBuf::from("trestle-agent.json");
    let mut name = None;
    let mut hosts = Vec::new();
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--server" => server = Some(url(&value()?)?),
            "--token" => token = Some(value()?),
            "--state" => state = PathBuf::from(value()?),
            "--name" => name = Some(value()?),
            "--procore-host" => hosts.push(url(&value()?)?),
            "--help" | "-h" => return Err("trestle-agent: the Trestle Cloud Connect agent".into()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    let server = server.ok_or("--server is required")?;
    let mut config = AgentConfig::new(server, state);
    config.enrolment_token = token;
    if let Some(name) = name {
        config.name = name;
    }
    if !hosts.is_empty() {
        config.procore_hosts = hosts;
    }
    Ok(config)
}

fn url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("{text} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("{text} is not an http(s) address"));
    }
    Ok(url)
}
