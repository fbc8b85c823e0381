//! Personal API tokens: created in the app, shown once, stored hashed, revocable.
