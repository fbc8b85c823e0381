//! One typed configuration: an optional `trestle.toml`, overridden by `TRESTLE_*`
//! environment variables (`__` separates levels: `TRESTLE_DATABASE__URL`).
//! Anything invalid stops start-up with a message that names the key.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use figment::value::Value;
use serde::Deserialize;
use url::Url;

use crate::data_source::Environment;

pub const ENV_PREFIX: &str = "TRESTLE_";
/// Names the config file; not itself a setting.
pub const CONFIG_FILE_VAR: &str = "TRESTLE_CONFIG";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Parse(#[from] Box<figment::Error>),
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
    #[error("configuration file {path}: {message}")]
    File { path: PathBuf, message: String },
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        message: message.into(),
    }
}

/// A string that must never be printed: `Debug` shows a placeholder.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseEndpoint {
    /// `mem://`: gone when the process ends; tests.
    Memory,
    /// `surrealkv://PATH`: embedded, on disk; the default.
    SurrealKv(PathBuf),
    /// `ws://HOST:PORT` or `wss://…`: a SurrealDB server shared by several Trestle servers.
    Remote(String),
}

impl DatabaseEndpoint {
    pub fn parse(url: &str) -> Result<Self, String> {
        if url == "mem://" || url == "memory" {
            return Ok(DatabaseEndpoint::Memory);
        }
        if let Some(path) = url.strip_prefix("surrealkv://") {
            if path.is_empty() {
                return Err("surrealkv:// needs a path, e.g. surrealkv://./data/db".into());
            }
            return Ok(DatabaseEndpoint::SurrealKv(PathBuf::from(path)));
        }
        if let Some(rest) = url
            .strip_prefix("ws://")
            .or_else(|| url.strip_prefix("wss://"))
        {
            if rest.is_empty() || rest.contains('/') {
                return Err("expected ws://HOST:PORT".into());
            }
            return Ok(DatabaseEndpoint::Remote(url.to_string()));
        }
        Err(format!(
            "`{url}` is not supported; use mem://, surrealkv://PATH or ws://HOST:PORT"
        ))
    }

    /// The address handed to the SurrealDB client.
    pub fn address(&self) -> String {
        match self {
            DatabaseEndpoint::Memory => "mem://".into(),
            DatabaseEndpoint::SurrealKv(path) => format!("surrealkv://{}", path.display()),
            DatabaseEndpoint::Remote(url) => url.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub endpoint: DatabaseEndpoint,
    /// Root credentials for a remote server; embedded engines need none.
    pub user: Option<String>,
    pub password: Option<Secret>,
    pub namespace: String,
    pub database: String,
}

/// Login and API hosts of one Procore environment (procore-api.md §1.1).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProcoreHosts {
    pub login_host: Url,
    pub api_host: Url,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: Secret,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProcoreConfig {
    pub live: ProcoreHosts,
    pub monthly_sandbox: ProcoreHosts,
    pub developer_sandbox: ProcoreHosts,
    /// Valid for Live and Monthly Sandbox.
    pub production_client: Option<OAuthClient>,
    /// Valid for Developer Sandbox.
    pub sandbox_client: Option<OAuthClient>,
    /// Serve the built-in Procore simulator under `/procore-sim` and point every
    /// environment at it. On by default until real client credentials are configured.
    pub simulator: bool,
    /// How long list-field options are served from memory before Procore is asked again.
    pub options_cache_seconds: u64,
    /// How long one call to Procore may take before it is given up; a request's calls,
    /// retries and waits included, take at most twice this.
    pub timeout_seconds: u64,
}

/// The first administrator, created when the database has no users.
#[derive(Debug, Clone)]
pub struct AdminBootstrap {
    pub email: String,
    pub name: String,
    /// When absent a one-time password is generated and printed to the log.
    pub password: Option<Secret>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// The address people use to reach Trestle: origin checks, secure cookies, OAuth redirects.
    pub public_url: Url,
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub secret_key_file: PathBuf,
    /// Set directly (e.g. from a secrets manager) instead of the key file.
    pub secret_key: Option<Secret>,
    pub admin: AdminBootstrap,
    pub session_idle_minutes: u32,
    pub procore: ProcoreConfig,
}

/// Where one environment's OAuth and REST calls go, and the app credentials they use.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcoreEndpoint {
    pub login_host: Url,
    pub api_host: Url,
    pub client: Option<OAuthClient>,
}

/// The path the built-in simulator is served under.
pub const SIMULATOR_PATH: &str = "/procore-sim";

impl Config {
    /// Where Procore sends people back after they allow or deny access.
    pub fn oauth_redirect_uri(&self) -> Url {
        let mut url = self.public_url.clone();
        url.set_path("/oauth/callback");
        url.set_query(None);
        url
    }

