"""The shapes a registry login is handed out in: docker and helm commands, a Docker
config.json, a Kubernetes image-pull Secret, and the long-term credential's CSV file.

Plain text only (no Django, no HTTP): the views, the upstream client and the built-in SWR API
all format logins through here, so each shape is written once.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import TYPE_CHECKING

from credentials.timestamps import utc_iso

if TYPE_CHECKING:
    from credentials.models import AccessKey, LongTermCredential

# Huawei's "My Credentials › Access Keys" download, column for column.
ACCESS_KEY_CSV_HEADER = ("User Name", "Access Key Id", "Secret Access Key")

LONG_TERM_CSV_HEADER = (
    "Credential Name",
    "Username",
    "Password",
    "Registry",
    "Login Command",
    "Created At",
    "Expires At",
)


def docker_command(username: str, password: str, host: str) -> str:
    return f"docker login -u {username} -p {password} {host}"


def helm_command(username: str, password: str, host: str) -> str:
    return f"helm registry login {host} --username {username} --password {password}"


def basic_auth(username: str, password: str) -> str:
    """The `auth` value of a Docker config.json entry: base64 of `username:password`."""
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def docker_config(username: str, password: str, host: str) -> str:
    """The login as `docker login` writes it to ~/.docker/config.json: an `auths` entry with
    `auth`, indented with tabs (Go's json.MarshalIndent); podman and skopeo write the same."""
    return json.dumps({"auths": {host: {"auth": basic_auth(username, password)}}}, indent="\t")


def dockerconfigjson(username: str, password: str, host: str) -> str:
    """What `kubectl create secret docker-registry` stores as `.dockerconfigjson`: compact
    JSON whose entry carries `username`, `password` and `auth`, in that order."""
    entry = {"username": username, "password": password, "auth": basic_auth(username, password)}
    return json.dumps({"auths": {host: entry}}, separators=(",", ":"))


def kubernetes_secret(name: str, username: str, password: str, host: str) -> str:
    """The login as the image-pull Secret `kubectl create secret docker-registry NAME
    --docker-server=HOST --docker-username=U --docker-password=P` creates, in the layout of
    its `--dry-run=client -o yaml`."""
    encoded = base64.b64encode(dockerconfigjson(username, password, host).encode()).decode()
    return (
        "apiVersion: v1\n"
        "data:\n"
        f"  .dockerconfigjson: {encoded}\n"
        "kind: Secret\n"
        "metadata:\n"
        f"  name: {name}\n"
        "type: kubernetes.io/dockerconfigjson\n"
    )


def long_term_csv(credential: LongTermCredential, password: str) -> str:
    """The file a new long-term credential is downloaded as: a header and its one row."""
    address = credential.registry.address
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(LONG_TERM_CSV_HEADER)
    writer.writerow(
        [
            credential.name,
            credential.username,
            password,
            address,
            docker_command(credential.username, password, address),
            utc_iso(credential.created_at),
            # Empty when it never expires.
            utc_iso(credential.expires_at) if credential.expires_at else "",
        ]
    )
    return buffer.getvalue()


def access_key_csv(username: str, key: AccessKey, secret_key: str) -> str:
    """credentials.csv as Huawei's console downloads it: UTF-8 with a byte-order mark (so
    spreadsheet programs read it as UTF-8), the header and the key's one row."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(ACCESS_KEY_CSV_HEADER)
    writer.writerow([username, key.access_key_id, secret_key])
    return buffer.getvalue()
