"""The results store: one SQLite file of trials and curves (DESIGN §3.4, docs/results.md)."""

from actlab.results.store import SCHEMA_VERSION, Store, StoreError, TrialRecord, trial_id

__all__ = ["SCHEMA_VERSION", "Store", "StoreError", "TrialRecord", "trial_id"]
