"""Work orders, crews, assignment, the MQTT adapter, the technician app, the dispatcher console.

Built so far, the pure core (plain dataclasses in, decisions out; no database, MQTT or HTTP):

- ``vocabulary`` — categories, statuses and actors, equal by value to ``servicedb``'s enums;
- ``orders`` — the status machine: ``transition(state, event)`` → Applied / Ignored / Refused;
- ``sla`` — deadlines per category × priority, ``sla_state``, idempotent ``escalate``;
- ``owntracks`` — ``parse(topic, payload, now)`` → Fix / Lwt / Ignored / Rejected,
  ``to_owntracks(fix)``, and ``FixFilter`` for monotone live positions;
- ``assign`` — ``best_crew_now`` for an urgent order, ``plan_backlog`` (linear assignment);
- ``routes`` — ``plan_routes``: day routes with VROOM, or our greedy fallback;
- ``assignments`` — the JSON between central and a technician's phone over MQTT
  (assignment, progress, ack), with strict parsers.

The MQTT adapter, the technician app and the dispatcher console come next; the schema they
need (work_orders, crews, technicians, technician_skills, gps_fixes) is in ``servicedb``.
"""
