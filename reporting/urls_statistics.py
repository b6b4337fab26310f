"""URLs of the statistics page and the annual activity report."""

urlpatterns = []
