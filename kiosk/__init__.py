"""The self-service kiosk (自助终端): Kivy screens over presenters that hold every rule.

Layers, from the glass inwards:

- ``kiosk.ui`` — Kivy only: one ``.kv`` per screen, thin screen classes that draw a
  presenter's view and pass taps on. The only package here that imports Kivy.
- ``kiosk.core`` and ``kiosk.presenters`` — what each screen shows and does, as plain Python
  (unit-tested without a window); ``kiosk.idle`` forgets the customer after inactivity.
- ``kiosk.payments`` — card payments exactly once: one idempotency key per attempt, a
  journal that survives a restart, recording with the hall retried until it answers.
- ``kiosk.cards``, ``kiosk.receipts``, ``kiosk.speech``, ``kiosk.fonts`` — the kiosk's own
  devices and assets, on top of ``devices``.
- ``kiosk.process`` — builds the real or simulated parts and runs the app
  (``servicehall kiosk``).

The kiosk talks to nothing but the hall API (``servicehall.hall.kiosk_client``) and its own
devices; it holds no business state of its own beyond the payment journal.
"""
