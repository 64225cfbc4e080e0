"""What the LED board and the hall screen show, and when (``content``), and driving them (``driver``)."""
