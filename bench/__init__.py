"""`make bench`: wrk against the services and a hand-written baseline, under real gunicorn."""
