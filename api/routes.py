"""How Public API routes are declared: each app's `api/urls.py` lists its endpoints with
`api_path`, and config/urls.py mounts them all under /v1/.  A trailing slash is tolerated on every
path; the schema documents only the published spelling (`api.schema.published_paths_only`)."""

from django.urls import path


def api_path(route: str, view, name: str) -> list:
    return [path(route, view, name=name), path(f"{route}/", view)]
