//! `surreal-server start --bind 127.0.0.1:PORT --user root --pass root memory`: SurrealDB's
//! own command line, for tests that need a database server several Trestle processes share.

fn main() -> std::process::ExitCode {
    surrealdb_server::init(surrealdb_core::CommunityComposer())
}