    /// The hosts and credentials of `environment`: the configured ones, or the built-in
    /// simulator's when it is on.
    pub fn procore_endpoint(&self, environment: Environment) -> ProcoreEndpoint {
        let sim_env = match environment {
            Environment::Live => procore_sim::Environment::Live,
            Environment::MonthlySandbox => procore_sim::Environment::MonthlySandbox,
            Environment::DeveloperSandbox => procore_sim::Environment::DeveloperSandbox,
        };
        if self.procore.simulator {
            let mut host = self.public_url.clone();
            host.set_path(&format!("{SIMULATOR_PATH}/{}", sim_env.prefix()));
            host.set_query(None);
            let defaults = procore_sim::SimConfig::default();
            let credentials = match sim_env.client_pair() {
                procore_sim::ClientPair::Production => defaults.production,
                procore_sim::ClientPair::Sandbox => defaults.sandbox,
            };
            return ProcoreEndpoint {
                login_host: host.clone(),
                api_host: host,
                client: Some(OAuthClient {
                    client_id: credentials.client_id,
                    client_secret: Secret::new(credentials.client_secret),
                }),
            };
        }
        let (hosts, client) = match environment {
            Environment::Live => (&self.procore.live, &self.procore.production_client),
            Environment::MonthlySandbox => (
                &self.procore.monthly_sandbox,
                &self.procore.production_client,
            ),
            Environment::DeveloperSandbox => (
                &self.procore.developer_sandbox,
                &self.procore.sandbox_client,
            ),
        };
        ProcoreEndpoint {
            login_host: hosts.login_host.clone(),
            api_host: hosts.api_host.clone(),
            client: client.clone(),
        }
    }

    /// Serves https, so cookies must be `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// Reads `trestle.toml` (or the file named by `TRESTLE_CONFIG`) and the process environment.
    pub fn load() -> Result<Config, ConfigError> {
        let explicit = std::env::var_os(CONFIG_FILE_VAR).map(PathBuf::from);
        let path = explicit
            .clone()
            .unwrap_or_else(|| PathBuf::from("trestle.toml"));
        let toml = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => None,
            Err(e) => {
                return Err(ConfigError::File {
                    path,
                    message: e.to_string(),
                });
            }
        };
        Config::from_sources(toml.as_deref(), std::env::vars())
    }

