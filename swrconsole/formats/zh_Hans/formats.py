# One date format everywhere, console and admin alike: ISO order (unambiguous in English and
# Chinese), 24-hour clock, and the time zone it is in (times are shown in TIME_ZONE, UTC).
DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
