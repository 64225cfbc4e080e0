"""The kiosk's glass: Kivy only. One ``.kv`` per screen under ``kv/``; screen classes that
draw a presenter's ``view()`` and pass taps to the core. Call ``kiosk.ui.boot.boot`` before
anything here imports Kivy (it sets the panel size, kiosk mode and the Chinese font)."""