    /// The pure part of [`Config::load`], so tests need not touch the process environment.
    pub fn from_sources(
        toml: Option<&str>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::new();
        if let Some(toml) = toml {
            figment = figment.merge(Toml::string(toml));
        }
        for (name, value) in env {
            let Some(key) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if name == CONFIG_FILE_VAR || key.is_empty() {
                continue;
            }
            let key = key.to_ascii_lowercase().replace("__", ".");
            // Kept as text; `extract_lossy` turns it into a number or bool where the key wants one,
            // so a numeric client id or password stays a string.
            figment = figment.merge(Serialized::default(&key, Value::from(value)));
        }
        let raw: RawConfig = figment.extract_lossy().map_err(Box::new)?;
        raw.resolve()
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: Option<SocketAddr>,
    public_url: Option<String>,
    data_dir: Option<PathBuf>,
    #[serde(default)]
    database: RawDatabase,
    #[serde(default)]
    secret: RawSecret,
    #[serde(default)]
    admin: RawAdmin,
    #[serde(default)]
    session: RawSession,
    #[serde(default)]
    procore: RawProcore,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: Option<String>,
    user: Option<String>,
    password: Option<Secret>,
    namespace: Option<String>,
    database: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSecret {
    key: Option<Secret>,
    key_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAdmin {
    email: Option<String>,
    name: Option<String>,
    password: Option<Secret>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSession {
    idle_minutes: Option<u32>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawProcore {
    live: Option<ProcoreHosts>,
    monthly_sandbox: Option<ProcoreHosts>,
    developer_sandbox: Option<ProcoreHosts>,
    production_client: Option<OAuthClient>,
    sandbox_client: Option<OAuthClient>,
    simulator: Option<bool>,
    options_cache_seconds: Option<u64>,
    timeout_seconds: Option<u64>,
}

fn hosts(login: &str, api: &str) -> ProcoreHosts {
    ProcoreHosts {
        login_host: Url::parse(login).expect("built-in Procore host"),
        api_host: Url::parse(api).expect("built-in Procore host"),
    }
}

fn check_hosts(key: &'static str, hosts: &ProcoreHosts) -> Result<(), ConfigError> {
    for url in [&hosts.login_host, &hosts.api_host] {
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(invalid(key, format!("`{url}` is not an http(s) host")));
        }
    }
    Ok(())
}

fn check_client(key: &'static str, client: &Option<OAuthClient>) -> Result<(), ConfigError> {
    if let Some(client) = client
        && (client.client_id.trim().is_empty() || client.client_secret.expose().trim().is_empty())
    {
        return Err(invalid(key, "client_id and client_secret must both be set"));
    }
    Ok(())
}

impl RawConfig {
    fn resolve(self) -> Result<Config, ConfigError> {
        let listen = self
            .listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000)));
        let public_url = match self.public_url {
            Some(raw) => {
                let url = Url::parse(&raw).map_err(|e| invalid("public_url", e.to_string()))?;
                if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                    return Err(invalid("public_url", "must be an http(s) URL"));
                }
                url
            }
            None => Url::parse(&format!("http://{listen}")).expect("socket address URL"),
        };
        let data_dir = self.data_dir.unwrap_or_else(|| PathBuf::from("data"));

        let endpoint = match self.database.url {
            Some(url) => {
                DatabaseEndpoint::parse(url.trim()).map_err(|m| invalid("database.url", m))?
            }
            None => DatabaseEndpoint::SurrealKv(data_dir.join("db")),
        };
        let ident = |key: &'static str, value: Option<String>| -> Result<String, ConfigError> {
            let value = value.unwrap_or_else(|| "trestle".into());
            if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(invalid(key, "use letters, digits and _ only"));
            }
            Ok(value)
        };
        let database = DatabaseConfig {
            namespace: ident("database.namespace", self.database.namespace)?,
            database: ident("database.database", self.database.database)?,
            user: self.database.user,
            password: self.database.password,
            endpoint,
        };
        if matches!(database.endpoint, DatabaseEndpoint::Remote(_))
            && (database.user.is_none() || database.password.is_none())
        {
            return Err(invalid(
                "database.user",
                "a ws:// database needs database.user and database.password",
            ));
        }

        if let Some(key) = &self.secret.key {
            super::crypto::SecretKey::from_base64(key.expose())
                .map_err(|m| invalid("secret.key", m))?;
        }

        let admin_email = self
            .admin
            .email
            .unwrap_or_else(|| "admin@trestle.local".into());
        let admin_email = crate::model::normalize_email(&admin_email)
            .map_err(|e| invalid("admin.email", e.to_string()))?;
        if let Some(password) = &self.admin.password {
            crate::model::validate_new_password("admin.password", password.expose())
                .map_err(|e| invalid("admin.password", e.to_string()))?;
        }

        let session_idle_minutes = self.session.idle_minutes.unwrap_or(8 * 60);
        if !(5..=60 * 24 * 30).contains(&session_idle_minutes) {
            return Err(invalid(
                "session.idle_minutes",
                "must be between 5 and 43200 (30 days)",
            ));
        }

        let procore = ProcoreConfig {
            live: self
                .procore
                .live
                .unwrap_or_else(|| hosts("https://login.procore.com", "https://api.procore.com")),
            monthly_sandbox: self.procore.monthly_sandbox.unwrap_or_else(|| {
                hosts(
                    "https://login-sandbox-monthly.procore.com",
                    "https://api-monthly.procore.com",
                )
            }),
            developer_sandbox: self.procore.developer_sandbox.unwrap_or_else(|| {
                hosts(
                    "https://login-sandbox.procore.com",
                    "https://sandbox.procore.com",
                )
            }),
            simulator: self.procore.simulator.unwrap_or(
                self.procore.production_client.is_none() && self.procore.sandbox_client.is_none(),
            ),
            options_cache_seconds: self.procore.options_cache_seconds.unwrap_or(30),
            timeout_seconds: self.procore.timeout_seconds.unwrap_or(20),
            production_client: self.procore.production_client,
            sandbox_client: self.procore.sandbox_client,
        };
        check_hosts("procore.live", &procore.live)?;
        check_hosts("procore.monthly_sandbox", &procore.monthly_sandbox)?;
        check_hosts("procore.developer_sandbox", &procore.developer_sandbox)?;
        check_client("procore.production_client", &procore.production_client)?;
        check_client("procore.sandbox_client", &procore.sandbox_client)?;
        if !(1..=600).contains(&procore.timeout_seconds) {
            return Err(invalid(
                "procore.timeout_seconds",
                "must be between 1 and 600",
            ));
        }

        Ok(Config {
            listen,
            public_url,
            secret_key_file: self
                .secret
                .key_file
                .unwrap_or_else(|| data_dir.join("secret.key")),
            secret_key: self.secret.key,
            data_dir,
            database,
            admin: AdminBootstrap {
                email: admin_email,
                name: self.admin.name.unwrap_or_else(|| "Administrator".into()),
                password: self.admin.password,
            },
            session_idle_minutes,
            procore,
        })
    }
}

