# English as Nordic libraries read it: short dates are ISO 8601 (2026-12-03), never the
# American 12/03/2026 that Django's default English would print beside Finnish colleagues'.
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
