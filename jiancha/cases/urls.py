urlpatterns: list = []
app_name = "cases"
