"""The demo CRM: a deterministic database following the data contract, with documented faults."""
