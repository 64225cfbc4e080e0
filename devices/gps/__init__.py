"""Vehicle GPS units speaking NMEA 0183 (GP, GN and BD talkers)."""
