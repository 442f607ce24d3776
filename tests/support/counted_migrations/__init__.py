"""Steps of tests/integration/factory_core/test_migrations.py: each counts its runs."""
