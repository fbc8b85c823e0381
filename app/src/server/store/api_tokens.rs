//! Personal API tokens: stored as hashes, never as the token itself.
