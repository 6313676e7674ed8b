from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    # Customers log in on the site, not in the Wagtail admin, to see all their tickets.
    path("accounts/", include("wagtail_tickets.urls")),
]

if settings.DEBUG:
    # Development only. Ticket attachments sit under random folder names and the desk
    # links to them only through its permission-checking view.
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Wagtail's catch-all page serving comes last.
urlpatterns += [path("", include(wagtail_urls))]
