"""Places and geometry. Coordinates are GeoJSON order ``(lon, lat)`` (WGS 84) everywhere."""
