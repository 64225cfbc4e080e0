"""Protocol libraries for the hall and field hardware. Imports nothing else of servicehall."""
