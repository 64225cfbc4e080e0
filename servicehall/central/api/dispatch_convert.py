"""Domain answers → the API's schemas. One function per shape; no logic beyond the mapping."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from domain.callers import CallerCard
from domain.dispatch_kpis import KpiRow
from domain.dispatch_plans import CrewState, Plan, Suggestion
from domain.work_order_views import Alert, CrewRef, OrderView, TimelineEntry
from domain.work_orders import Change
from servicedb.models import Outage
from servicehall.central.api import dispatch_schemas as s


def crew_of(crew: CrewRef) -> s.CrewOut:
    return s.CrewOut(id=crew.id, code=crew.code, name_zh=crew.name_zh, name_en=crew.name_en)


def crew_out(crew: CrewRef | None) -> s.CrewOut | None:
    return None if crew is None else crew_of(crew)


def order_out(view: OrderView) -> s.OrderOut:
    fields: dict[str, Any] = {
        name: getattr(view, name)
        for name in s.OrderOut.model_fields
        if name not in ("crew", "sla_clocks")
    }
    return s.OrderOut(
        **fields,
        crew=crew_out(view.crew),
        sla_clocks=[
            s.SlaClockOut(
                milestone=c.milestone,
                due_at=c.due_at,
                level=c.level,
                share_used=c.share_used,
                met=c.met,
            )
            for c in view.sla_clocks
        ],
    )


def timeline_out(entry: TimelineEntry) -> s.TimelineEntryOut:
    return s.TimelineEntryOut(
        seq=entry.seq,
        kind=entry.kind,
        at=entry.at,
        recorded_at=entry.recorded_at,
        actor=entry.actor,
        actor_name=entry.actor_name,
        status_after=entry.status_after,
        crew=crew_out(entry.crew),
        priority=entry.priority,
        result=entry.result,
        score=entry.score,
        note=entry.note,
        implied=list(entry.implied),
    )


def change_out(change: Change, overridden: tuple[str, ...] = ()) -> s.ChangeOut:
    return s.ChangeOut(
        order=order_out(change.order),
        applied=change.applied,
        ignored=change.ignored,
        implied=list(change.implied),
        overridden=list(overridden),
    )


def suggestion_out(suggestion: Suggestion) -> s.SuggestionOut:
    return s.SuggestionOut(
        order=order_out(suggestion.order),
        best=crew_out(suggestion.best),
        options=[
            s.CrewOptionOut(
                crew=crew_of(o.crew), eta_s=o.eta_s, fits=o.fits, unfit=o.unfit, score=o.score
            )
            for o in suggestion.options
        ],
        no_crew_reason=suggestion.no_crew_reason,
    )


def plan_out(plan: Plan) -> s.PlanOut:
    return s.PlanOut(
        made_at=plan.made_at,
        lines=[
            s.PlanLineOut(
                order_id=line.order_id,
                number=line.number,
                priority=line.priority,
                version=line.version,
                outcome=line.outcome,
                crew=crew_out(line.crew),
                crew_holds=list(line.crew_holds),
                eta_s=line.eta_s,
                reason=line.reason,
            )
            for line in plan.lines
        ],
    )


def crew_state_out(state: CrewState, now: datetime) -> s.CrewStateOut:
    return s.CrewStateOut(
        crew=crew_of(state.crew),
        lon=state.lon,
        lat=state.lat,
        located_by=state.located_by,
        fix_at=state.fix_at,
        stale=state.stale,
        on_duty=state.core.on_duty,
        activity=state.core.activity.value,
        skills=sorted(skill.value for skill in state.core.skills),
        holds=list(state.holds),
        technicians=[
            s.TechnicianOut(
                tracker_user=t.tracker_user,
                lon=t.lon,
                lat=t.lat,
                fix_at=t.fix_at,
                age_s=t.age_s(now),
                stale=t.stale,
                speed_kmh=t.speed_kmh,
                accuracy_m=t.accuracy_m,
            )
            for t in state.technicians
        ],
    )


def caller_out(card: CallerCard) -> s.CallerOut:
    return s.CallerOut(
        phone=card.phone,
        known=card.known,
        more_accounts=card.more_accounts,
        customers=[
            s.CustomerOut(
                name=c.name,
                is_vip=c.is_vip,
                accounts=[
                    s.AccountOut(
                        account_no=a.account_no,
                        service_kind=a.service_kind,
                        status=a.status,
                        address_zh=a.address_zh,
                        address_en=a.address_en,
                        lon=a.lon,
                        lat=a.lat,
                        zone_code=a.zone_code,
                        zone_name_zh=a.zone_name_zh,
                        arrears_fen=a.arrears_fen,
                        bills=[
                            s.BillOut(
                                period_start=b.period_start,
                                period_end=b.period_end,
                                consumption_litres=b.consumption_litres,
                                amount_fen=b.amount_fen,
                                paid_fen=b.paid_fen,
                                due_date=b.due_date,
                                state=b.state.value,
                            )
                            for b in a.bills
                        ],
                        payments=[
                            s.PaymentOut(
                                paid_at=p.paid_at,
                                amount_fen=p.amount_fen,
                                kind=p.kind,
                                method=p.method,
                                card_masked=p.card_masked,
                            )
                            for p in a.payments
                        ],
                    )
                    for a in c.accounts
                ],
            )
            for c in card.customers
        ],
        orders=[order_out(o) for o in card.orders],
        outages=[
            s.OutageNoteOut(
                id=o.id,
                kind=o.kind,
                status=o.status,
                title_zh=o.title_zh,
                title_en=o.title_en,
                starts_at=o.starts_at,
                estimated_restore_at=o.estimated_restore_at,
                affects=list(o.affects),
            )
            for o in card.outages
        ],
    )


def outage_out(outage: Outage) -> s.OutageOut:
    return s.OutageOut(
        id=outage.id,
        kind=outage.kind.value,
        status=outage.status.value,
        title_zh=outage.title_zh,
        title_en=outage.title_en,
        area=json.loads(outage.area_geojson),
        affected_count=outage.affected_count,
        starts_at=outage.starts_at,
        estimated_restore_at=outage.estimated_restore_at,
    )


def alert_out(alert: Alert) -> s.AlertOut:
    return s.AlertOut(
        order_id=alert.order_id,
        number=alert.number,
        kind=alert.kind,
        at=alert.at,
        note=alert.note,
        priority=alert.priority,
        status=alert.status,
    )


def kpi_out(row: KpiRow, crews: dict[Any, CrewRef]) -> s.KpiRowOut:
    return s.KpiRowOut(
        day=row.day,
        crew=crew_out(crews.get(row.crew_id)) if row.crew_id is not None else None,
        orders=row.orders,
        responded=row.responded,
        mean_response_s=row.mean_response_s,
        restored=row.restored,
        mean_restore_s=row.mean_restore_s,
        sla_judged=row.sla_judged,
        sla_met=row.sla_met,
        sla_share=row.sla_share,
        first_fix_judged=row.first_fix_judged,
        first_time_fixes=row.first_time_fixes,
        first_time_fix_share=row.first_time_fix_share,
    )
