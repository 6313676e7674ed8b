from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    # As the README tells site owners to wire the customers' login.
    path("accounts/", include("wagtail_tickets.urls")),
    path("", include(wagtail_urls)),
]
