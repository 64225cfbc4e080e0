"""The Kivy kiosk: one .kv per screen, presenters with no Kivy import, a hall-API client.

Not built yet (a later issue); it may import ``devices`` and the hall API's client only.
"""
