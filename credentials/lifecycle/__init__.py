"""The scheduled side of expiry (`manage.py send_credential_reminders`): schedule decides who is
reminded when and which unused credentials are disabled; notifications sends the e-mails."""
