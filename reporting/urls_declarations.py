"""URLs of the declarations of holders to the Caisse des Dépôts."""

urlpatterns = []
