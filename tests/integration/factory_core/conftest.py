"""Fixtures for the factory_core tests: the sample service on the test's database."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from tests.support import AppFactory
from tests.support.sample import create_sample


@pytest.fixture
def sample_app(make_app: AppFactory) -> Flask:
    return make_app(create_sample)


@pytest.fixture
def client(sample_app: Flask) -> Any:
    return sample_app.test_client()
