"""The web app: FastAPI, server-rendered Korean pages, SSE streaming, a REST API and a job worker.

Start it with ``assistant serve``; build it in code with :func:`assistant.web.app.create_app`.
"""
