"""Flow telemetry: schema, readers, stores and the verification of whether a change carried traffic."""
