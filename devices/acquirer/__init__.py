"""Card acquiring over ISO 8583: the terminal side, its simulator and the day's settlement file.

``protocol`` turns typed messages into China UnionPay-style frames (2-byte length, TPDU, BCD
numerics, an ISO 9797-1 retail MAC) and back, refusing anything else with a typed reason;
``connection`` only opens, writes and reads frames; ``client.Acquirer`` runs an authorisation
exactly once per idempotency key, reversing whatever it cannot be sure of; ``simulator`` is
an acquirer on a TCP port that speaks the same bytes, with faults; ``settlement`` writes and
parses the acquirer's daily file.
"""
