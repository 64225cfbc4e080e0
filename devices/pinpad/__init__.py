"""The encrypting PIN pad (EPP): the kiosk asks for a PIN and gets back only an encrypted block.

``pinblock`` builds and reads ISO 9564 format-0 PIN blocks; ``pinpad.PinPad`` is the seam a
real EPP driver implements (vendors' serial protocols are not public); ``simulator`` is a PIN
pad that encrypts a PIN the test or demo "types" under the terminal's PIN key.
"""
