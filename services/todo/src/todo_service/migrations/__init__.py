"""The todo service's migration steps, applied in order (factory_core.data.migrations)."""