impl Config {
    /// A configuration for tests: in-memory database, fixed key, no files touched.
    pub fn for_tests() -> Config {
        Config::from_sources(
            None,
            [
                ("TRESTLE_DATABASE__URL".to_string(), "mem://".to_string()),
                (
                    "TRESTLE_SECRET__KEY".to_string(),
                    super::crypto::SecretKey::generate().to_base64(),
                ),
            ],
        )
        .expect("test configuration is valid")
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn error_text(toml: Option<&str>, pairs: &[(&str, &str)]) -> String {
        Config::from_sources(toml, env(pairs))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn defaults_need_no_configuration() {
        let config = Config::from_sources(None, env(&[])).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(config.public_url.as_str(), "http://127.0.0.1:3000/");
        assert_eq!(
            config.database.endpoint,
            DatabaseEndpoint::SurrealKv(PathBuf::from("data/db"))
        );
        assert_eq!(config.secret_key_file, PathBuf::from("data/secret.key"));
        assert_eq!(
            config.procore.live.api_host.as_str(),
            "https://api.procore.com/"
        );
        assert_eq!(
            config.procore.developer_sandbox.login_host.as_str(),
            "https://login-sandbox.procore.com/"
        );
        assert!(!config.secure_cookies());
        assert_eq!(config.procore.timeout_seconds, 20);
    }

    #[test]
    fn environment_overrides_the_file() {
        let toml = r#"
            listen = "127.0.0.1:4000"
            [database]
            url = "surrealkv:///var/lib/trestle"
            [procore.production_client]
            client_id = "file-id"
            client_secret = "file-secret"
        "#;
        let config = Config::from_sources(
            Some(toml),
            env(&[
                ("TRESTLE_LISTEN", "0.0.0.0:5000"),
                ("TRESTLE_DATABASE__URL", "mem://"),
                ("TRESTLE_PUBLIC_URL", "https://trestle.example.com"),
                ("TRESTLE_PROCORE__PRODUCTION_CLIENT__CLIENT_ID", "env-id"),
                ("OTHER_VAR", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(config.listen.to_string(), "0.0.0.0:5000");
        assert_eq!(config.database.endpoint, DatabaseEndpoint::Memory);
        assert!(config.secure_cookies());
        let client = config.procore.production_client.unwrap();
        assert_eq!(client.client_id, "env-id");
        assert_eq!(client.client_secret.expose(), "file-secret");
    }

    #[test]
    fn invalid_values_name_their_key() {
        let text = error_text(None, &[("TRESTLE_LISTEN", "not-an-address")]);
        assert!(text.contains("listen"), "{text}");

        let text = error_text(None, &[("TRESTLE_DATABASE__URL", "postgres://x")]);
        assert!(text.contains("database.url"), "{text}");

        let text = error_text(Some("[session]\nidle_minutes = 1"), &[]);
        assert!(text.contains("session.idle_minutes"), "{text}");

        let text = error_text(None, &[("TRESTLE_ADMIN__EMAIL", "nobody")]);
        assert!(text.contains("admin.email"), "{text}");

        let text = error_text(None, &[("TRESTLE_SECRET__KEY", "too-short")]);
        assert!(text.contains("secret.key"), "{text}");

        let text = error_text(
            Some("[procore.live]\nlogin_host = \"ftp://x\"\napi_host = \"https://a\""),
            &[],
        );
        assert!(text.contains("procore.live"), "{text}");

        let text = error_text(None, &[("TRESTLE_DATABASE__URL", "ws://db:8000")]);
        assert!(text.contains("database.user"), "{text}");

        let text = error_text(None, &[("TRESTLE_PROCORE__TIMEOUT_SECONDS", "0")]);
        assert!(text.contains("procore.timeout_seconds"), "{text}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let text = error_text(Some("lisen = \"127.0.0.1:1\""), &[]);
        assert!(text.contains("lisen"), "{text}");
        let text = error_text(None, &[("TRESTLE_DATABSE__URL", "mem://")]);
        assert!(text.contains("databse"), "{text}");
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let config = Config::from_sources(
            None,
            env(&[
                ("TRESTLE_ADMIN__PASSWORD", "correct horse battery"),
                ("TRESTLE_PROCORE__SANDBOX_CLIENT__CLIENT_ID", "id"),
                (
                    "TRESTLE_PROCORE__SANDBOX_CLIENT__CLIENT_SECRET",
                    "s3cr3t-value",
                ),
            ]),
        )
        .unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("correct horse"));
        assert!(!printed.contains("s3cr3t-value"));
    }

    #[test]
    fn database_urls_parse() {
        assert_eq!(
            DatabaseEndpoint::parse("mem://").unwrap(),
            DatabaseEndpoint::Memory
        );
        assert_eq!(
            DatabaseEndpoint::parse("ws://127.0.0.1:8000")
                .unwrap()
                .address(),
            "ws://127.0.0.1:8000"
        );
        assert!(DatabaseEndpoint::parse("surrealkv://").is_err());
        assert!(DatabaseEndpoint::parse("ws://host:1/path").is_err());
    }
}
