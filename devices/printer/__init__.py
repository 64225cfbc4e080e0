"""ESC/POS receipt printers: templates, status, drivers for serial/USB/network/file, a simulator."""
