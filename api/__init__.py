"""The HTTP API (FastAPI) for the people who use gridcase: grid workers, center staff,
departments and supervisors. ``api.app.create_app`` is the composition root."""
