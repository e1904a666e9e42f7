"""Studies: typed configs (TOML presets + --set overrides) that expand into trials for the engine."""

from actlab.studies.config import ConfigError, load_config, parse_override

__all__ = ["ConfigError", "load_config", "parse_override"]
