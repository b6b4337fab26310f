"""An iCalendar (RFC 5545) event for a commission convocation, attached to the e-mail."""

import datetime

from django.conf import settings
from django.utils import timezone


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded (RFC 5545 §3.1)."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts, current = [], b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += encoded
    parts.append(current.decode())
    return "\r\n ".join(parts)


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def commission_event(*, uid: str, commission, summary: str, description: str,
                     sequence: int = 0, method: str = "REQUEST") -> bytes:
    tz = timezone.get_default_timezone()
    start = datetime.datetime.combine(commission.date, commission.start_time, tzinfo=tz)
    end_time = commission.end_time or (start + datetime.timedelta(hours=4)).time()
    end = datetime.datetime.combine(commission.date, end_time, tzinfo=tz)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//UIMM Certifications//Commissions//FR",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{_utc(timezone.now())}",
        f"DTSTART:{_utc(start)}",
        f"DTEND:{_utc(end)}",
        f"SEQUENCE:{sequence}",
        f"SUMMARY:{_escape(summary)}",
        f"LOCATION:{_escape(commission.location_label)}",
        f"DESCRIPTION:{_escape(description)}",
        f"ORGANIZER:mailto:{settings.DEFAULT_FROM_EMAIL}",
        "STATUS:CONFIRMED",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()
