//! Cloud Connect agents and enrolment tokens: stored hashed, never the secrets themselves.
