//! The `--state-file`: the landing zone written as JSON after every change and read back at start,
//! so a restarted emulator keeps its accounts, products and records. Faults, counters and the
//! event log are not persisted.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::state::LandingZone;

/// Version of the file layout, checked on load.
const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Error)]
pub enum PersistenceError {
    #[error("cannot read state file {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("state file {path} is not a valid emulator state: {source}; move it away to start from the seed")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("state file {path} has format version {found}, this emulator reads version {FORMAT_VERSION}; move it away to start from the seed")]
    Version { path: PathBuf, found: u32 },
    #[error("cannot write state file {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

#[derive(Serialize, Deserialize)]
struct StateFile {
    format_version: u32,
    landing_zone: LandingZone,
}

/// Reads the state file, or returns `Ok(None)` when it does not exist yet.
pub fn load(path: &Path) -> Result<Option<LandingZone>, PersistenceError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(PersistenceError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let file: StateFile =
        serde_json::from_str(&text).map_err(|source| PersistenceError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
    if file.format_version != FORMAT_VERSION {
        return Err(PersistenceError::Version {
            path: path.to_path_buf(),
            found: file.format_version,
        });
    }
    Ok(Some(file.landing_zone))
}

/// Writes the state to a temporary file beside `path` and renames it over `path`, so a crash
/// mid-write leaves the previous state intact.
pub fn save(path: &Path, zone: &LandingZone) -> Result<(), PersistenceError> {
    let write_error = |source| PersistenceError::Write {
        path: path.to_path_buf(),
        source,
    };
    let file = StateFile {
        format_version: FORMAT_VERSION,
        landing_zone: zone.clone(),
    };
    let text = serde_json::to_string_pretty(&file)
        .map_err(|error| write_error(io::Error::other(error)))?;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, text).map_err(write_error)?;
    std::fs::rename(&temporary, path).map_err(write_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Seed;
    use crate::timestamp::Timestamp;

    #[test]
    fn round_trip() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let path = directory.path().join("state.json");
        assert!(load(&path).expect("missing file is fine").is_none());
        let zone = Seed::default_landing_zone()
            .into_landing_zone(Timestamp::now())
            .expect("valid seed");
        save(&path, &zone).expect("saved");
        assert_eq!(load(&path).expect("loaded"), Some(zone));
    }

    #[test]
    fn corrupt_file_is_an_error() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let path = directory.path().join("state.json");
        std::fs::write(&path, "{not json").expect("written");
        assert!(matches!(load(&path), Err(PersistenceError::Parse { .. })));
    }
}
