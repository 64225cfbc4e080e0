"""Work orders, crews, assignment, the MQTT adapter, the technician app, the dispatcher console.

Not built yet (a later issue). The schema it needs (work_orders, crews, technicians,
technician_skills, gps_fixes) is in ``servicedb``; MQTT topics live under ``servicehall/v1``.
"""
