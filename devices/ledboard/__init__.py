"""LED hall boards: the Alpha Sign Communications Protocol, Chinese as bitmaps, a simulator."""
