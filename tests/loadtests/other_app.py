"""An app the kit was not written for: a Django project with two pages, as `django-admin
startproject` and two views give, in one module so a test can serve it with Waitress:

    python -m waitress --listen=127.0.0.1:PORT tests.loadtests.other_app:application

Its pages are not the seed's 140 characters. Django's own redirects are real here:
CommonMiddleware sends `/items` to `/items/` (APPEND_SLASH), and with `SSL_REDIRECT=1`
SecurityMiddleware sends every request to https://, as a Heroku app's SECURE_SSL_REDIRECT does.
"""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="only-for-a-loopback-test-app",
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.common.CommonMiddleware",
    ],
    SECURE_SSL_REDIRECT=os.environ.get("SSL_REDIRECT") == "1",
)


def home(_request):
    return HttpResponse("<!DOCTYPE html><html><body><h1>Home</h1></body></html>")


def items(_request):
    rows = "".join(f"<li>item {n}</li>" for n in range(20))
    return HttpResponse(f"<!DOCTYPE html><html><body><h1>Items</h1><ul>{rows}</ul></body></html>")


urlpatterns = [path("", home), path("items/", items)]
application = get_wsgi_application()
