"""What the LED board and the hall screen show, and when. Not built yet (the hall issue)."""
