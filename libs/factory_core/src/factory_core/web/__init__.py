"""The HTTP face of a service: the Api, problem details, pages, probes and HTTP hygiene."""
