"""Object-store settings for an index at s3://, gs:// or az://.

Credentials and the endpoint reach lance the two ways lance itself takes them: from the
environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL,
AWS_ALLOW_HTTP, GOOGLE_SERVICE_ACCOUNT, AZURE_STORAGE_ACCOUNT_NAME, ...), which lance reads on
its own, or as storage options, a JSON object in $EVOSEARCH_STORAGE_OPTIONS that is passed to
every lancedb.connect and lance.dataset call (keys as lance documents them: "endpoint",
"aws_access_key_id", "allow_http", ...). Options win over the environment, as in lance.

Concurrent commits: lance commits a new version by writing its manifest with a conditional
put (create only if absent), which S3, GCS and Azure honour, so two machines committing at once
never overwrite each other's version; the loser re-reads and retries. docs/teams.md says what
that does and does not cover.
"""

from __future__ import annotations

import json
import os

from .config import is_local_uri
from .errors import EvosearchError

STORAGE_OPTIONS_ENV = "EVOSEARCH_STORAGE_OPTIONS"


def storage_options(uri: str) -> dict[str, str] | None:
    """The storage options for uri: None for a local index or when none are set."""
    if is_local_uri(uri):
        return None
    raw = os.environ.get(STORAGE_OPTIONS_ENV, "").strip()
    if not raw:
        return None
    try:
        options = json.loads(raw)
    except json.JSONDecodeError as e:
        raise EvosearchError(
            f"${STORAGE_OPTIONS_ENV} is not JSON: {e}", 'set it to an object such as {"endpoint": "http://host:9000"}'
        ) from e
    if not isinstance(options, dict):
        raise EvosearchError(f"${STORAGE_OPTIONS_ENV} must be a JSON object", 'for example {"endpoint": "http://host:9000"}')
    return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in options.items()}
