"""Sign-in: Django's model backend, except that the demo password is refused on an install
whose DEBUG is off (DESIGN.md §6), even for demo accounts left in a production database."""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from certifications.demo import DEMO_PASSWORD


class DemoAwareModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not settings.DEMO_PASSWORD_ALLOWED and password == DEMO_PASSWORD:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
