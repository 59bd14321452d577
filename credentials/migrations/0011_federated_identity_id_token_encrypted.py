"""The ID token kept for signing out at the provider is encrypted at rest, as the refresh
token beside it is (ACCESS_KEY_ENCRYPTION_KEYS); one stored in clear by 0010 is encrypted."""

from django.db import migrations


def encrypt_stored(apps, schema_editor):
    from credentials.models.access_keys import decrypt_secret, encrypt_secret

    identities = apps.get_model("credentials", "FederatedIdentity")
    rows = identities.objects.using(schema_editor.connection.alias).exclude(id_token_ciphertext="")
    for identity in rows.iterator():
        if decrypt_secret(identity.id_token_ciphertext) is None:  # still the token itself
            identity.id_token_ciphertext = encrypt_secret(identity.id_token_ciphertext)
            identity.save(update_fields=["id_token_ciphertext"])


class Migration(migrations.Migration):
    dependencies = [("credentials", "0010_oidc_federated_identities")]

    operations = [
        migrations.RenameField("federatedidentity", "id_token", "id_token_ciphertext"),
        migrations.RunPython(encrypt_stored, migrations.RunPython.noop),
    ]
