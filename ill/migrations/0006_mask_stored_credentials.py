"""Mask the credentials partners sent in the messages already stored (issue 13, point 7):
the message log is readable by every staff role. New messages are masked before storing
(`ill.inbound.endpoint.mask_credentials`, of which this is a frozen copy)."""

import re

from django.db import migrations

_CREDENTIAL = re.compile(r"<((?:[\w.-]+:)?(?:accountId|securityCode))(?:\s[^<>]*)?>")
MASK = "********"


def mask_credentials(text: str) -> str:
    parts, pos = [], 0
    for match in _CREDENTIAL.finditer(text):
        if match.start() < pos:
            continue
        start = match.end()
        end = text.find(f"</{match.group(1)}", start, start + 256)
        if end < 0:
            end = text.find("<", start)
            end = len(text) if end < 0 or text.startswith("<![CDATA[", end) else end
        parts += [text[pos:start], MASK]
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def mask(apps, schema_editor):
    IsoMessage = apps.get_model("ill", "IsoMessage")
    rows = (IsoMessage.objects.filter(direction="in", raw__contains="securityCode")
            | IsoMessage.objects.filter(direction="in", raw__contains="accountId"))
    for pk, raw in rows.values_list("pk", "raw").iterator(chunk_size=500):
        masked = mask_credentials(raw)
        if masked != raw:
            IsoMessage.objects.filter(pk=pk).update(raw=masked)


class Migration(migrations.Migration):
    dependencies = [("ill", "0005_source_api")]

    operations = [migrations.RunPython(mask, migrations.RunPython.noop, elidable=True)]
