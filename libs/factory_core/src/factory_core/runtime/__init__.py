"""What runs a service: configuration, its process's life under gunicorn, logs, metrics, traces."""
