"""The hall's queue: tickets, counters, calling, wait estimates. Plain Python over servicedb."""
