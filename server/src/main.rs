use app::server::config::Config;
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            EnvFilter::new("info,surrealdb=warn,surrealdb_core=warn,surrealkv=warn")
        }))
        .init();

    let config = match Config::load() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("Trestle cannot start: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let leptos_options = match leptos::config::get_configuration(None) {
        Ok(conf) => conf.leptos_options,
        Err(e) => {
            eprintln!("Trestle cannot start: leptos configuration: {e}");
            return std::process::ExitCode::from(2);
        }
    };

    // The embedded SurrealDB engine recurses deeply; the default 2 MiB stacks overflow.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(10 << 20)
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(server::serve(config, leptos_options, |addr| {
        tracing::info!("Trestle is listening on http://{addr}");
    }));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Trestle stopped: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
