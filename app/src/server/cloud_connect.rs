//! Cloud Connect on the server: enrolment, the agents' WebSocket connections, and the
//! Procore transport that sends a data source's calls through its agent.
