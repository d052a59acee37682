"""The grid worker's mobile terminal (移动信息采集终端) at ``/m/``: an installable web app
(manifest and service worker) that keeps reports, verifications and checks on the phone
until the network lets them through. docs/mobile.md says how it works.

The phone talks to the API itself (``/v1``) with a bearer token it gets by signing in
here, so the mobile app allows exactly what the API allows; ``/m/api/`` adds only what
the app needs to start offline: the token, and his grids, the categories and his grids'
open cases in one read each.
"""
