"""Domain services: plain Python over ``servicedb``; no HTTP, no Kivy, no devices."""
