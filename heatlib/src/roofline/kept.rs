//! Keeping the ceilings: measured once per machine, kept in a JSON file, read back.

use std::path::{Path, PathBuf};

use super::{Ceilings, machine};
use crate::error::{HeatError, Result};

/// Bumped when the file's contents change meaning, so that an old file is measured again.
pub(super) const FORMAT: u32 = 2;
/// The environment variable that names the file the ceilings are kept in.
pub const FILE_VARIABLE: &str = "HEAT_ROOFLINE_FILE";

impl Ceilings {
    /// The ceilings kept for this machine, measured (and kept) first if there
    /// are none yet, or if the ones kept are from another CPU, core count or
    /// file format. The file is [`FILE_VARIABLE`] if set, else
    /// `$XDG_CACHE_HOME/heat-accel/roofline.json` (`~/.cache/...`).
    pub fn of_this_machine() -> Result<Ceilings> {
        let path = Ceilings::file();
        if let Some(kept) = path.as_ref().and_then(|path| Ceilings::load(path).ok())
            && kept.format == FORMAT
            && kept.cpu == machine::cpu_model()
            && kept.cores == machine::cores()
            && machine::caches().is_ok_and(|caches| caches == kept.caches)
        {
            return Ok(kept);
        }
        let measured = Ceilings::measure()?;
        if let Some(path) = path {
            // Keeping them only saves the next measurement; a cache that cannot be
            // written (a read-only home) costs a few seconds next time, no more.
            let _ = measured.save(&path);
        }
        Ok(measured)
    }

    /// Where [`Ceilings::of_this_machine`] keeps them.
    pub fn file() -> Option<PathBuf> {
        let nonempty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(path) = nonempty(FILE_VARIABLE) {
            return Some(path.into());
        }
        let cache = nonempty("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| nonempty("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
        Some(cache.join("heat-accel").join("roofline.json"))
    }

    /// Reads ceilings written by [`Ceilings::save`] or `heat roofline --json`.
    pub fn load(path: &Path) -> Result<Ceilings> {
        let text = std::fs::read_to_string(path).map_err(|e| HeatError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        serde_json::from_str(&text).map_err(|e| HeatError::File {
            path: path.display().to_string(),
            message: format!("not ceilings heatlib wrote: {e}"),
        })
    }

    /// Writes them as JSON, whole or not at all.
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(|e| HeatError::File {
                path: folder.display().to_string(),
                message: e.to_string(),
            })?;
        }
        crate::files::write_text(path, &(self.to_json() + "\n"))
    }

    /// The ceilings as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
