"""Huawei's own API, served by the console so the official SDKs, Terraform and curl drive it.

- signing.py: SDK-HMAC-SHA256 (AK/SK) signatures, rebuilt as huaweicloudsdkcore signs them;
- identity.py: who calls (X-Auth-Token or access key), refusals audited and throttled;
- dispatch.py, errors.py: one view per method, every answer JSON in Huawei's error shape;
- iam.py: IAM tokens; swr.py: SWR login commands; enterprise.py: SWR Enterprise credentials;
- namespaces.py: organizations; namespace_auth.py: their permissions and their repositories';
- urls.py: the documented paths, and a JSON 404 for any other under /v2 and /v3.
"""
