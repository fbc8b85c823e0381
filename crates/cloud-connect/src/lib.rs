//! Trestle Cloud Connect: an agent inside a customer's network carries the Procore calls of
//! the data sources assigned to it, over one outbound WebSocket to the Trestle server.
//!
//! [`protocol`] is what both sides say; [`agent`] is the agent itself (the `trestle-agent`
//! binary is a thin command line over it). The server's side lives in the Trestle app.

pub mod agent;
pub mod protocol;
