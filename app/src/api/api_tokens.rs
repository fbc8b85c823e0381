//! Personal API tokens: the caller's own, listed, created (shown once) and revoked.
