"""Magnetic-stripe card reader (ISO/IEC 7813) over serial; an interface ready for EMV readers."""
