//! Cloud Connect agents for administrators: enrolment tokens, the agent list, revoking.
