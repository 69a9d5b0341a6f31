//! Shared helpers for ctc's test runners.

use std::path::PathBuf;

/// `../shared` beside the repository, where the corpus and oracle live, or
/// `None` (tests then skip with a message saying so).
pub fn shared_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    dir.is_dir().then(|| dir.canonicalize().unwrap_or(dir))
}

/// Repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}
