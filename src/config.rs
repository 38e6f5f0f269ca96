//! `growsafe.toml`: which rules run and how views are rewritten, for a tree of files.
//!
//! The closest `growsafe.toml` above each file applies (no merging between files, like ruff);
//! `--config PATH` names one for every file, `--no-config` ignores them all. Command-line flags
//! win over the file: `--select` replaces `select`, `--ignore` adds to `ignore`, `--heap-style`
//! replaces `heap-style`.
//!
//! ```toml
//! select = ["heap-snapshot", "heap-destructure", "asyncify-sleep-alloc"]
//! ignore = []
//! heap-style = "getter"          # getter | accessor | proxy
//!
//! [[overrides]]                  # later entries win; paths are relative to this file
//! files = ["src/lib/**/*.ts"]
//! ignore = ["heap-snapshot"]
//! heap-style = "accessor"
//! ```

use std::path::{Path, PathBuf};
use std::str::FromStr;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::passes::{HeapStyle, Options, PassId};

/// The name growsafe looks for.
pub const FILE_NAME: &str = "growsafe.toml";

/// A loaded, validated configuration file.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from.
    pub path: PathBuf,
    base: Settings,
    overrides: Vec<(GlobSet, Settings)>,
}

#[derive(Debug, Clone, Default)]
struct Settings {
    select: Option<Vec<PassId>>,
    ignore: Vec<PassId>,
    heap_style: Option<HeapStyle>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSettings {
    select: Option<Vec<String>>,
    #[serde(default)]
    ignore: Vec<String>,
    heap_style: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    #[serde(flatten)]
    settings: RawSettings,
    #[serde(default)]
    overrides: Vec<RawOverride>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawOverride {
    files: Vec<String>,
    #[serde(flatten)]
    settings: RawSettings,
}

/// Why a configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown keys or values.
    #[error("invalid `{path}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl Config {
    /// Loads and validates `path`.
    ///
    /// # Errors
    /// The file cannot be read, is not TOML, or names unknown keys, rules or styles.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Parses the text of a configuration file that lives at `path`.
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| invalid(e.to_string().trim_end().to_owned()))?;
        let base = settings(raw.settings).map_err(invalid)?;
        let mut overrides = Vec::new();
        for (i, o) in raw.overrides.into_iter().enumerate() {
            let mut set = GlobSetBuilder::new();
            for pattern in &o.files {
                let glob = Glob::new(pattern)
                    .map_err(|e| invalid(format!("overrides[{i}].files: {e}")))?;
                set.add(glob);
            }
            let set = set
                .build()
                .map_err(|e| invalid(format!("overrides[{i}].files: {e}")))?;
            overrides.push((
                set,
                settings(o.settings).map_err(|e| invalid(format!("overrides[{i}]: {e}")))?,
            ));
        }
        Ok(Config {
            path: path.to_owned(),
            base,
            overrides,
        })
    }

    /// The closest `growsafe.toml` in `dir` or above it.
    ///
    /// # Errors
    /// The file found is invalid.
    pub fn discover(dir: &Path) -> Result<Option<Config>, ConfigError> {
        for ancestor in dir.ancestors() {
            let candidate = ancestor.join(FILE_NAME);
            if candidate.is_file() {
                return Config::load(&candidate).map(Some);
            }
        }
        Ok(None)
    }

    /// The options for `file`: this configuration's, then matching overrides, then the command
    /// line's (`cli`), in increasing precedence.
    #[must_use]
    pub fn options_for(&self, file: &Path, cli: &CliOptions) -> Options {
        let root = self.path.parent().unwrap_or(Path::new(""));
        let relative = file.strip_prefix(root).unwrap_or(file);
        let mut effective = self.base.clone();
        for (set, o) in &self.overrides {
            if set.is_match(relative) {
                if o.select.is_some() {
                    effective.select.clone_from(&o.select);
                }
                effective.ignore.extend(o.ignore.iter().copied());
                effective.heap_style = o.heap_style.or(effective.heap_style);
            }
        }
        cli.apply(Some(effective))
    }
}

/// What the command line says about rules and style, before any configuration file.
#[derive(Debug, Clone, Default)]
pub struct CliOptions {
    /// `--select`, if given.
    pub select: Option<Vec<PassId>>,
    /// `--ignore`.
    pub ignore: Vec<PassId>,
    /// `--heap-style`, if given.
    pub heap_style: Option<HeapStyle>,
}

impl CliOptions {
    /// The options when no configuration file applies.
    #[must_use]
    pub fn without_config(&self) -> Options {
        self.apply(None)
    }

    fn apply(&self, config: Option<Settings>) -> Options {
        let config = config.unwrap_or_default();
        let mut ignore = config.ignore;
        ignore.extend(self.ignore.iter().copied());
        Options {
            heap_style: self.heap_style.or(config.heap_style).unwrap_or_default(),
            select: self.select.clone().or(config.select),
            ignore,
        }
    }
}

fn settings(raw: RawSettings) -> Result<Settings, String> {
    let passes = |names: Vec<String>| {
        names
            .iter()
            .map(|n| PassId::from_str(n))
            .collect::<Result<Vec<_>, _>>()
    };
    let heap_style = match raw.heap_style.as_deref() {
        None => None,
        Some("getter") => Some(HeapStyle::Getter),
        Some("accessor") => Some(HeapStyle::Accessor),
        Some("proxy") => Some(HeapStyle::Proxy),
        Some(other) => {
            return Err(format!(
                "unknown heap-style `{other}` (getter, accessor or proxy)"
            ));
        }
    };
    Ok(Settings {
        select: raw.select.map(passes).transpose()?,
        ignore: passes(raw.ignore)?,
        heap_style,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("/repo/growsafe.toml")).unwrap()
    }

    #[test]
    fn file_settings_then_overrides_then_cli() {
        let c = config(
            "ignore = [\"asyncify-sleep-alloc\"]\nheap-style = \"proxy\"\n\
             [[overrides]]\nfiles = [\"src/**/*.ts\"]\nheap-style = \"accessor\"\nignore = [\"heap-snapshot\"]\n",
        );
        let cli = CliOptions::default();
        let js = c.options_for(Path::new("/repo/build/app.js"), &cli);
        assert_eq!(js.heap_style, HeapStyle::Proxy);
        assert!(
            js.passes().contains(&PassId::HeapSnapshot)
                && !js.passes().contains(&PassId::AsyncifySleepAlloc)
        );
        let ts = c.options_for(Path::new("/repo/src/lib/user.ts"), &cli);
        assert_eq!(ts.heap_style, HeapStyle::Accessor);
        assert!(
            !ts.passes().contains(&PassId::HeapSnapshot)
                && ts.passes().contains(&PassId::HeapDestructure)
        );
        let forced = CliOptions {
            heap_style: Some(HeapStyle::Getter),
            select: Some(vec![PassId::HeapSnapshot]),
            ..CliOptions::default()
        };
        let ts = c.options_for(Path::new("/repo/src/lib/user.ts"), &forced);
        assert_eq!(ts.heap_style, HeapStyle::Getter);
        assert!(
            ts.passes().is_empty(),
            "--select heap-snapshot, but the override ignores it"
        );
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let err = Config::parse("select = [\"nope\"]", Path::new("growsafe.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("growsafe.toml") && err.contains("unknown pass `nope`"),
            "{err}"
        );
        let err = Config::parse("colour = 1", Path::new("growsafe.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `colour`"), "{err}");
        let err = Config::parse("heap-style = \"fancy\"", Path::new("growsafe.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown heap-style `fancy`"), "{err}");
    }
}
