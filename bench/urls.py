"""The console's URLs plus the benchmark's floors (bench/floors.py), under /bench-floor/."""

from django.urls import path

from bench import floors
from swrconsole.urls import handler500
from swrconsole.urls import urlpatterns as console_urlpatterns

urlpatterns = [
    *console_urlpatterns,
    path("bench-floor/signed-in-post", floors.signed_in_post),
    path("bench-floor/registries/<uuid:registry_id>/generate", floors.generate),
    path("bench-floor/token", floors.token),
    path("bench-floor/token-with-permissions", floors.token_with_permissions),
    path("bench-floor/token-with-redis", floors.token_with_permissions_and_redis),
    path("bench-floor/registries/<uuid:registry_id>/signed-list", floors.signed_list),
    path("bench-floor/registries/<uuid:registry_id>/signed-secret", floors.signed_create_secret),
    path("bench-floor/registries/<uuid:registry_id>/cached-page", floors.cached_page),
    path("bench-floor/token-post", floors.token_post),
    path("bench-floor/token-refresh", floors.token_refresh),
]

__all__ = ["handler500", "urlpatterns"]
