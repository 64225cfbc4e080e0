"""The dispatcher console page, its script and style, and Leaflet 1.9.4 (vendored from npm)."""
